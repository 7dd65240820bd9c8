"""A tuned recipe against the others at the same final budget (issue 36), on Tiny Shakespeare,
character level: `nlpkit tune lm` searches with trials of the final budget, then each recipe
trains for that budget in the same session, one at a time: nlpkit's defaults (`--tokenizer char`
only), the hand recipe (bench/recipes/shakespeare-transformer-nanogpt.toml), the tuned recipe, and
the peer (nanoGPT's CPU recipe for the budget, bench/peers/nanogpt_char.py). nlpkit's rows are
scored by `lm eval` on the last 10% (windows overlapping by half), the peer's by its own scoring
of the same characters the same way.

    python bench/tune.py --final 5m --tune-budget 25m [--encoder transformer] [--space FILE]
        [--start-from RECIPE ...] [--prune-after SHARE]

Rows: `defaults-before` (`--budget-recipe off`: the plain defaults), `defaults` (the budget recipe
nlpkit now chooses), `hand`, `tuned`, `peer`. Trials validate once an epoch (about a minute here),
as the final runs do: a search that validates more often than the recipe it writes scores its
trials with less training than the repeat gets.
"""

import argparse
import json
import os
import sys
import time

from common import ROOT, SHARED, WORK, commands_and_recipe, machine, recipe, run, write

sys.path.insert(0, str(ROOT / "bench"))
from shakespeare import split  # noqa: E402 - the same train/valid cut as the other Shakespeare runs


def nlpkit_row(name: str, flags: list[str], train, valid, final: str) -> dict:
    model = WORK / f"tune-shakespeare-{name}.nlpk"
    cmd = ["nlpkit", "lm", "train", str(train), "--valid", str(valid), "--tokenizer", "char", *flags,
           "--time-budget", final, "--out", str(model), "--quiet"]  # fmt: skip
    trained = run(cmd, WORK / f"tune-shakespeare-{name}.log")
    scored = json.loads(run(["nlpkit", "lm", "eval", str(model), str(valid), "--format", "json"])["stdout"])
    return {"recipe": name, "value": round(scored["loss"], 4), "command": " ".join(cmd), "wall_s": trained["wall_s"]}


def peer_row(final_s: float) -> dict:
    cmd = [sys.executable, str(ROOT / "bench" / "peers" / "nanogpt_char.py"), str(SHARED / "tinyshakespeare" / "input.txt"),
           "--budget", str(final_s)]  # fmt: skip
    out = run(cmd)
    found = json.loads(out["stdout"].splitlines()[-1])
    return {
        "recipe": "peer",
        "value": round(found["valid_loss"], 4),
        "command": " ".join(cmd[1:]),
        "wall_s": out["wall_s"],
    }


def main() -> None:
    import nlpkit
    from nlpkit.option_parsing import parse_duration

    p = argparse.ArgumentParser()
    p.add_argument("--final", default="5m")
    p.add_argument("--tune-budget", default="30m")
    p.add_argument("--encoder", default="transformer")
    p.add_argument("--space", default=str(ROOT / "bench" / "recipes" / "shakespeare-space.toml"))
    p.add_argument("--start-from", action="append", default=[])
    p.add_argument("--prune-after", type=float, default=0.2)
    args = p.parse_args()
    train, valid = split()
    load = [os.getloadavg()[0]]
    best = WORK / "tune-shakespeare-best.toml"
    for stale in (best, best.with_suffix(".journal")):
        stale.unlink(missing_ok=True)
    t0 = time.monotonic()
    hand = ROOT / "bench" / "recipes" / "shakespeare-transformer-nanogpt.toml"
    found = nlpkit.tune(
        "lm", train=str(train), valid=[str(valid)], tokenizer="char", encoder=args.encoder,
        positions="learned", heads=4, warmup=100, dropout=0.0,  # the hand recipe's settings outside the space
        space=args.space, start_from=[str(hand), *args.start_from], prune_after=args.prune_after,
        trial_budget=args.final, budget=args.tune_budget, out=str(best),
    )  # fmt: skip
    tune_s = round(time.monotonic() - t0, 1)
    rows = [
        nlpkit_row("defaults-before", ["--budget-recipe", "off"], train, valid, args.final),
        nlpkit_row("defaults", [], train, valid, args.final),
        nlpkit_row("hand", recipe("shakespeare-transformer-nanogpt"), train, valid, args.final),
        nlpkit_row("tuned", ["--config", str(best)], train, valid, args.final),
        peer_row(parse_duration(args.final)),
    ]
    load.append(os.getloadavg()[0])
    result = {
        "name": "shakespeare-char", "task": "lm", "final_budget_s": parse_duration(args.final),
        "metric": "valid loss (nats/char)", "lower_is_better": True, "rows": rows,
        "tune": {"budget_s": parse_duration(args.tune_budget), "wall_s": tune_s, "trials": found["trials"],
                 "pruned": found["pruned"], "failed": found["failed"], "best_in_search": found["value"],
                 "recipe": found["best"]},
        "machine": machine(), "load_1m": load,
    }  # fmt: skip
    peer = next(r["value"] for r in rows if r["recipe"] == "peer")
    lines = [
        f"# A tuned recipe at the same final budget: Tiny Shakespeare, character level, {args.final}",
        "",
        f"`python bench/tune.py {' '.join(sys.argv[1:])}`; "
        f"{result['machine']['cpu']}, {result['machine']['cores']} cores, torch {result['machine']['torch']}, "
        f"{result['machine']['date']}; 1-minute load {load[0]:.2f} at the start, {load[1]:.2f} at the end; "
        "nothing else ran but the notes this session wrote.",
        "",
        "| recipe | valid loss (nats/char) | against the peer | wall s |",
        "|---|---|---|---|",
        *(f"| {r['recipe']} | {r['value']:.4f} | {r['value'] - peer:+.4f} | {r['wall_s']:.0f} |" for r in rows),
        "",
        f"The search: {found['trials']} trials of {args.final} ({found['pruned']} pruned, {found['failed']} failed) "
        f"in {tune_s:.0f} s of a {args.tune_budget} budget, {args.encoder} fixed, the hand recipe tried first "
        f"(`--start-from`), the space of {os.path.relpath(args.space, ROOT)}; the best trial scored "
        f"{found['value']:.4f} in its own validation.",
        "",
        *commands_and_recipe(rows, best.read_text(encoding="utf-8").strip()),
    ]
    write("tune-shakespeare-char", result, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
