"""SST-2 from scratch, one model against an ensemble of them (`nlpkit sentiment ensemble`), with
TF-IDF + logistic regression and spaCy's text classifier in the same run.

    python bench/sst2_ensemble.py [--steps 2000] [--plan seeds|mixed] [--no-spacy]

Every member is the from-scratch recipe (bench/recipes/sst2-scratch.toml) trained for a fixed
number of optimizer steps (so that the result does not depend on the machine's speed; the
kept model is the best on the dev set), with its own seed; plan `mixed` varies the encoder and
pooling as well. The plans were fixed before any of their ensembles was scored on test. The
ensembles are all members of a plan averaged; no member is chosen by its test score.
"""

import argparse
import json
import os
import sys
from pathlib import Path

from common import WORK, machine, recipe, run, write
from sst2 import prepare, spacy, tfidf

SCRATCH = recipe("sst2-scratch")
SEEDS = [(f"seed{s}", ["--seed", str(s)]) for s in range(1, 6)]
MIXED = [
    ("gru-seed6", ["--seed", "6", "--encoder", "gru"]),
    ("wide-seed7", ["--seed", "7", "--embed", "300", "--hidden", "300"]),
    ("maxmean-seed8", ["--seed", "8", "--pooling", "max,mean"]),
    ("attention-seed9", ["--seed", "9", "--pooling", "attention,max"]),
]
PLANS = {"seeds": SEEDS, "mixed": SEEDS + MIXED}


def evaluate(model: Path, test: Path) -> dict:
    return json.loads(run(["nlpkit", "sentiment", "eval", str(model), str(test), "--format", "json"])["stdout"])


def member(name: str, flags: list[str], steps: int, train, dev, test) -> dict:
    out, metrics = WORK / "sst2-ensemble" / f"{name}.nlpk", WORK / "sst2-ensemble" / f"{name}.json"
    cmd = ["nlpkit", "sentiment", "train", str(train), "--valid", str(dev), *SCRATCH, "--max-steps", str(steps)]
    cmd += [*flags, "--device", "cpu", "--out", str(out), "--metrics-out", str(metrics)]
    trained = run(cmd, WORK / "logs" / f"sst2-ensemble-{name}.log")
    m = json.loads(metrics.read_text())
    return {
        "model": str(out),
        "accuracy": round(evaluate(out, test)["accuracy"], 4),
        "dev_accuracy": round(evaluate(out, dev)["accuracy"], 4),
        "train_s": trained["wall_s"],
        "best_step": m["train"]["best_step"],
        "command": " ".join(cmd),
    }


def ensemble(name: str, members: dict, dev, test, test_texts: Path) -> dict:
    out = WORK / "sst2-ensemble" / f"{name}.nlpk"
    cmd = ["nlpkit", "sentiment", "ensemble", *(m["model"] for m in members.values()), "--out", str(out)]
    run(cmd)
    predicted = run(["nlpkit", "sentiment", "predict", str(out), str(test_texts)])
    lines = len(predicted["stdout"].splitlines())
    return {
        "members": list(members),
        "accuracy": round(evaluate(out, test)["accuracy"], 4),
        "dev_accuracy": round(evaluate(out, dev)["accuracy"], 4),
        "train_s": round(sum(m["train_s"] for m in members.values()), 1),
        "sentences_per_s": round(lines / predicted["wall_s"]),
        "command": " ".join(cmd),
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=2000, help="optimizer steps of each member (2000: 9.2 epochs)")
    p.add_argument("--plan", choices=PLANS, default="mixed", help="seeds: 5 seeds; mixed: those and 4 varied")
    p.add_argument("--no-spacy", action="store_true")
    args = p.parse_args()
    (WORK / "sst2-ensemble").mkdir(parents=True, exist_ok=True)
    train, dev, test, train_rows, test_rows, test_texts = prepare(copies=2)
    record = {"benchmark": "sst2-ensemble", "machine": machine(), "steps": args.steps, "plan": args.plan, "runs": {}}
    record["load_before"] = [round(x, 2) for x in os.getloadavg()]
    record["runs"].update(tfidf(train_rows, test_rows))
    if not args.no_spacy:
        record["runs"].update(spacy(WORK / "sst2.train.tsv", WORK / "sst2.dev.tsv", WORK / "sst2.test.tsv", 600))
    members = {name: member(name, flags, args.steps, train, dev, test) for name, flags in PLANS[args.plan]}
    single = members["seed1"]
    predicted = run(["nlpkit", "sentiment", "predict", single["model"], str(test_texts)])
    single["sentences_per_s"] = round(len(predicted["stdout"].splitlines()) / predicted["wall_s"])
    record["members"] = members
    record["runs"]["nlpkit-bilstm-scratch (seed 1)"] = single
    record["runs"]["nlpkit-ensemble-5-seeds"] = ensemble(
        "seeds", {k: members[k] for k, _ in SEEDS}, dev, test, test_texts
    )
    if args.plan == "mixed":
        record["runs"]["nlpkit-ensemble-9-mixed"] = ensemble("mixed", members, dev, test, test_texts)
    record["load_after"] = [round(x, 2) for x in os.getloadavg()]
    render(record)


def render(record: dict) -> None:
    m = record["machine"]
    accs = [r["accuracy"] for r in record["members"].values()]
    lines = [
        "# SST-2 from scratch: one model against an ensemble (sst2-ensemble)",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']}, {m['date']}. "
        f"Command: `python bench/sst2_ensemble.py {' '.join(sys.argv[1:])}`. Each member: {record['steps']:,} "
        "optimizer steps, kept by dev accuracy; an ensemble's training time is the sum of its members'.",
        "",
        "| system | test accuracy | dev accuracy | training time (s) | prediction (sentences/s) |",
        "|---|---:|---:|---:|---:|",
    ]
    for key, r in record["runs"].items():
        dev = f"{100 * r['dev_accuracy']:.2f}%" if "dev_accuracy" in r else ""
        speed = f"{r['sentences_per_s']:,}" if "sentences_per_s" in r else ""
        lines.append(f"| {key} | {100 * r['accuracy']:.2f}% | {dev} | {r['train_s']:.1f} | {speed} |")
    lines += ["", "Members:", "", "| member | test accuracy | dev accuracy | best step | training time (s) |"]
    lines += ["|---|---:|---:|---:|---:|"]
    for name, r in record["members"].items():
        lines.append(
            f"| {name} | {100 * r['accuracy']:.2f}% | {100 * r['dev_accuracy']:.2f}% | {r['best_step']:,} | {r['train_s']:.1f} |"
        )
    lines += [
        "",
        "Load (1/5/15-minute averages): {} before the run, {} at its end (the run itself).".format(
            *(" / ".join(map(str, record[k])) for k in ("load_before", "load_after"))
        )
        + (f" {record['note']}" if record.get("note") else ""),
        "",
        f"Members alone: {100 * min(accs):.2f}-{100 * max(accs):.2f}% (mean {100 * sum(accs) / len(accs):.2f}%).",
        "Prediction speed: `nlpkit sentiment predict MODEL` over the test sentences twice, wall time of the "
        "whole command (start-up included).",
        "",
        "Commands:",
        "",
    ]
    lines += [f"- {k}: `{r['command']}`" for k, r in {**record["runs"], **record["members"]}.items()]
    write("sst2-ensemble", record, "\n".join(lines))


if __name__ == "__main__":
    main()
