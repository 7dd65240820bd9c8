"""float32 against bf16 autocast on the CPU (`--precision fp32|bf16`), each task's budget recipe
trained for the same wall clock, one run at a time: tokens per second and the test metric. bf16
can pay only where the CPU does it natively (AMX, AVX-512 BF16: the machine's flags are recorded).

    python bench/precision.py [--budget 5m] [--only ptb,shakespeare,sst2,conll] [--name precision]

A recipe tuned in float32 is not the recipe for bf16's extra steps. `--tune-ptb` searches PTB
(word level) with `--precision bf16` fixed, from the float32 budget recipe lm-word-5m, in the space
bench/tune_ptb.py searched in float32, then trains the best for the budget and scores it:

    python bench/precision.py --tune-ptb 40m --budget 5m --name precision-ptb-tuned-bf16
"""

import argparse
import os

from budget_defaults import CASES, LOWER_IS_BETTER, row
from common import ROOT, SHARED, WORK, machine, write

from nlpkit.option_parsing import parse_duration

# which of budget_defaults' cases each name trains (their data, tokenizer and test metric)
DATA = {"ptb": "ptb-10m", "shakespeare": "shakespeare-10m", "sst2": "sst2", "conll": "conll"}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--budget", default="5m")
    p.add_argument("--only", default=",".join(DATA))
    p.add_argument("--name", default="precision")
    p.add_argument("--tune-ptb", default="", metavar="BUDGET", help="search PTB in bf16 for this long (see above)")
    args = p.parse_args()
    if args.tune_ptb:
        return tune_ptb(args)
    if "shakespeare" in args.only.split(","):
        from shakespeare import split

        split()
    load = [os.getloadavg()[0]]
    rows = []
    for name in args.only.split(","):
        case = DATA[name]
        for precision in ("fp32", "bf16"):
            found = row(case, precision, ["--precision", precision], args.budget, prefix=args.name)
            rows.append({"data": name, "precision": precision, **found})
    load.append(os.getloadavg()[0])
    m = machine()
    lines = [
        "# float32 against bf16 autocast on the CPU, the same wall clock",
        "",
        header(f"--budget {args.budget} --only {args.only} --name {args.name}", m, load)
        + " Each row is the budget recipe nlpkit chooses for the data at this budget (`nlpkit info MODEL --recipe`), "
        "with `--precision`.",
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


def header(flags: str, m: dict, load: list[float]) -> str:
    """The result file's first line: the command, the machine with its CPU flags, the load."""
    return (
        f"`python bench/precision.py {flags}`; {m['cpu']} (flags {', '.join(m['cpu_flags'])}), {m['cores']} cores, "
        f"torch {m['torch']}, {m['date']}; 1-minute load {load[0]:.2f} at the start, {load[1]:.2f} at the end; one "
        "run at a time."
    )


def tune_ptb(args) -> None:
    import time

    import nlpkit

    ptb = SHARED / "ptb"
    start = ROOT / "bench" / "recipes" / "ptb-5m-tuned.toml"
    space = ROOT / "bench" / "recipes" / "ptb-space.toml"
    best = WORK / f"{args.name}-best.toml"
    for stale in (best, best.with_suffix(".journal")):
        stale.unlink(missing_ok=True)
    load, t0 = [os.getloadavg()[0]], time.monotonic()
    found = nlpkit.tune(
        "lm", train=str(ptb / "ptb.train.txt"), valid=[str(ptb / "ptb.valid.txt")], tokenizer="word",
        encoder="lstm", optimizer="sgd", clip=0.25, adaptive_softmax="2000,6000", precision="bf16",
        space=str(space), start_from=[str(start)], trial_budget=args.budget, budget=args.tune_ptb, out=str(best),
    )  # fmt: skip
    tune_s = round(time.monotonic() - t0, 1)
    found_row = row("ptb-10m", "tuned-bf16", ["--config", str(best)], args.budget, prefix=args.name)
    load.append(os.getloadavg()[0])
    m = machine()
    lines = [
        f"# PTB, word level, {args.budget}: a recipe searched in bf16",
        "",
        header(f"--tune-ptb {args.tune_ptb} --budget {args.budget} --name {args.name}", m, load),
        "",
        f"The search: {found['trials']} trials of {args.budget} ({found['pruned']} pruned, {found['failed']} failed) in "
        f"{tune_s:.0f} s, `--precision bf16` fixed with SGD, LSTM, clip 0.25 and the adaptive softmax; "
        f"{start.relative_to(ROOT)} (lm-word-5m) tried first; the space of {space.relative_to(ROOT)}; the best "
        f"trial's validation loss {found['value']:.4f}.",
        "",
        f"The best recipe trained again for {args.budget}: test perplexity **{found_row['value']:.2f}**, "
        f"{found_row['tokens_per_s']:,.0f} tokens/s, {found_row['epochs']:.2f} epochs "
        f"(`{found_row['command']}`).",
        "",
        "The recipe:",
        "",
        "```toml",
        best.read_text(encoding="utf-8").strip(),
        "```",
    ]
    record = {"machine": m, "load_1m": load, "budget_s": parse_duration(args.budget),
              "tune": {"budget_s": parse_duration(args.tune_ptb), "wall_s": tune_s, "trials": found["trials"],
                       "pruned": found["pruned"], "failed": found["failed"], "best_in_search": found["value"],
                       "recipe": found["best"]},
              "row": found_row}  # fmt: skip
    write(args.name, record, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
