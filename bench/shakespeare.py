"""Tiny Shakespeare, character level: validation loss (nats/char) within a wall-clock budget,
LSTM and Transformer side by side. The last 10% of the characters are the validation set,
as in nanoGPT's shakespeare_char.

    python bench/shakespeare.py --budget 10m [--only lstm|transformer]
"""

import argparse
import json
import sys

from common import ROOT, SHARED, WORK, machine, need, recipe, run, write

RECIPES = {"lstm": recipe("shakespeare-lstm"), "transformer": recipe("shakespeare-transformer")}
# run only when asked (--only): the peer's settings in nlpkit
EXTRA = {"transformer-nanogpt": recipe("shakespeare-transformer-nanogpt")}


def split() -> tuple:
    text = need(SHARED / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8")
    cut = int(len(text) * 0.9)
    WORK.mkdir(parents=True, exist_ok=True)
    train, valid = WORK / "shakespeare.train.txt", WORK / "shakespeare.valid.txt"
    # Cut at a character like nanoGPT; our reader works in lines, so the cut line is split in two.
    train.write_text(text[:cut] + "\n", encoding="utf-8")
    valid.write_text(text[cut:], encoding="utf-8")
    return train, valid


def peers(budget: str) -> dict:
    """nanoGPT's published CPU command (2,000 iterations), and the same model for the budget."""
    import subprocess
    import sys

    from nlpkit.option_parsing import parse_duration

    script, text = str(ROOT / "bench" / "peers" / "nanogpt_char.py"), str(SHARED / "tinyshakespeare" / "input.txt")
    found = {}
    for name, extra in (
        ("published (2,000 iterations)", []),
        (f"{budget} budget", ["--budget", str(parse_duration(budget))]),
    ):
        cmd = [sys.executable, script, text, *extra]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        found[name] = {**json.loads(out.splitlines()[-1]), "command": " ".join(cmd[1:]).replace(str(ROOT) + "/", "")}
    return found


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--budget", default="10m")
    p.add_argument("--only", choices=[*RECIPES, *EXTRA])
    p.add_argument("--eval-every", default="500")
    p.add_argument("--tag", default="", help="suffix for the result files")
    p.add_argument("--peer", action="store_true", help="also run nanoGPT's CPU recipe (bench/peers/nanogpt_char.py)")
    args = p.parse_args()
    train, valid = split()
    rows, record = [], {"benchmark": f"shakespeare-char-{args.budget}", "machine": machine(), "runs": {}}
    for name, flags in {**RECIPES, **EXTRA}.items():
        if (args.only and name != args.only) or (not args.only and name in EXTRA):
            continue
        model, metrics = WORK / f"shakespeare-{name}.nlpk", WORK / f"shakespeare-{name}.json"
        cmd = [
            "nlpkit",
            "lm",
            "train",
            str(train),
            "--valid",
            str(valid),
            "--tokenizer",
            "char",
            *flags,
            "--time-budget",
            args.budget,
            "--eval-every",
            args.eval_every,
            "--metrics-out",
            str(metrics),
            "--out",
            str(model),
        ]
        out = run(cmd, WORK / f"shakespeare-{name}.log")
        m = json.loads(metrics.read_text())
        sample = run(
            ["nlpkit", "generate", str(model), "--prompt", "ROMEO:", "-n", "200", "--temperature", "0.8", "--seed", "1"]
        )["stdout"]
        record["runs"][name] = {
            "command": " ".join(cmd).replace(str(WORK) + "/", ""),
            "train": m["train"],
            "valid": m["valid"],
            "peak_rss_mib": out["peak_rss_mib_so_far"],
            "sample": sample,
        }
        t = m["train"]
        rows.append(
            f"| {name} | {m['valid']['valid_loss']:.4f} | {t['steps']:,} | {t['epochs']} | {t['tokens_per_s']:,.0f} | "
            f"{t['seconds']:.0f} |"
        )
    peer_md = ""
    if args.peer:
        record["peer"] = peers(args.budget)
        peer_md = "\n\n## Peer: nanoGPT's CPU recipe, same machine, same run\n\n" + "\n".join(
            f"- {name}: `{r['command']}`: **valid {r['valid_loss']:.4f}** nats/char, {r['iters']:,} iterations in "
            f"{r['train_seconds']:.0f} s, {r['tokens_per_s']:,.0f} tokens/s\n```\n{r['sample'].strip()}\n```"
            for name, r in record["peer"].items()
        )
    md = (
        f"""# Tiny Shakespeare, character level, {args.budget} budget per model

Measured {record["machine"]["date"]} on {record["machine"]["cpu"]}, {record["machine"]["cores"]} cores, torch {record["machine"]["torch"]}.
Command: `python bench/shakespeare.py {" ".join(sys.argv[1:])}`; train = first 90% of input.txt,
validation = last 10%. Target (issue 26): validation loss <= 1.55 nats/char in 10 minutes (aim 1.50).

| encoder | best valid loss (nats/char) | steps | epochs | train tokens/s | seconds |
|---|---:|---:|---:|---:|---:|
"""
        + "\n".join(rows)
        + "\n\nRecipes:\n\n"
        + "\n".join(f"- {n}: `{r['command']}`" for n, r in record["runs"].items())
        + "\n\nSamples (`--prompt ROMEO: -n 200 --temperature 0.8 --seed 1`):\n\n"
        + "\n".join(f"{n}:\n```\n{r['sample'].strip()}\n```" for n, r in record["runs"].items())
        + peer_md
    )
    write(f"shakespeare-char-{args.tag}" if args.tag else "shakespeare-char", record, md)


if __name__ == "__main__":
    main()
