"""A tuned recipe against the others at the same final budget (issue 36) for sentiment (SST-2
from scratch) and NER (CoNLL-2003): `nlpkit tune` searches with trials of the final budget (the
hand recipe tried first, the space in bench/recipes/CASE-space.toml), then each recipe trains for
that budget in the same session, one at a time, scored on the test set: the defaults before the
budget recipes (`--budget-recipe off`), the new defaults (`--time-budget` alone), the hand recipe
(`--config bench/recipes/...`) and the tuned recipe. CoNLL's rows all start from the word vectors
of bench/conll.py (`nlpkit vectors train` on CoNLL/PTB/IMDB text, built here when missing), as its
hand recipe was measured with them. The language-model tables are
bench/tune.py (Tiny Shakespeare) and bench/tune_ptb.py (PTB).

    python bench/tune_task.py --case sst2 --final 10m --tune-budget 50m
    python bench/tune_task.py --case conll --final 10m --tune-budget 40m
"""

import argparse
import os
import time

from budget_defaults import CASES, row
from common import ROOT, SHARED, WORK, commands_and_recipe, machine, need, write

HAND = {"sst2": "sst2-scratch.toml", "conll": "conll-bilstm-crf.toml"}
FIXED = {"sst2": {"encoder": "lstm", "bidirectional": True, "pooling": "max", "embed": 128, "min_freq": 2,
                  "warmup": 50, "eval_every": 100},
         "conll": {"crf": True, "char_features": "cnn", "encoder": "lstm", "embed": 100, "char_size": 50,
                   "clip": 5.0, "warmup": 100, "eval_every": 1000}}  # fmt: skip


def vectors(case: str) -> dict:
    """Options every row of the case starts from: CoNLL's word vectors (built once, ~2 minutes)."""
    if case != "conll":
        return {}
    from conll import news_vectors

    path = WORK / "vectors" / "news-100.txt"
    if not path.exists():
        news_vectors(path, need(SHARED / "conll2003" / "train.txt"))
    return {"embeddings": str(path)}


def main() -> None:
    import nlpkit
    from nlpkit.option_parsing import parse_duration

    p = argparse.ArgumentParser()
    p.add_argument("--case", choices=sorted(HAND), default="sst2")
    p.add_argument("--final", default="10m")
    p.add_argument("--tune-budget", default="50m")
    args = p.parse_args()
    task, train, valid, *_ = CASES[args.case]
    need(SHARED / train)
    WORK.mkdir(parents=True, exist_ok=True)
    start = vectors(args.case)
    load = [os.getloadavg()[0]]
    best = WORK / f"tune-{args.case}-best.toml"
    for stale in (best, best.with_suffix(".journal")):
        stale.unlink(missing_ok=True)
    hand = ROOT / "bench" / "recipes" / HAND[args.case]
    t0 = time.monotonic()
    found = nlpkit.tune(
        task, train=str(SHARED / train), valid=[str(SHARED / valid)], **FIXED[args.case], **start,
        space=str(ROOT / "bench" / "recipes" / f"{args.case}-space.toml"), start_from=[str(hand)],
        trial_budget=args.final, budget=args.tune_budget, out=str(best),
    )  # fmt: skip
    tune_s = round(time.monotonic() - t0, 1)
    flags = [f for k, v in start.items() for f in (f"--{k}", v)]
    rows = [
        row(args.case, "defaults-before", [*flags, "--budget-recipe", "off"], args.final, "tune"),
        row(args.case, "defaults", flags, args.final, "tune"),
        row(args.case, "hand", [*flags, "--config", str(hand)], args.final, "tune"),
        row(args.case, "tuned", [*flags, "--config", str(best)], args.final, "tune"),
    ]
    load.append(os.getloadavg()[0])
    label = CASES[args.case][-1]
    result = {
        "name": args.case, "task": task, "final_budget_s": parse_duration(args.final), "metric": label,
        "lower_is_better": False, "rows": rows,
        "tune": {"budget_s": parse_duration(args.tune_budget), "wall_s": tune_s, "trials": found["trials"],
                 "pruned": found["pruned"], "failed": found["failed"], "best_in_search": found["value"],
                 "recipe": found["best"]},
        "machine": machine(), "load_1m": load,
    }  # fmt: skip
    lines = [
        f"# A tuned recipe at the same final budget: {args.case}, {args.final}",
        "",
        f"`python bench/tune_task.py --case {args.case} --final {args.final} --tune-budget {args.tune_budget}`; "
        f"{result['machine']['cpu']}, {result['machine']['cores']} cores, torch {result['machine']['torch']}, "
        f"{result['machine']['date']}; 1-minute load {load[0]:.2f} at the start, {load[1]:.2f} at the end.",
        "",
        f"| recipe | {label} | budget recipe chosen | wall s |",
        "|---|---|---|---|",
        *(f"| {r['recipe']} | {r['value']:.4f} | {r['budget_recipe'] or '-'} | {r['wall_s']:.0f} |" for r in rows),
        "",
        f"The search: {found['trials']} trials of {args.final} ({found['pruned']} pruned, {found['failed']} failed) "
        f"in {tune_s:.0f} s of a {args.tune_budget} budget; fixed: "
        + ", ".join(f"{k} {v}" for k, v in {**FIXED[args.case], **start}.items())
        + f"; the hand recipe tried first; the space of bench/recipes/{args.case}-space.toml. The best trial's "
        f"{found['metric']} in the search: {found['value']:.4f}.",
        "",
        "Trials (`nlpkit tune " + task + f" --show --out bench/work/tune-{args.case}-best.toml`):",
        "",
        "| trial | state | ended at (s) | value | best so far |",
        "|---|---|---|---|---|",
        *(
            f"| {t['trial']} | {t['state']} | {t['at'] or 0:.0f} | {t['value'] if t['value'] is not None else ''} "
            f"| {t['best'] if t['best'] is not None else ''} |"
            for t in sorted(nlpkit.tune(task, show=True, out=str(best))["trials"], key=lambda t: t["at"] or 0)
        ),
        "",
        *commands_and_recipe(rows, best.read_text(encoding="utf-8").strip()),
    ]
    write(f"tune-{args.case}", result, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
