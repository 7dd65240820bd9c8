"""PTB word-level language models with the AWD-LSTM regularisers (issue 26).

    python bench/lm_regularisers.py ptb --budget 30m [--peer | --peer-from LOG.jsonl]
    python bench/lm_regularisers.py ablation --budget 3m

`ptb` trains bench/recipes/ptb-awd.toml for the budget (validating on a clock-independent step
grid, so the curve is a curve), tests the kept model, and sets it beside the PyTorch
word_language_model example's recipe (bench/peers/word_lm_example.py) trained for the same
budget on the same machine: run here with --peer, or read from the log of a run made earlier in
the same session with --peer-from. `ablation` trains bench/recipes/ptb-ablation.toml (the same
model with every regulariser off) and then the same with each regulariser alone, each for the
same budget, and tests each.
"""

import argparse
import json
import subprocess
import sys

from common import RESULTS, ROOT, SHARED, WORK, machine, need, recipe, run, write

PTB = SHARED / "ptb"
OUT = WORK / "issue26"

# Each regulariser alone, as bench/recipes/ptb-awd.toml sets it (on the plain dropout 0.1 of the base).
FEATURES = {
    "locked dropout (input 0.2, between layers 0.1, output 0.25)": [
        "--input-dropout", "0.2", "--layer-dropout", "0.1", "--output-dropout", "0.25",
    ],
    "weight drop 0.15": ["--weight-drop", "0.15"],
    "embedding dropout 0.05": ["--embedding-dropout", "0.05"],
    "AR 2 + TAR 1": ["--ar", "2", "--tar", "1"],
    "variable BPTT": ["--variable-bptt"],
    "NT-ASGD (window 1: a short run validates few times)": ["--asgd", "1"],
}  # fmt: skip


def files():
    return [str(need(PTB / f"ptb.{s}.txt")) for s in ("train", "valid", "test")]


def train_and_test(name: str, flags: list[str], budget: str) -> dict:
    train, valid, test = files()
    OUT.mkdir(parents=True, exist_ok=True)
    model, metrics = OUT / f"{name}.nlpk", OUT / f"{name}.json"
    cmd = ["nlpkit", "lm", "train", train, "--valid", valid, *flags, "--time-budget", budget]
    cmd += ["--metrics-out", str(metrics), "--out", str(model), "--quiet"]
    trained = run(cmd, OUT / f"{name}.log")
    tested = json.loads(run(["nlpkit", "lm", "eval", str(model), test, "--format", "json"])["stdout"])
    m = json.loads(metrics.read_text())
    shown = " ".join(cmd).replace(str(PTB) + "/", "").replace(str(ROOT) + "/", "")
    return {"command": shown, "train": m["train"], "test": tested, "peak_rss_mib": trained["peak_rss_mib_so_far"]}


def load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def peer(budget_s: float, log_from: str | None) -> dict:
    if log_from:
        lines = [json.loads(line) for line in open(log_from) if line.strip()]
        return {"log": log_from, "epochs": lines[:-1], "summary": lines[-1]}
    cmd = [sys.executable, str(ROOT / "bench" / "peers" / "word_lm_example.py"), str(PTB), "--budget", str(budget_s)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    return {"command": " ".join(cmd[1:]).replace(str(ROOT) + "/", ""), "epochs": lines[:-1], "summary": lines[-1]}


def seconds(budget: str) -> float:
    from nlpkit.option_parsing import parse_duration

    return parse_duration(budget)


def ptb(args) -> None:
    before = load()
    ours = train_and_test(f"ptb-awd-{args.budget}", recipe(args.recipe), args.budget)
    theirs = peer(seconds(args.budget), args.peer_from) if (args.peer or args.peer_from) else None
    record = {"benchmark": f"ptb-awd-{args.budget}", "machine": machine(), "load_before": before, "load_after": load()}
    record.update({"recipe": args.recipe, "nlpkit": ours, "peer": theirs})
    t = ours["train"]
    curve = "".join(
        f"| {h['step']:,} | {h['epoch']} | {h['seconds']} | {h['train_loss']:.3f} | {h.get('valid_ppl', float('nan')):.2f} |\n"
        for h in t["history"]
    )
    peer_md = ""
    if theirs:
        s = theirs["summary"]
        rows = "".join(
            f"| {e['epoch']} | {e['seconds']} | {e['valid_ppl']:.2f} | {e['lr']:g} |\n" for e in theirs["epochs"]
        )
        peer_md = f"""
## Peer: the PyTorch word_language_model example's recipe, same budget, same machine

`{theirs.get("command") or "python bench/peers/word_lm_example.py ptb --budget " + str(s["budget_s"])}`
(2x200 LSTM, tied, dropout 0.2, SGD lr 20 divided by 4 when validation stalls, clip 0.25, batch 20, BPTT 35).
**Test perplexity {s["test_ppl"]:.2f}**, best validation {s["best_valid_ppl"]:.2f}, {s["epochs"]} epochs,
{s["tokens_per_s"]:,.0f} tokens/s (evaluation included).

| epoch | seconds | valid ppl | lr |
|---:|---:|---:|---:|
{rows}"""
    md = f"""# PTB word level: {args.recipe} for {args.budget} (issue 26)

Measured {record["machine"]["date"]} on {record["machine"]["cpu"]}, {record["machine"]["cores"]} cores,
torch {record["machine"]["torch"]}; load average before {before}, after {record["load_after"]}.
Command: `python bench/lm_regularisers.py ptb --budget {args.budget} --recipe {args.recipe}` which runs
`{ours["command"]}` then `nlpkit lm eval MODEL ptb.test.txt`.

**Test perplexity {ours["test"]["perplexity"]:.2f}** ({ours["test"]["tokens"]:,} tokens); kept model's validation
perplexity {t["best"].get("valid_ppl", float("nan")):.2f} (step {t["best_step"]:,}); {t["steps"]:,} steps = {t["epochs"]} epochs in
{t["seconds"]:.0f} s; {t["tokens_per_s"]:,.0f} training tokens/s; clipped steps {100 * t["clipped_share"]:.1f}%.

| step | epoch | seconds | train loss | valid ppl |
|---:|---:|---:|---:|---:|
{curve}{peer_md}"""
    write(f"ptb-awd-{args.budget}", record, md)


def ablation(args) -> None:
    before = load()
    base = recipe("ptb-ablation")
    runs = {"none (dropout 0.1 only)": train_and_test("ablation-none", base, args.budget)}
    for i, (name, flags) in enumerate(FEATURES.items()):
        runs[name] = train_and_test(f"ablation-{i}", base + flags, args.budget)
    record = {"benchmark": f"ptb-ablation-{args.budget}", "machine": machine(), "load_before": before}
    record.update({"load_after": load(), "runs": runs})
    none = runs["none (dropout 0.1 only)"]["test"]["perplexity"]
    rows = "".join(
        f"| {name} | {r['test']['perplexity']:.2f} | {r['test']['perplexity'] - none:+.2f} | "
        f"{r['train']['best'].get('valid_ppl', float('nan')):.2f} | {r['train']['epochs']} | {r['train']['tokens_per_s']:,.0f} |\n"
        for name, r in runs.items()
    )
    md = f"""# PTB ablation: each regulariser alone, {args.budget} each (issue 26)

Measured {record["machine"]["date"]} on {record["machine"]["cpu"]}, {record["machine"]["cores"]} cores,
torch {record["machine"]["torch"]}; load average before {before}, after {record["load_after"]}; the runs one
after another, nothing else of this session running.
Command: `python bench/lm_regularisers.py ablation --budget {args.budget}`: bench/recipes/ptb-ablation.toml
(`{runs["none (dropout 0.1 only)"]["command"]}`) and the same with each regulariser's flags added.

| regulariser alone | test ppl | vs none | valid ppl | epochs | tokens/s |
|---|---:|---:|---:|---:|---:|
{rows}"""
    write(f"ptb-ablation-{args.budget}", record, md)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="what", required=True)
    q = sub.add_parser("ptb")
    q.add_argument("--budget", default="30m")
    q.add_argument("--recipe", default="ptb-awd")
    q.add_argument("--peer", action="store_true", help="also train the PyTorch example's recipe for the budget")
    q.add_argument("--peer-from", help="the JSON-lines log of a peer run made earlier in this session")
    a = sub.add_parser("ablation")
    a.add_argument("--budget", default="3m")
    args = p.parse_args()
    ptb(args) if args.what == "ptb" else ablation(args)
    print(f"results in {RESULTS}", file=sys.stderr)
