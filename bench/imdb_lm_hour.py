"""How much of the IMDB review text the fast language-model recipe covers in a real pretraining
run (issue 12 asks for at least two epochs in 60 minutes), rather than a rate projected from
short trials.

    python bench/imdb_lm_hour.py [--budget 60m] [--direction forward|backward]

The text is the 50,000 IMDB reviews in SST-2's spelling (bench/imdb_lm_text.py, made on first
use); the recipe is bench/recipes/imdb-lm-fast.toml. Results: bench/results/imdb-lm-hour.{md,json}.
"""

import argparse
import json
import os
import sys

from common import WORK, machine, recipe, run, write
from sst2 import imdb_text


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--budget", default="60m")
    p.add_argument("--direction", choices=("forward", "backward"), default="forward")
    args = p.parse_args()
    (WORK / "logs").mkdir(parents=True, exist_ok=True)
    text = imdb_text()
    words = sum(len(line.split()) + 1 for line in text.open(encoding="utf-8"))  # +1: the end of each line
    out, metrics = WORK / f"imdb-lm-hour-{args.direction}.nlpk", WORK / f"imdb-lm-hour-{args.direction}.json"
    cmd = ["nlpkit", "lm", "train", str(text), *recipe("imdb-lm-fast"), "--direction", args.direction]
    cmd += ["--time-budget", args.budget, "--device", "cpu", "--out", str(out), "--metrics-out", str(metrics)]
    record = {"benchmark": "imdb-lm-hour", "machine": machine(), "budget": args.budget, "text_tokens": words}
    record["load_before"] = [round(x, 2) for x in os.getloadavg()]
    done = run(cmd, WORK / "logs" / f"imdb-lm-hour-{args.direction}.log")
    record["load_after"] = [round(x, 2) for x in os.getloadavg()]
    m = json.loads(metrics.read_text())
    record["run"] = {
        "command": " ".join(cmd),
        "wall_s": done["wall_s"],
        "train_s": m["train"]["seconds"],
        "steps": m["train"]["steps"],
        "epochs": m["train"]["epochs"],
        "tokens_per_s": m["train"]["tokens_per_s"],
        "valid_ppl": m["valid"].get("valid_ppl"),
    }
    render(record)


def render(record: dict) -> None:
    m, r = record["machine"], record["run"]
    lines = [
        "# IMDB language model: epochs covered in one pretraining run (imdb-lm-hour)",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']}, {m['date']}. "
        f"Command: `python bench/imdb_lm_hour.py {' '.join(sys.argv[1:])}`, which ran `{r['command']}`.",
        "Load (1/5/15-minute averages): {} before, {} after (the run itself).".format(
            *(" / ".join(map(str, record[k])) for k in ("load_before", "load_after"))
        )
        + (f" {record['note']}" if record.get("note") else ""),
        "",
        "| budget | training time (s) | steps | epochs of the IMDB text | tokens/s | valid perplexity |",
        "|---|---:|---:|---:|---:|---:|",
        f"| {record['budget']} | {r['train_s']:,.0f} | {r['steps']:,} | {r['epochs']:.3f} | {r['tokens_per_s']:,.0f} "
        f"| {r['valid_ppl']} |",
        "",
        f"The text: {record['text_tokens']:,} tokens (words and line ends), the 50,000 IMDB reviews in SST-2's "
        "spelling, 0.5% held out for validation.",
    ]
    write("imdb-lm-hour", record, "\n".join(lines))


if __name__ == "__main__":
    main()
