"""float32 against bf16 autocast on the CPU (`--precision fp32|bf16`), each task's budget recipe
trained for the same wall clock, one run at a time: tokens per second and the test metric. bf16
pays only where the CPU does it natively (AMX, AVX-512 BF16: the machine's flags are recorded).

    python bench/precision.py [--budget 5m] [--only ptb,shakespeare,sst2,conll] [--name precision]
"""

import argparse
import json
import os

from budget_defaults import CASES, LOWER_IS_BETTER, row
from common import WORK, machine, run, write

from nlpkit.option_parsing import parse_duration

# which of budget_defaults' cases each name trains (their data, tokenizer and test metric)
DATA = {"ptb": "ptb-10m", "shakespeare": "shakespeare-10m", "sst2": "sst2", "conll": "conll"}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--budget", default="5m")
    p.add_argument("--only", default=",".join(DATA))
    p.add_argument("--name", default="precision")
    args = p.parse_args()
    if "shakespeare" in args.only.split(","):
        from shakespeare import split

        split()
    load = [os.getloadavg()[0]]
    rows = []
    for name in args.only.split(","):
        case = DATA[name]
        for precision in ("fp32", "bf16"):
            found = row(case, precision, ["--precision", precision], args.budget, prefix=args.name)
            model = WORK / f"{args.name}-{case}-{precision}.nlpk"
            train = json.loads(run(["nlpkit", "info", str(model), "--format", "json"])["stdout"])["metrics"]["train"]
            rows.append({"data": name, "precision": precision, **found, "tokens_per_s": train["tokens_per_s"],
                         "steps": train["steps"], "epochs": train["epochs"]})  # fmt: skip
    load.append(os.getloadavg()[0])
    m = machine()
    lines = [
        "# float32 against bf16 autocast on the CPU, the same wall clock",
        "",
        f"`python bench/precision.py --budget {args.budget} --only {args.only} --name {args.name}`; {m['cpu']} "
        f"(flags {', '.join(m['cpu_flags'])}), {m['cores']} cores, torch {m['torch']}, {m['date']}; 1-minute load "
        f"{load[0]:.2f} at the start, {load[1]:.2f} at the end; one run at a time. Each row is the budget recipe "
        "nlpkit chooses for the data at this budget (`nlpkit info MODEL --recipe`), with `--precision`.",
        "",
        "| data | recipe chosen | metric | fp32 | bf16 | tokens/s fp32 | tokens/s bf16 | speed-up | epochs fp32 | epochs bf16 |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in args.only.split(","):
        fp, bf = (next(r for r in rows if r["data"] == name and r["precision"] == p) for p in ("fp32", "bf16"))
        label = CASES[DATA[name]][7]
        lines.append(
            f"| {name} | {fp['budget_recipe']} | {label} | {fp['value']:.4f} | {bf['value']:.4f} | "
            f"{fp['tokens_per_s']:,.0f} | {bf['tokens_per_s']:,.0f} | {bf['tokens_per_s'] / fp['tokens_per_s']:.2f}x | "
            f"{fp['epochs']:.2f} | {bf['epochs']:.2f} |"
        )
    lines += ["", "Commands:", ""] + [f"- `{r['command']}`" for r in rows]
    record = {
        "machine": m, "load_1m": load, "budget_s": parse_duration(args.budget),
        "lower_is_better": {name: CASES[DATA[name]][6] in LOWER_IS_BETTER for name in args.only.split(",")},
        "rows": rows,
    }  # fmt: skip
    write(args.name, record, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
