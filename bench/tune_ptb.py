"""A tuned recipe against the others at the same final budget (issue 36), on PTB, word level:
`nlpkit tune lm` searches with trials of the final budget (SGD, LSTM, adaptive softmax fixed; the
space of bench/recipes/ptb-space.toml; the 5-minute hand recipe tried first), then each recipe
trains for that budget in the same session, one at a time: the defaults before the budget recipes
(`--budget-recipe off`), the new defaults (`--time-budget` alone: the budget recipe lm-word-5m,
whose options are those of the hand recipe bench/recipes/ptb-5m.toml, so one run gives both
rows), the tuned recipe, and the peer (the PyTorch word_language_model example,
bench/peers/word_lm_example.py). Every row is scored by test perplexity.

    python bench/tune_ptb.py --final 5m --tune-budget 30m
    python bench/tune_ptb.py --final 5m --rerun defaults   # one row again (the table changed), the rest kept

At another budget the hand recipe is its own row (`--hand`), the space and the recipes tried first
are named, and the files carry the budget (bench/results/tune-ptb-word-10m.*):

    python bench/tune_ptb.py --final 10m --tune-budget 45m --space bench/recipes/ptb-space-10m.toml \
        --hand bench/recipes/ptb-10m.toml --start-from bench/recipes/ptb-10m.toml \
        --start-from bench/recipes/ptb-5m-tuned.toml --start-from bench/recipes/ptb-5m-tuned-awd.toml
"""

import argparse
import json
import os
import sys
import time

from common import ROOT, SHARED, WORK, commands_and_recipe, machine, need, run, stored_recipe, write

PTB = SHARED / "ptb"


def stem(final: str) -> str:
    """The prefix of a table's files: the 5-minute table keeps its first name."""
    return "tune-ptb" if final == "5m" else f"tune-ptb-{final}"


def nlpkit_row(name: str, flags: list[str], final: str) -> dict:
    model = WORK / f"{stem(final)}-{name}.nlpk"
    cmd = ["nlpkit", "lm", "train", str(PTB / "ptb.train.txt"), "--valid", str(PTB / "ptb.valid.txt"),
           "--tokenizer", "word", *flags, "--time-budget", final, "--out", str(model), "--quiet"]  # fmt: skip
    trained = run(cmd, WORK / f"{stem(final)}-{name}.log")
    scored = json.loads(
        run(["nlpkit", "lm", "eval", str(model), str(PTB / "ptb.test.txt"), "--format", "json"])["stdout"]
    )
    return {"recipe": name, "value": round(scored["perplexity"], 2), "command": " ".join(cmd).replace(str(PTB) + "/", ""),
            "wall_s": trained["wall_s"]}  # fmt: skip


def peer_row(final_s: float) -> dict:
    cmd = [sys.executable, str(ROOT / "bench" / "peers" / "word_lm_example.py"), str(PTB), "--budget", str(final_s)]
    out = run(cmd)
    found = json.loads(out["stdout"].splitlines()[-1])
    return {"recipe": "peer", "value": found["test_ppl"], "command": "bench/peers/word_lm_example.py PTB --budget "
            f"{final_s:g}", "wall_s": out["wall_s"]}  # fmt: skip


def main() -> None:
    import nlpkit
    from nlpkit.option_parsing import parse_duration

    p = argparse.ArgumentParser()
    p.add_argument("--final", default="5m")
    p.add_argument("--tune-budget", default="30m")
    p.add_argument("--rerun", default="", help="train only this row again (defaults) and keep the file's others")
    p.add_argument("--space", default=str(ROOT / "bench" / "recipes" / "ptb-space.toml"))
    p.add_argument("--start-from", action="append", default=[], help="recipes the study tries first (repeatable)")
    p.add_argument("--why", default="", help="with --rerun: why the row was trained again, for the report")
    p.add_argument("--beside", default="nothing else ran", help="what else ran during the final rows, for the report")
    p.add_argument("--hand", default="", help="the hand recipe's row (default: the defaults run, as at 5m)")
    args = p.parse_args()
    args.start_from = args.start_from or [str(ROOT / "bench" / "recipes" / "ptb-5m.toml")]
    if args.rerun:
        return rerun(args)
    need(PTB / "ptb.train.txt")
    WORK.mkdir(parents=True, exist_ok=True)
    load = [os.getloadavg()[0]]
    best = WORK / f"{stem(args.final)}-best.toml"
    for stale in (best, best.with_suffix(".journal")):
        stale.unlink(missing_ok=True)
    t0 = time.monotonic()
    found = nlpkit.tune(
        "lm", train=str(PTB / "ptb.train.txt"), valid=[str(PTB / "ptb.valid.txt")], tokenizer="word",
        encoder="lstm", optimizer="sgd", clip=0.25, adaptive_softmax="2000,6000",
        space=args.space, start_from=args.start_from,
        trial_budget=args.final, budget=args.tune_budget, out=str(best),
    )  # fmt: skip
    tune_s = round(time.monotonic() - t0, 1)
    rows = [
        nlpkit_row("defaults-before", ["--budget-recipe", "off"], args.final),
        nlpkit_row("defaults", [], args.final),
        nlpkit_row("tuned", ["--config", str(best)], args.final),
        peer_row(parse_duration(args.final)),
    ]
    if args.hand:
        rows.insert(2, nlpkit_row("hand", ["--config", args.hand], args.final))
    else:  # at 5m the budget recipe held the hand recipe's options when this table was first measured
        rows[1]["same_as"] = "hand"
        rows.insert(2, {**rows[1], "recipe": "hand", "same_as": "defaults"})
    load.append(os.getloadavg()[0])
    result = {
        "name": "ptb-word", "task": "lm", "final_budget_s": parse_duration(args.final), "metric": "test perplexity",
        "lower_is_better": True, "rows": rows,
        "space": rel(args.space), "start_from": [rel(r) for r in args.start_from],
        "hand": rel(args.hand) if args.hand else "",
        "tune": {"budget_s": parse_duration(args.tune_budget), "wall_s": tune_s, "trials": found["trials"],
                 "pruned": found["pruned"], "failed": found["failed"], "best_in_search": found["value"],
                 "recipe": found["best"]},
        "machine": machine(), "load_1m": load, "beside": args.beside,
    }  # fmt: skip
    report(result, args.final, args.tune_budget, best.read_text(encoding="utf-8").strip())


def rel(path: str) -> str:
    """A path inside the repository as the reader would type it."""
    return os.path.relpath(os.path.abspath(path), ROOT)


def rerun(args) -> None:
    """Train the row `args.rerun` again with the code as it is now; the other rows are kept."""
    from common import RESULTS

    name = result_name(args.final)
    result = json.loads((RESULTS / f"{name}.json").read_text())
    load, began = os.getloadavg()[0], time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())  # before it trains
    fresh = {**nlpkit_row(args.rerun, [], args.final), "rerun": began, "load_1m": load, "why": args.why}
    result["rows"] = [fresh if r["recipe"] == args.rerun else r for r in result["rows"]]
    for r in result["rows"]:
        if r.pop("same_as", None) == "defaults":  # the hand row was the defaults run of its day
            r["command"] += " (the budget recipe lm-word-5m held bench/recipes/ptb-5m.toml's options then)"
    recipe = stored_recipe(name)
    report(result, args.final, "30m" if args.final == "5m" else args.tune_budget, recipe)


def cost_curve(final: str) -> list[str]:
    """The search's best-so-far against time, from its study (`nlpkit tune lm --show`)."""
    import nlpkit

    best = WORK / f"{stem(final)}-best.toml"
    if not best.with_suffix(".journal").is_file():
        return []
    trials = sorted(nlpkit.tune("lm", show=True, out=str(best))["trials"], key=lambda t: t["at"] or 0)
    ppl = lambda v: f"{2.718281828**v:.1f}" if v is not None else ""  # noqa: E731
    return [
        "The cost of the search: each trial's end since the study began, its validation perplexity (a pruned "
        "trial's: its last report, when it was cut) and the best of the completed trials so far (`nlpkit tune lm --show "
        f"--out bench/work/{best.name}`):",
        "",
        "| trial | state | ended at (s) | valid ppl | best so far |",
        "|---|---|---|---|---|",
        *(f"| {t['trial']} | {t['state']} | {t['at']:.0f} | {ppl(t['value'])} | {ppl(t['best'])} |" for t in trials),
        "",
    ]


def report(result: dict, final: str, tune_budget: str, recipe: str) -> None:
    rows, found, load = result["rows"], result["tune"], result["load_1m"]
    tune_s = found["wall_s"]
    peer = next(r["value"] for r in rows if r["recipe"] == "peer")
    reran = [r for r in rows if "rerun" in r]
    space = result.get("space", "bench/recipes/ptb-space.toml")
    tried = ", ".join(result.get("start_from", ["bench/recipes/ptb-5m.toml"]))
    beside = result.get(
        "beside", "unit tests ran beside the final rows under ../shared/tools/side, which yields the CPU to them"
    )
    command = f"python bench/tune_ptb.py --final {final} --tune-budget {tune_budget}"
    if "space" in result:
        command += f" --space {space}" + (f" --hand {result['hand']}" if result.get("hand") else "")
        command += "".join(f" --start-from {r}" for r in result["start_from"])
    lines = [
        f"# A tuned recipe at the same final budget: PTB, word level, {final}",
        "",
        f"`{command}`; "
        f"{result['machine']['cpu']}, {result['machine']['cores']} cores, torch {result['machine']['torch']}, "
        f"{result['machine']['date']}; 1-minute load {load[0]:.2f} at the start, {load[1]:.2f} at the end "
        f"({beside}).",
        "",
        "| recipe | test perplexity | against the peer | wall s |",
        "|---|---|---|---|",
        *(f"| {r['recipe']} | {r['value']:.2f} | {r['value'] / peer:.3f}x | {r['wall_s']:.0f} |" for r in rows),
        "",
        *(
            f"The {r['recipe']} row was trained again on {r['rerun']} (`python bench/tune_ptb.py --final {final} "
            f"--rerun {r['recipe']}`, 1-minute load {r['load_1m']:.2f} at its start){r.get('why', '')}."
            for r in reran
        ),
        *(
            [
                "The new defaults and the hand recipe are one run: the budget recipe lm-word-5m held the hand "
                "recipe's options then."
            ]
            if not reran and any("same_as" in r for r in rows)
            else []
        ),
        "",
        f"The search: {found['trials']} trials of {final} ({found['pruned']} pruned, {found['failed']} failed) "
        f"in {tune_s:.0f} s of a {tune_budget} budget; SGD, LSTM, clip 0.25 and the adaptive softmax fixed; "
        f"tried first (`--start-from`): {tried}; the space of {space}. The best trial's "
        f"validation perplexity in the search: {2.718281828 ** found['best_in_search']:.2f}.",
        "",
        *cost_curve(final),
        *commands_and_recipe(rows, recipe),
    ]
    write(result_name(final), result, "\n".join(lines) + "\n")


def result_name(final: str) -> str:
    return "tune-ptb-word" if final == "5m" else f"tune-ptb-word-{final}"


if __name__ == "__main__":
    main()
