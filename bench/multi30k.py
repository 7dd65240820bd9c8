"""Multi30k translation (../shared/data/multi30k, test_2016_flickr): train an nlpkit model for a
wall-clock budget, score it with sacreBLEU (detokenized, cased; beam 5 and greedy), and time
translation in sentences/s, greedy and beam 5, at batch 1 and batch 64.

    python bench/multi30k.py --pair de-en --model transformer --budget 35m
    python bench/multi30k.py --pair de-en --model gru --budget 25m

Each run adds (or replaces) its row in bench/results/multi30k.json and .md. Batch-1 speed is
measured on the first 200 test sentences (the full set takes minutes at batch 1); batch-64
speed on all 1,000. Published references (GPU, 10 epochs, torchtext BLEU on tokenized text, so
not directly comparable): GRU with attention 28.1, Transformer 36.5 (bentrevett/pytorch-seq2seq).
"""

import argparse
import json
import sys
from pathlib import Path

from common import RESULTS, SHARED, WORK, machine, need, recipe, run, write

RECIPES = {"transformer": recipe("multi30k-transformer"), "gru": recipe("multi30k-gru")}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--pair", default="de-en", help="source-target, from de, en, fr")
    p.add_argument("--model", choices=sorted(RECIPES), default="transformer")
    p.add_argument("--budget", default="35m")
    p.add_argument("--eval-every", default="400")
    p.add_argument("--tag", default="", help="suffix of the run's name (a recipe trial beside the standard row)")
    p.add_argument("--flags", default="", help="extra training flags after the recipe's (they override it)")
    p.add_argument("--no-speed", action="store_true", help="skip the speed timings (runs side by side: not idle)")
    p.add_argument("--results", default="multi30k", help="result file name in bench/results (trials: their own)")
    p.add_argument(
        "--sweep",
        default="0,0.6,1,1.5,2,3",
        help="length penalties tried on the validation set (beam 5); the best scores test",
    )
    p.add_argument(
        "--speed-only", action="store_true", help="re-time the model already trained (no training) and update its row"
    )
    args = p.parse_args()
    src_lang, tgt_lang = args.pair.split("-")
    d = need(SHARED / "multi30k")
    name = f"multi30k-{args.pair}-{args.model}" + (f"-{args.tag}" if args.tag else "")
    model = WORK / f"{name}.nlpk"
    metrics = WORK / f"{name}.json"
    (WORK / "logs").mkdir(parents=True, exist_ok=True)
    cmd = [
        "nlpkit",
        "translate",
        "train",
        "--src",
        str(d / f"train.{src_lang}"),
        "--tgt",
        str(d / f"train.{tgt_lang}"),
        "--valid-src",
        str(d / f"val.{src_lang}"),
        "--valid-tgt",
        str(d / f"val.{tgt_lang}"),
        *RECIPES[args.model],
        *args.flags.split(),
        "--eval-every",
        args.eval_every,
        "--time-budget",
        args.budget,
        "--device",
        "cpu",
        "--out",
        str(model),
        "--metrics-out",
        str(metrics),
    ]
    path = RESULTS / f"{args.results}.json"
    if not args.speed_only:
        trained = run(cmd, WORK / "logs" / f"{name}.log")
    test_src, test_ref = d / f"test_2016_flickr.{src_lang}", d / f"test_2016_flickr.{tgt_lang}"
    head_src, head_ref = WORK / f"{name}.head200.src", WORK / f"{name}.head200.ref"
    head_src.write_text("".join(test_src.read_text(encoding="utf-8").splitlines(True)[:200]), encoding="utf-8")
    head_ref.write_text("".join(test_ref.read_text(encoding="utf-8").splitlines(True)[:200]), encoding="utf-8")

    def evaluate(src, ref, beam, batch, *extra):
        out = run(
            ["nlpkit", "translate", "eval", str(model), "--src", str(src), "--ref", str(ref), "--beam", str(beam)]
            + ["--batch-size", str(batch), "--format", "json", "--device", "cpu"]
            + ["--lowercase", "--tokenize", "intl", *extra]  # the variant beside the standard figure
        )
        return json.loads(out["stdout"])

    # the length penalty is chosen on the validation set, never on test
    sweep = evaluate(d / f"val.{src_lang}", d / f"val.{tgt_lang}", 5, 64, "--length-penalty-sweep", args.sweep)
    alpha = ["--length-penalty", str(sweep["best"])]

    beam5 = evaluate(test_src, test_ref, 5, 64, *alpha)
    greedy = evaluate(test_src, test_ref, 1, 64)
    speed = (
        {}
        if args.no_speed
        else {
            "greedy_batch64": greedy["sentences_per_s"],
            "beam5_batch64": beam5["sentences_per_s"],
            "greedy_batch1": evaluate(head_src, head_ref, 1, 1)["sentences_per_s"],
            "beam5_batch1": evaluate(head_src, head_ref, 5, 1, *alpha)["sentences_per_s"],
        }
    )
    # read just before writing: trials run side by side and each adds its own row
    record = json.loads(path.read_text()) if path.exists() else {"benchmark": args.results, "runs": {}}
    if args.speed_only:
        row = record["runs"][name]
        row.setdefault("earlier_sentences_per_s", []).append(row["sentences_per_s"])
        row.update({"sentences_per_s": speed, "bleu_beam5": beam5["bleu"], "bleu_greedy": greedy["bleu"]})
        row["speed_measured"] = machine()["date"]
    else:
        row = new_row(args, cmd, trained, beam5, greedy, speed, json.loads(metrics.read_text()))
        row["length_penalty"] = {"chosen": sweep["best"], "valid_sweep": sweep["sweep"]}
        row.update({"tag": args.tag, "flags": args.flags} if args.tag else {})
    record["runs"][name] = row
    render(record, args.results)


def new_row(args, cmd, trained, beam5, greedy, speed, m) -> dict:
    return {
        "pair": args.pair,
        "model": args.model,
        "budget": args.budget,
        "bleu_beam5": beam5["bleu"],
        "chrf_beam5": beam5["chrf"],
        "bleu_greedy": greedy["bleu"],
        "chrf_greedy": greedy["chrf"],
        "bleu_detail": beam5["bleu_detail"],
        "bleu_signature": beam5["bleu_signature"],
        "chrf_signature": beam5["chrf_signature"],
        "bleu_beam5_variant": beam5.get("bleu_variant"),
        "bleu_variant_signature": beam5.get("bleu_variant_signature"),
        "bleu_greedy_variant": greedy.get("bleu_variant"),
        "train_s": trained["wall_s"],
        "epochs": m["train"]["epochs"],
        "tokens_per_s": m["train"]["tokens_per_s"],
        "best_valid": m.get("valid", {}),
        "history": m["train"]["history"],
        "sentences_per_s": speed,
        "command": " ".join(cmd),
        "machine": machine(),
    }


def render(record: dict, results: str) -> None:
    lines = [
        "# Multi30k translation (test_2016_flickr)",
        "",
        "sacreBLEU on detokenized, cased output (signature below); one run per row, each with its own "
        "command (`python bench/multi30k.py ...`, see the JSON for the full training command and history).",
        "",
        "| run | budget | epochs | length penalty (valid) | BLEU beam 5 | BLEU beam 5, lower-cased intl | chrF beam 5 "
        "| BLEU greedy | BLEU greedy, lower-cased intl | kept valid BLEU (greedy) | greedy b1 / b64 (sent/s) "
        "| beam 5 b1 / b64 (sent/s) | machine, date |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in record["runs"].items():
        s = r["sentences_per_s"] or dict.fromkeys(
            ("greedy_batch1", "greedy_batch64", "beam5_batch1", "beam5_batch64"), "-"
        )
        alpha = r.get("length_penalty", {}).get("chosen", "0.6 (fixed)")
        lines.append(
            f"| {name} | {r['budget']} | {r['epochs']:g} | {alpha} | {r['bleu_beam5']:.2f} | "
            f"{r.get('bleu_beam5_variant') or 'not measured'} | {r['chrf_beam5']:.2f} | {r['bleu_greedy']:.2f} | "
            f"{r.get('bleu_greedy_variant') or 'not measured'} | {r['best_valid'].get('valid_bleu', float('nan')):.2f} | "
            f"{s['greedy_batch1']} / {s['greedy_batch64']} | {s['beam5_batch1']} / {s['beam5_batch64']} | "
            f"{r['machine']['cpu'].split(' Processor')[0]}, {r['machine']['date'][:10]} |"
        )
    first = next(iter(record["runs"].values()))
    mach = first["machine"]
    lines += [
        "",
        f"Machines: {', '.join(sorted({r['machine']['cpu'] for r in record['runs'].values()}))}; "
        f"{mach['cores']} cores, torch {mach['torch']} (each row's machine in the table, the full record in the JSON).",
        f"BLEU signature: `{first['bleu_signature']}`; chrF signature: `{first['chrf_signature']}`.",
        "Batch-1 speed on the first 200 test sentences, batch-64 speed on all 1,000 (model loading excluded).",
        "",
        "Commands:",
        "",
    ]
    for k, r in record["runs"].items():
        every = r["command"].split("--eval-every ")[1].split()[0]
        bench = f"python bench/multi30k.py --pair {r['pair']} --model {r['model']} --budget {r['budget']}"
        if r.get("tag"):
            bench += f" --tag {r['tag']} --flags '{r['flags']}'"
        if results != "multi30k":
            bench += f" --results {results} --no-speed"
        lines.append(f"- {k}: `{bench} --eval-every {every}` -> `{r['command']}`")
        if "speed_measured" in r:
            lines.append(
                f"  (speeds re-measured {r['speed_measured']} with `{bench} --speed-only`; earlier: "
                f"{r['earlier_sentences_per_s']})"
            )
    write(results, record, "\n".join(lines))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
