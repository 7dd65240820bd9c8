"""The training loop's own cost: the same small language models trained for a fixed number of
steps by this checkout and by an earlier commit's, alternately, several rounds; training tokens/s
as the run reports it (evaluation excluded). Small models, so per-step overhead of the loop
shows rather than hides behind arithmetic.

    python bench/loop_speed.py --before /tmp/nlpkit-loop-before [--now CHECKOUT] [--rounds 3] [--steps 400]

(`git worktree add --detach /tmp/nlpkit-loop-before <commit>` makes the earlier checkout.)
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from common import ROOT, SHARED, WORK, machine, need, run, write

MODELS = {
    "lstm 1x64, char": ["--encoder", "lstm", "--layers", "1", "--hidden", "64", "--tokenizer", "char"],
    "transformer 2x64, char": ["--encoder", "transformer", "--layers", "2", "--hidden", "64", "--heads", "4",
                               "--tokenizer", "char"],
}  # fmt: skip
COMMON = ["--context", "64", "--batch-size", "16", "--seed", "0", "--device", "cpu", "--threads", "2", "--quiet"]


def tokens_per_s(checkout: Path, flags: list[str], steps: int, text: Path) -> float:
    os.chdir(checkout)  # `python -m nlpkit` imports the package of the folder it starts in
    out = WORK / "loop-speed.nlpk"
    cmd = [sys.executable, "-m", "nlpkit", "lm", "train", str(text), *flags, *COMMON, "--max-steps", str(steps)]
    run([*cmd, "--out", str(out)])
    info = json.loads(run([sys.executable, "-m", "nlpkit", "info", str(out), "--format", "json"])["stdout"])
    return info["metrics"]["train"]["tokens_per_s"]


OVERHEAD = """
import time, torch
torch.set_num_threads(1)
from nlpkit.training import TrainConfig, Trainer
make = getattr(TrainConfig, "make", TrainConfig)  # TrainConfig(**options) before from_options existed
config = make(lr=1e-3, max_steps={steps}, schedule="cosine")
class Task:
    metric, higher_is_better = "valid_loss", False
    def __init__(self):
        self.model, self.x = torch.nn.Linear(4, 1), torch.randn(8, 4)
    def steps_per_epoch(self):
        return 10**6
    def batches(self, epoch, start):
        while True:
            yield self.x
    def loss(self, batch):
        return self.model(batch).pow(2).mean(), 8
    def evaluate(self):
        return {{}}
trainer = Trainer(Task(), config, torch.device("cpu"), quiet=True)
t0 = time.perf_counter()
trainer.fit()
print((time.perf_counter() - t0) / {steps} * 1e6)
"""


def loop_overhead(checkout: Path, steps: int = 3000) -> float:
    """Microseconds per step of the loop around a model that costs nothing (a 4x1 linear layer)."""
    os.chdir(checkout)
    return float(run([sys.executable, "-c", OVERHEAD.format(steps=steps)])["stdout"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, type=Path)
    parser.add_argument("--now", type=Path, default=ROOT, help="a checkout of the commit to time (default: this one)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=400)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    text = need(SHARED / "tinyshakespeare" / "input.txt")
    load = [os.getloadavg()[0]]
    forms = {"before": args.before, "now": args.now}
    found = {(m, f): [] for m in MODELS for f in forms}
    overhead = {f: [] for f in forms}
    for _ in range(args.rounds):
        for model, flags in MODELS.items():
            for form, checkout in forms.items():  # alternated, so a drift in load hits both alike
                found[model, form].append(tokens_per_s(checkout, flags, args.steps, text))
        for form, checkout in forms.items():
            overhead[form].append(loop_overhead(checkout))
    load.append(os.getloadavg()[0])
    commits = {
        f: subprocess.run(
            ["git", "-C", str(c), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        for f, c in forms.items()
    }
    rows = []
    for model in MODELS:
        before, now = (statistics.median(found[model, f]) for f in forms)
        rows.append({"model": model, "before": before, "now": now, "ratio": round(now / before, 3),
                     "runs": {f: found[model, f] for f in forms}})  # fmt: skip
    loop = {f: round(statistics.median(v), 1) for f, v in overhead.items()}
    result = {
        "machine": machine(), "commits": commits, "steps": args.steps, "load_1m": load, "rows": rows,
        "loop_us_per_step": loop, "loop_runs": overhead,
    }  # fmt: skip
    lines = [
        "# The training loop's cost, before and after the loop was restructured",
        "",
        f"`python bench/loop_speed.py --before CHECKOUT --now CHECKOUT --rounds {args.rounds} --steps {args.steps}`; "
        f"{result['machine']['cpu']}, {result['machine']['cores']} cores, torch {result['machine']['torch']}, "
        f"{result['machine']['date']}; commits: before {commits['before']}, now {commits['now']}; "
        f"1-minute load {load[0]:.2f} at the start, {load[1]:.2f} at the end.",
        f"Flags: `{' '.join(COMMON)}`, tiny Shakespeare; median training tokens/s of {args.rounds} runs each, "
        "alternated.",
        "",
        "| model | before | now | now / before |",
        "|---|---|---|---|",
        *(f"| {r['model']} | {r['before']:,.0f} | {r['now']:,.0f} | {r['ratio']:.3f} |" for r in rows),
        "",
        f"The loop alone (a 4x1 linear layer, 3,000 steps, one thread; median of {args.rounds}): "
        f"{loop['before']} us a step before, {loop['now']} us now ({loop['now'] / loop['before']:.3f}).",
    ]
    write("loop-speed", result, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
