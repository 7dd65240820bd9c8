"""PTB word-level language modeling: nlpkit against a bare PyTorch loop, and test perplexity
under a wall-clock budget.

    python bench/ptb.py speed               # tokens/s, nlpkit vs bench/bare_lstm_lm.py, alternating
    python bench/ptb.py quality --budget 10m  # train within the budget, then test perplexity

Model (the issue's): 2-layer LSTM, 200 units, BPTT 35, batch 20, tied embeddings, SGD lr 20,
gradient clipping 0.25.
"""

import argparse
import json
import statistics
import sys

from common import ROOT, SHARED, WORK, machine, need, recipe, run, write

PTB = SHARED / "ptb"
MODEL = recipe("ptb-lstm")


def speed(args) -> None:
    train = str(need(PTB / "ptb.train.txt"))
    WORK.mkdir(parents=True, exist_ok=True)
    bare, ours = [], []
    for _ in range(args.rounds):
        out = run(
            [
                sys.executable,
                str(ROOT / "bench" / "bare_lstm_lm.py"),
                train,
                "--steps",
                str(args.steps),
                "--dropout",
                "0.2",
            ]
        )
        bare.append(json.loads(out["stdout"])["tokens_per_s"])
        metrics = WORK / "ptb-speed.json"
        run(
            [
                "nlpkit",
                "lm",
                "train",
                train,
                *MODEL,
                "--dropout",
                "0.2",
                "--max-steps",
                str(args.steps),
                "--quiet",
                "--metrics-out",
                str(metrics),
                "--out",
                str(WORK / "ptb-speed.nlpk"),
            ],
            WORK / "ptb-speed.log",
        )
        ours.append(json.loads(metrics.read_text())["train"]["tokens_per_s"])
    ratios = [o / b for o, b in zip(ours, bare, strict=True)]
    record = {
        "benchmark": "ptb-speed",
        "machine": machine(),
        "steps_per_run": args.steps,
        "rounds": args.rounds,
        "bare_tokens_per_s": bare,
        "nlpkit_tokens_per_s": ours,
        "ratios": [round(r, 3) for r in ratios],
        "median_ratio": round(statistics.median(ratios), 3),
        "command_nlpkit": "nlpkit lm train ptb.train.txt "
        + " ".join(MODEL)
        + f" --dropout 0.2 --max-steps {args.steps}",
        "command_bare": f"python bench/bare_lstm_lm.py ptb.train.txt --steps {args.steps} --dropout 0.2",
    }
    md = (
        f"""# PTB training throughput: nlpkit vs a bare PyTorch loop

Same model (2x200 LSTM, tied, BPTT 35, batch 20, SGD, clip 0.25), {args.steps} steps per run, runs alternating,
{args.rounds} rounds. Measured {record["machine"]["date"]} on {record["machine"]["cpu"]}, {record["machine"]["cores"]} cores, torch {record["machine"]["torch"]}.
Command: `python bench/ptb.py speed --steps {args.steps} --rounds {args.rounds}`

| round | bare PyTorch tokens/s | nlpkit tokens/s | ratio |
|---|---:|---:|---:|
"""
        + "".join(
            f"| {i + 1} | {b:,.0f} | {o:,.0f} | {r:.3f} |\n"
            for i, (b, o, r) in enumerate(zip(bare, ours, ratios, strict=True))
        )
        + f"""
**Median ratio nlpkit / bare: {record["median_ratio"]:.3f}** (target >= 1.0).
"""
    )
    write("ptb-speed", record, md)


def quality(args) -> None:
    train, valid, test = (str(need(PTB / f"ptb.{s}.txt")) for s in ("train", "valid", "test"))
    WORK.mkdir(parents=True, exist_ok=True)
    tag = f"ptb-quality-{args.budget}" + (f"-{args.tag}" if args.tag else "")
    model = WORK / f"{tag}.nlpk"
    metrics = WORK / f"{tag}.json"
    model_args = MODEL + (["--no-tie-weights"] if args.untied else [])
    cmd = [
        "nlpkit",
        "lm",
        "train",
        train,
        "--valid",
        valid,
        *model_args,
        "--dropout",
        str(args.dropout),
        "--time-budget",
        args.budget,
        "--metrics-out",
        str(metrics),
        "--out",
        str(model),
        *args.extra,
    ]
    trained = run(cmd, WORK / f"{tag}.log")
    result = run(["nlpkit", "lm", "eval", str(model), test, "--format", "json"])
    test_metrics = json.loads(result["stdout"])
    m = json.loads(metrics.read_text())
    record = {
        "benchmark": tag,
        "machine": machine(),
        "command": " ".join(cmd).replace(str(PTB) + "/", ""),
        "budget": args.budget,
        "train": m["train"],
        "valid": m.get("valid"),
        "test": test_metrics,
        "train_wall_s": trained["wall_s"],
        "peak_rss_mib": trained["peak_rss_mib_so_far"],
    }
    history = "".join(
        f"| {h['step']:,} | {h['epoch']} | {h['seconds']} | {h['train_loss']:.3f} | {h.get('valid_ppl', float('nan')):.2f} |\n"
        for h in m["train"]["history"]
    )
    md = f"""# PTB word-level LM, {args.budget} budget

Measured {record["machine"]["date"]} on {record["machine"]["cpu"]}, {record["machine"]["cores"]} cores, torch {record["machine"]["torch"]}.
Command: `{record["command"]}` then `nlpkit lm eval MODEL ptb.test.txt`.

**Test perplexity {test_metrics["perplexity"]:.2f}** ({test_metrics["tokens"]:,} tokens); best validation perplexity
{m["valid"]["valid_ppl"]:.2f}; {m["train"]["steps"]:,} steps = {m["train"]["epochs"]} epochs in {m["train"]["seconds"]:.0f} s;
training throughput {m["train"]["tokens_per_s"]:,.0f} tokens/s; clipped steps {100 * m["train"]["clipped_share"]:.1f}%;
peak RSS {record["peak_rss_mib"]:.0f} MiB.

| step | epoch | seconds | train loss | valid ppl |
|---:|---:|---:|---:|---:|
{history}"""
    write(tag, record, md)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="what", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--steps", type=int, default=150)
    s.add_argument("--rounds", type=int, default=3)
    q = sub.add_parser("quality")
    q.add_argument("--budget", default="10m")
    q.add_argument("--dropout", type=float, default=0.1)
    q.add_argument("--tag", default="", help="suffix for the result files (a variant of the recipe)")
    q.add_argument("--untied", action="store_true", help="drop --tie-weights (needed with --adaptive-softmax)")
    q.add_argument("extra", nargs="*", help="more nlpkit lm train options (after --)")
    a = p.parse_args()
    speed(a) if a.what == "speed" else quality(a)
