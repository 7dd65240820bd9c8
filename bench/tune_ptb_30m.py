"""A search at 30 minutes on PTB, word level (issue 36: "at 30 min, with the AWD regularisers in
the space: say whether they pay"), where every row is half an hour: the search's own trainings are
the table. Trial 0 is the budget recipe lm-word-30m (bench/recipes/ptb-30m-awd-dropouts.toml holds
its options), run alone first and its model kept (`--best-model`) and scored on test: the row
`defaults`. The study then goes on with the space of bench/recipes/ptb-space-30m.toml (the AWD
dropouts, size, learning rate; SGD, LSTM, adaptive softmax, batch 20 and windows of 35 fixed); the
best trial's model, kept by `--best-model` whenever a trial beats the study, is scored on test: the
row `tuned` (no second training: it trained with the recipe at the final budget already). The
plain defaults' row at 30 minutes is cited from its own result file, measured on the same machine.

    python bench/tune_ptb_30m.py --tune-budget 130m [--start-from RECIPE ...] [--prune-after 0.3]
"""

import argparse
import json
import os
import time

from common import ROOT, SHARED, WORK, machine, need, run, write
from tune_ptb import cost_curve, rel, stem

PTB = SHARED / "ptb"
DEFAULT = ROOT / "bench" / "recipes" / "ptb-30m-awd-dropouts.toml"  # lm-word-30m's options
BEFORE = "budget-defaults-ptb-30m-before"  # the plain defaults at 30 minutes, on this machine


def scored(recipe: str, model, trials: str) -> dict:
    """A kept model's row: test perplexity, and what its training reported."""
    test = json.loads(
        run(["nlpkit", "lm", "eval", str(model), str(PTB / "ptb.test.txt"), "--format", "json"])["stdout"]
    )
    info = json.loads(run(["nlpkit", "info", str(model), "--format", "json"])["stdout"])
    train = info["metrics"]["train"]
    return {"recipe": recipe, "value": round(test["perplexity"], 2), "trials": trials,
            "valid_perplexity": round(info["metrics"]["valid"]["valid_ppl"], 2),
            **{k: train[k] for k in ("tokens_per_s", "epochs")}, "model_recipe": info["recipe"]}  # fmt: skip


def main() -> None:
    import nlpkit
    from nlpkit.option_parsing import parse_duration

    p = argparse.ArgumentParser()
    p.add_argument("--tune-budget", default="130m", help="the whole search, trial 0 included")
    p.add_argument("--space", default=str(ROOT / "bench" / "recipes" / "ptb-space-30m.toml"))
    p.add_argument("--start-from", action="append", default=[], help="recipes tried after lm-word-30m")
    p.add_argument("--prune-after", type=float, default=0.3)
    p.add_argument("--beside", default="nothing else ran")
    p.add_argument("--final", default="30m", help="each trial's budget (another only to try the script out)")
    p.add_argument("--name", default="tune-ptb-word-30m", help="the result files' name")
    args = p.parse_args()
    need(PTB / "ptb.train.txt")
    WORK.mkdir(parents=True, exist_ok=True)
    best, model = WORK / f"{stem(args.final)}-best.toml", WORK / f"{stem(args.final)}-best.nlpk"
    for stale in (best, best.with_suffix(".journal"), model):
        stale.unlink(missing_ok=True)
    load = [os.getloadavg()[0]]
    search = dict(
        train=str(PTB / "ptb.train.txt"), valid=[str(PTB / "ptb.valid.txt")], tokenizer="word", encoder="lstm",
        optimizer="sgd", clip=0.25, adaptive_softmax="2000,6000", batch_size=20, context=35,
        space=args.space, start_from=[str(DEFAULT), *args.start_from], prune_after=args.prune_after,
        trial_budget=args.final, out=str(best), best_model=str(model),
    )  # fmt: skip
    t0 = time.monotonic()
    first = nlpkit.tune("lm", **search, budget=args.final, trials=1)  # trial 0: lm-word-30m, alone
    defaults = scored("defaults", model, "trial 0 of the search")
    left = parse_duration(args.tune_budget) - (time.monotonic() - t0)
    found = nlpkit.tune("lm", **search, budget=f"{left:.0f}s") if left >= parse_duration(args.final) else None
    wall = round(time.monotonic() - t0, 1)
    shown = nlpkit.tune("lm", show=True, out=str(best))["trials"]
    winner = min((t for t in shown if t["state"] == "complete"), key=lambda t: t["value"])
    if winner["trial"] == 0:
        tuned = {**defaults, "recipe": "tuned", "same_as": "defaults"}
    else:
        tuned = scored("tuned", model, f"trial {winner['trial']} of the search")
    before = json.loads((ROOT / "bench" / "results" / f"{BEFORE}.json").read_text())
    cited = {**before["cases"]["ptb-30m"]["rows"][0], "from": f"bench/results/{BEFORE}.md",
             "measured": before["machine"]["date"]}  # fmt: skip
    load.append(os.getloadavg()[0])
    counts = {k: first[k] + (found[k] if found else 0) for k in ("trials", "pruned", "failed")}
    result = {
        "name": "ptb-word-30m", "task": "lm", "final_budget_s": parse_duration(args.final), "metric": "test perplexity",
        "lower_is_better": True, "rows": [cited, defaults, tuned],
        "space": rel(args.space), "start_from": [rel(r) for r in search["start_from"]],
        "tune": {"budget_s": parse_duration(args.tune_budget), "wall_s": wall, **counts, "prune_after": args.prune_after,
                 "trials_shown": shown},
        "machine": machine(), "load_1m": load, "beside": args.beside,
    }  # fmt: skip
    report(result, args)


def report(result: dict, args) -> None:
    rows, found, load = result["rows"], result["tune"], result["load_1m"]
    base = next(r["value"] for r in rows if r["recipe"] == "defaults")
    names = sorted({k for t in found["trials_shown"] for k in t["params"]})
    short = lambda v: f"{v:.3g}" if isinstance(v, float) else str(v)  # noqa: E731
    start = "".join(f" --start-from {r}" for r in result["start_from"][1:])
    lines = [
        "# A search at 30 minutes: PTB, word level, the AWD dropouts in the space",
        "",
        f"`python bench/tune_ptb_30m.py --final {args.final} --tune-budget {args.tune_budget} --prune-after {args.prune_after}{start}`; "
        f"{result['machine']['cpu']}, {result['machine']['cores']} cores, torch {result['machine']['torch']}, "
        f"{result['machine']['date']}; 1-minute load {load[0]:.2f} at the start, {load[1]:.2f} at the end "
        f"({result['beside']}).",
        "",
        "| recipe | test perplexity | against the defaults | trained |",
        "|---|---|---|---|",
        *(
            f"| {r['recipe']} | {r['value']:.2f} | {r['value'] / base:.3f}x | "
            f"{r.get('trials') or 'cited: ' + r['from'] + ', ' + r['measured']} |"
            for r in rows
        ),
        "",
        f"The search: {found['trials']} trials of {args.final} ({found['pruned']} pruned, {found['failed']} failed) in "
        f"{found['wall_s']:.0f} s of a {args.tune_budget} budget; trial 0 (lm-word-30m) ran alone first; tried next "
        f"(`--start-from`): {', '.join(result['start_from'][1:]) or 'none'}; then the sampler; the space of "
        f"{result['space']}; pruning from {args.prune_after:.0%} of a trial's budget, once three trials completed.",
        "",
        "| trial | state | valid ppl | " + " | ".join(names) + " |",
        "|---" * (3 + len(names)) + "|",
        *(
            f"| {t['trial']} | {t['state']} | {2.718281828 ** t['value']:.2f} | "
            + " | ".join(short(t["params"].get(n, "")) for n in names)
            + " |"
            for t in found["trials_shown"]
            if t["value"] is not None
        ),
        "",
        *cost_curve(args.final),
        "Rows trained here (each a trial's own model, kept by `nlpkit tune --best-model`, scored by `nlpkit lm eval "
        "MODEL ptb.test.txt`): "
        + "; ".join(
            f"{r['recipe']}: {r['epochs']:.1f} epochs at {r['tokens_per_s']:,.0f} tokens/s, validation perplexity "
            f"{r['valid_perplexity']:.2f}"
            for r in rows
            if "epochs" in r and "same_as" not in r
        )
        + ".",
    ]
    write(args.name, result, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
