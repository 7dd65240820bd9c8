"""How much a line's result depends on the lines that share its batch: each line predicted inside
the whole input (length-sorted batches), alone (a batch of one), and in the 4 shards of
`--shard K/4`, for float32 and int8, sentiment probabilities and lm scores.

    python bench/batch_invariance.py --sentiment S.nlpk --lm LM.nlpk --text FILE [--lines 1000]

Writes bench/results/batch-invariance.{json,md}. Not a timing: it may run beside other work.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import nlpkit

RESULTS = Path(__file__).parent / "results"


def shards(lines: list[str], n: int = 4) -> list[list[str]]:
    """Contiguous parts by line count, as --shard K/N cuts a file whose lines are the same size."""
    return [lines[k * len(lines) // n : (k + 1) * len(lines) // n] for k in range(n)]


def sentiment_rows(model, lines: list[str]) -> dict:
    whole = list(model.predict(lines))
    alone = [next(iter(model.predict([line]))) for line in lines]
    parts = [r for part in shards(lines) for r in model.predict(part)]
    out = {}
    for name, other in (("alone", alone), ("shards", parts)):
        diffs = [max(abs(a["probs"][k] - b["probs"][k]) for k in a["probs"]) for a, b in zip(whole, other, strict=True)]
        out[name] = {
            "max_prob_difference": max(diffs),
            "lines_that_differ": sum(d > 0 for d in diffs),
            "labels_that_flip": sum(a["label"] != b["label"] for a, b in zip(whole, other, strict=True)),
        }
    return out


def lm_rows(model, lines: list[str]) -> dict:
    whole = [r["loglik"] for r in model.predict(lines)]
    alone = [next(iter(model.predict([line])))["loglik"] for line in lines]
    parts = [r["loglik"] for part in shards(lines) for r in model.predict(part)]
    out = {}
    for name, other in (("alone", alone), ("shards", parts)):
        diffs = [abs(a - b) for a, b in zip(whole, other, strict=True)]
        relative = [d / max(abs(a), 1e-9) for d, a in zip(diffs, whole, strict=True)]
        out[name] = {
            "max_loglik_difference": max(diffs),
            "max_relative_difference": max(relative),
            "lines_that_differ": sum(d > 0 for d in diffs),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentiment", required=True)
    ap.add_argument("--lm", required=True)
    ap.add_argument("--text", required=True, help="one text a line")
    ap.add_argument("--lines", type=int, default=1000)
    args = ap.parse_args()
    lines = Path(args.text).read_text(encoding="utf-8").splitlines()[: args.lines]
    started = time.time()
    found = {}
    for quantize in ("none", "int8"):
        sentiment = nlpkit.load(args.sentiment, device="cpu", threads=2, quantize=quantize, runtime="torch")
        lm = nlpkit.load(args.lm, device="cpu", threads=2, quantize=quantize, runtime="torch")
        found[quantize] = {"sentiment": sentiment_rows(sentiment, lines), "lm": lm_rows(lm, lines)}
    record = {
        "command": "python bench/batch_invariance.py " + " ".join(f"--{k} {v}" for k, v in vars(args).items()),
        "machine": f"{platform.processor() or platform.machine()}, {platform.system()}",
        "date": time.strftime("%Y-%m-%d"),
        "lines": len(lines),
        "seconds": round(time.time() - started, 1),
        "results": found,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "batch-invariance.json").write_text(json.dumps(record, indent=2) + "\n")
    rows = [
        "| weights | task | compared with the whole input | largest difference | lines that differ | labels that flip |"
    ]
    rows.append("|---|---|---|---|---|---|")
    for quantize, tasks in found.items():
        for task, comparisons in tasks.items():
            for name, r in comparisons.items():
                largest = r.get("max_prob_difference", r.get("max_loglik_difference"))
                unit = "probability" if task == "sentiment" else "nats of log-likelihood"
                flips = r.get("labels_that_flip", "-")
                rows.append(
                    f"| {quantize if quantize == 'int8' else 'float32'} | {task} | {name} | {largest:.3g} {unit} "
                    f"| {r['lines_that_differ']} of {len(lines)} | {flips} |"
                )
    (RESULTS / "batch-invariance.md").write_text(
        f"# Results that depend on batching\n\n`{record['command']}`, {record['date']}, {record['machine']}; "
        f"{record['seconds']} s.\n\n" + "\n".join(rows) + "\n"
    )
    print("\n".join(rows))


if __name__ == "__main__":
    main()
