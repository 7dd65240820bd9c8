"""The budget recipes against the plain defaults (issue 36): for each task whose table holds a
recipe, train at the recipe's budget twice, one run after the other in one session: once with
the plain defaults (`--budget-recipe off`, what `train --time-budget` did before the budget
recipes) and once with `--time-budget` alone (the recipe the table chooses); each is scored on
the test set. The language-model rows are in tune-shakespeare-char.md and tune-ptb-word.md.

    python bench/budget_defaults.py [--only sst2,conll] [--name budget-defaults]
    python bench/budget_defaults.py --only ptb-30m --rows defaults --name budget-defaults-ptb-30m  # one row
    python bench/budget_defaults.py --only sst2-5m,conll-5m --name budget-defaults-5m  # a 10-minute recipe at 5
    python bench/budget_defaults.py --only shakespeare-30m,conll-30m --name budget-defaults-30m  # shorter recipes at 30
    python bench/budget_defaults.py --only shakespeare-30m --rows hand --hand recipes/shakespeare-30m.toml \
        --name budget-defaults-shakespeare-30m-hand  # a candidate recipe
"""

import argparse
import json
import os
from pathlib import Path

from common import SHARED, WORK, machine, need, run, write

from nlpkit.option_parsing import parse_duration

CASES = {
    # name: (task, train, valid, test, budget, extra flags, metric key of `eval --format json`, label)
    "sst2": ("sentiment", "sst2/stsa.binary.train", "sst2/stsa.binary.dev", "sst2/stsa.binary.test", "10m", [],
             "accuracy", "test accuracy"),
    "sst2-5m": ("sentiment", "sst2/stsa.binary.train", "sst2/stsa.binary.dev", "sst2/stsa.binary.test", "5m", [],
                "accuracy", "test accuracy"),
    "conll": ("ner", "conll2003/train.txt", "conll2003/valid.txt", "conll2003/test.txt", "10m", [], "f1",
              "test micro F1"),
    "conll-30m": ("ner", "conll2003/train.txt", "conll2003/valid.txt", "conll2003/test.txt", "30m", [], "f1",
                  "test micro F1"),
    "sst2-30m": ("sentiment", "sst2/stsa.binary.train", "sst2/stsa.binary.dev", "sst2/stsa.binary.test", "30m", [],
                 "accuracy", "test accuracy"),
    "conll-5m": ("ner", "conll2003/train.txt", "conll2003/valid.txt", "conll2003/test.txt", "5m", [], "f1",
                 "test micro F1"),
    # Tiny Shakespeare has no test split: bench/shakespeare.py's last 10% is scored, as in bench/tune.py
    "shakespeare-10m": ("lm", WORK / "shakespeare.train.txt", WORK / "shakespeare.valid.txt",
                        WORK / "shakespeare.valid.txt", "10m", ["--tokenizer", "char"], "loss",
                        "valid loss (nats/char)"),
    "shakespeare-30m": ("lm", WORK / "shakespeare.train.txt", WORK / "shakespeare.valid.txt",
                        WORK / "shakespeare.valid.txt", "30m", ["--tokenizer", "char"], "loss",
                        "valid loss (nats/char)"),
    "ptb-10m": ("lm", "ptb/ptb.train.txt", "ptb/ptb.valid.txt", "ptb/ptb.test.txt", "10m", ["--tokenizer", "word"],
                "perplexity", "test perplexity"),
    "ptb-30m": ("lm", "ptb/ptb.train.txt", "ptb/ptb.valid.txt", "ptb/ptb.test.txt", "30m", ["--tokenizer", "word"],
                "perplexity", "test perplexity"),
    "ptb-bpe": ("lm", "ptb/ptb.train.txt", "ptb/ptb.valid.txt", "ptb/ptb.test.txt", "5m", ["--tokenizer", "bpe:8000"],
                "perplexity", "test perplexity per subword"),
    "ptb-bpe-10m": ("lm", "ptb/ptb.train.txt", "ptb/ptb.valid.txt", "ptb/ptb.test.txt", "10m",
                    ["--tokenizer", "bpe:8000"], "perplexity", "test perplexity per subword"),
    "ptb-bpe-30m": ("lm", "ptb/ptb.train.txt", "ptb/ptb.valid.txt", "ptb/ptb.test.txt", "30m",
                    ["--tokenizer", "bpe:8000"], "perplexity", "test perplexity per subword"),
}  # fmt: skip
LOWER_IS_BETTER = {"perplexity", "loss"}


def row(case: str, recipe: str, flags: list[str], budget: str | None = None, prefix: str = "budget") -> dict:
    task, train, valid, test, case_budget, extra, key, _ = CASES[case]
    budget = budget or case_budget
    model = WORK / f"{prefix}-{case}-{recipe}.nlpk"
    cmd = ["nlpkit", task, "train", str(need(SHARED / train)), "--valid", str(SHARED / valid), *extra, *flags,
           "--time-budget", budget, "--out", str(model), "--quiet"]  # fmt: skip
    trained = run(cmd, WORK / f"{prefix}-{case}-{recipe}.log")
    scored = json.loads(run(["nlpkit", task, "eval", str(model), str(SHARED / test), "--format", "json"])["stdout"])
    info = json.loads(run(["nlpkit", "info", str(model), "--format", "json"])["stdout"])
    speed = {k: info["metrics"]["train"][k] for k in ("tokens_per_s", "steps", "epochs")}
    return {"recipe": recipe, "value": round(scored[key], 4), "budget_recipe": info["recipe"]["budget_recipe"],
            "wall_s": trained["wall_s"], **speed, "command": " ".join(cmd).replace(str(SHARED) + "/", "")}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--only", default=",".join(CASES))
    p.add_argument("--name", default="budget-defaults", help="the result files' name in bench/results")
    p.add_argument("--rows", default="defaults-before,defaults", help="which rows to train (a long budget: one)")
    p.add_argument("--hand", help="a recipe file (bench/recipes) trained as the row 'hand' (give hand in --rows)")
    args = p.parse_args()
    if any(case.startswith("shakespeare") for case in args.only.split(",")):
        from shakespeare import split

        split()  # bench/work/shakespeare.{train,valid}.txt, cut as bench/tune.py cuts them
    if "hand" in args.rows.split(",") and not args.hand:
        p.error("the row hand needs --hand RECIPE.toml")
    flags = {"defaults-before": ["--budget-recipe", "off"], "defaults": []}
    if args.hand:
        flags["hand"] = ["--config", str(Path(args.hand).resolve())]
    WORK.mkdir(parents=True, exist_ok=True)
    load = [os.getloadavg()[0]]
    tables = {}
    for case in args.only.split(","):
        tables[case] = {name: row(case, name, flags[name], prefix=args.name) for name in args.rows.split(",")}
    load.append(os.getloadavg()[0])
    record = {"machine": machine(), "load_1m": load, "cases": {}}
    lines = [
        "# The budget recipes against the plain defaults",
        "",
        f"`python bench/budget_defaults.py --only {args.only} --name {args.name}"
        + (f" --rows {args.rows}" if args.rows != "defaults-before,defaults" else "")
        + (f" --hand {args.hand}" if args.hand else "")
        + f"`; {record['machine']['cpu']}, "
        f"{record['machine']['cores']} cores, torch {record['machine']['torch']}, {record['machine']['date']}; "
        f"1-minute load {load[0]:.2f} at the start, {load[1]:.2f} at the end; one run at a time.",
        "",
        "| data | budget | metric | defaults before (`--budget-recipe off`) | new defaults | recipe chosen | hand |",
        "|---|---|---|---|---|---|---|",
    ]
    for case, rows in tables.items():
        task, _, _, _, budget, _, _, label = CASES[case]
        record["cases"][case] = {"name": case, "task": task, "final_budget_s": parse_duration(budget), "metric": label,
                                 "lower_is_better": CASES[case][6] in LOWER_IS_BETTER, "rows": list(rows.values())}  # fmt: skip
        cells = [
            f"{rows[name]['value']:.4f}" if name in rows else "not run"
            for name in ("defaults-before", "defaults", "hand")
        ]
        chosen = rows["defaults"]["budget_recipe"] if "defaults" in rows else ""
        lines.append(f"| {case} | {budget} | {label} | {cells[0]} | {cells[1]} | {chosen} | {cells[2]} |")
    lines += ["", "Commands:", ""]
    lines += [f"- `{r['command']}`" for rows in tables.values() for r in rows.values()]
    write(args.name, record, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
