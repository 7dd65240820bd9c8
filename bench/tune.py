"""A tuned recipe against the others at the same final budget (issue 36), on Tiny Shakespeare,
character level: `nlpkit tune lm` searches with trials of the final budget, then each recipe
trains for that budget in the same session, one at a time: nlpkit's defaults (`--tokenizer char`
only), the hand recipe (bench/recipes/shakespeare-transformer-nanogpt.toml), the tuned recipe, and
the peer (nanoGPT's CPU recipe for the budget, bench/peers/nanogpt_char.py). nlpkit's rows are
scored by `lm eval` on the last 10% (windows overlapping by half), the peer's by its own scoring
of the same characters the same way.

    python bench/tune.py --final 5m --tune-budget 25m [--encoder transformer] [--space FILE]
        [--start-from RECIPE ...] [--prune-after SHARE] [--beside "what else ran"]
    python bench/tune.py --final 5m --rerun defaults --why "..."  # one row again (the recipe changed)

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

from common import ROOT, SHARED, WORK, commands_and_recipe, machine, recipe, run, stored_recipe, write

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
    p.add_argument("--beside", default="nothing else ran", help="what else ran during the search and rows")
    p.add_argument("--rerun", default="", choices=("", "defaults", "defaults-before"), help="train one row again")
    p.add_argument("--why", default="", help="with --rerun: why, for the report")
    args = p.parse_args()
    if args.rerun:
        return rerun(args)
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
        "command": f"python bench/tune.py {' '.join(sys.argv[1:])}".replace(str(ROOT) + "/", ""),
        "space": os.path.relpath(args.space, ROOT), "encoder": args.encoder, "tune_budget": args.tune_budget,
        "tune": {"budget_s": parse_duration(args.tune_budget), "wall_s": tune_s, "trials": found["trials"],
                 "pruned": found["pruned"], "failed": found["failed"], "best_in_search": found["value"],
                 "recipe": found["best"]},
        "machine": machine(), "load_1m": load, "beside": args.beside,
    }  # fmt: skip
    report(result, args.final, best.read_text(encoding="utf-8").strip())


def rerun(args) -> None:
    """Train the row `args.rerun` again with the code as it is now (a budget recipe changed); the
    other rows, the search and its recipe are kept from the result file."""
    from common import RESULTS

    result = json.loads((RESULTS / "tune-shakespeare-char.json").read_text())
    train, valid = split()
    load, began = os.getloadavg()[0], time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())  # before it trains
    flags = {"defaults-before": ["--budget-recipe", "off"], "defaults": []}[args.rerun]
    fresh = {**nlpkit_row(args.rerun, flags, train, valid, args.final), "rerun": began, "load_1m": load,
             "why": args.why}  # fmt: skip
    result["rows"] = [fresh if r["recipe"] == args.rerun else r for r in result["rows"]]
    report(result, args.final, stored_recipe("tune-shakespeare-char"))


def report(result: dict, final: str, recipe_text: str) -> None:
    rows, found, load = result["rows"], result["tune"], result["load_1m"]
    peer = next(r["value"] for r in rows if r["recipe"] == "peer")
    lines = [
        f"# A tuned recipe at the same final budget: Tiny Shakespeare, character level, {final}",
        "",
        f"`{result['command']}`; "
        f"{result['machine']['cpu']}, {result['machine']['cores']} cores, torch {result['machine']['torch']}, "
        f"{result['machine']['date']}; 1-minute load {load[0]:.2f} at the start, {load[1]:.2f} at the end "
        f"({result['beside']}).",
        "",
        "| recipe | valid loss (nats/char) | against the peer | wall s |",
        "|---|---|---|---|",
        *(f"| {r['recipe']} | {r['value']:.4f} | {r['value'] - peer:+.4f} | {r['wall_s']:.0f} |" for r in rows),
        "",
        *(
            f"The {r['recipe']} row was trained again on {r['rerun']} (`python bench/tune.py --final {final} --rerun "
            f"{r['recipe']}`, 1-minute load {r['load_1m']:.2f} at its start): {r['why']}\n"
            for r in rows
            if "rerun" in r
        ),
        f"The search: {found['trials']} trials of {final} ({found['pruned']} pruned, {found['failed']} failed) "
        f"in {found['wall_s']:.0f} s of a {result['tune_budget']} budget, {result['encoder']} fixed, the hand recipe "
        f"tried first (`--start-from`), the space of {result['space']}; the best trial scored "
        f"{found['best_in_search']:.4f} in its own validation.",
        "",
        *commands_and_recipe(rows, recipe_text),
    ]
    write("tune-shakespeare-char", result, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
