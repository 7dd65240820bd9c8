"""The one encoder-config rule (EncoderConfig.from_options) against the rule the NER task had
before it: a one-layer Transformer tagger on CoNLL-2003 used to get no dropout inside its block
(NER dropped `--dropout` for every one-layer encoder); it now gets it, as sentiment and
translation always gave it. The configuration this changes most, trained for a fixed number of
steps (so the figure does not depend on the machine's load), from an earlier commit's checkout
and from this one; test micro F1 (seqeval) of each.

    python bench/encoder_dropout.py --before /tmp/nlpkit-before [--steps 3000]

(`git worktree add /tmp/nlpkit-before <commit>` makes the earlier checkout.)
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from common import ROOT, SHARED, WORK, machine, need, run, write

FLAGS = ["--encoder", "transformer", "--layers", "1", "--hidden", "128", "--heads", "4", "--embed", "100",
         "--dropout", "0.3", "--batch-size", "32", "--lr", "1e-3", "--seed", "0", "--device", "cpu"]  # fmt: skip


def tagger_f1(label: str, checkout: Path, steps: int) -> dict:
    conll = SHARED / "conll2003"
    out = WORK / f"encoder-dropout-{label}.nlpk"
    nlpkit = [sys.executable, "-m", "nlpkit"]
    os.chdir(checkout)  # `python -m nlpkit` imports the package of the folder it starts in, before the installed one
    train = [*nlpkit, "ner", "train", str(need(conll / "train.txt")), "--valid", str(conll / "valid.txt"),
             *FLAGS, "--max-steps", str(steps), "--eval-every", str(steps // 3), "--out", str(out), "--quiet"]  # fmt: skip
    trained = run(train, WORK / f"encoder-dropout-{label}.log")
    scores = json.loads(run([*nlpkit, "ner", "eval", str(out), str(conll / "test.txt"), "--format", "json"])["stdout"])
    info = json.loads(run([*nlpkit, "info", str(out), "--format", "json"])["stdout"])
    commit = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return {
        "rule": label,
        "commit": commit.stdout.strip(),
        "encoder_dropout": info["model"]["encoder"]["dropout"],
        "test_f1": round(scores["f1"], 4),
        "valid_f1": info["metrics"].get("valid", {}).get("valid_f1"),
        "train_s": trained["wall_s"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, type=Path, help="a checkout of the commit before the rule")
    parser.add_argument("--steps", type=int, default=3000)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    rows = [tagger_f1("before", args.before, args.steps), tagger_f1("one rule", ROOT, args.steps)]
    result = {"machine": machine(), "steps": args.steps, "flags": FLAGS, "rows": rows}
    lines = [
        "# One encoder rule: a one-layer Transformer tagger on CoNLL-2003",
        "",
        f"`python bench/encoder_dropout.py --before CHECKOUT --steps {args.steps}`; flags: `{' '.join(FLAGS)}`;",
        f"{result['machine']['cpu']}, torch {result['machine']['torch']}, {result['machine']['date']}.",
        "A fixed number of steps, so load does not move the figures (other work ran beside it).",
        "",
        "| rule | commit | dropout in the block | valid F1 | test F1 | training s |",
        "|---|---|---|---|---|---|",
        *(
            f"| {r['rule']} | {r['commit']} | {r['encoder_dropout']} | {r['valid_f1']} | {r['test_f1']} | {r['train_s']} |"
            for r in rows
        ),
    ]
    write("encoder-dropout", result, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
