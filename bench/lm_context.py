"""How much context trained PTB language models use (issue 26): `nlpkit diagnose context` and
`nlpkit diagnose gradients` on an LSTM, a GRU and a Transformer trained for the same budget (and
on the 30-minute AWD LSTM of bench/results/ptb-awd-30m.md when it is there).

    python bench/lm_context.py --budget 3m [--lstm bench/work/issue26/ablation-none.nlpk]

The LSTM is bench/recipes/ptb-ablation.toml (the ablation's base, trained by
`bench/lm_regularisers.py ablation`, or here when --lstm is not given); the GRU is the same recipe
with `--encoder gru`; the Transformer the same data and budget with AdamW (SGD at rate 20 does not
train one) and a 128-token context.
"""

import argparse
import json

from common import SHARED, WORK, machine, need, recipe, run, write

PTB = SHARED / "ptb"
OUT = WORK / "issue26"
TRANSFORMER = "--encoder transformer --heads 4 --optimizer adamw --lr 1e-3 --warmup 200 --clip 1 --context 128"


def train(name: str, flags: list[str], budget: str) -> str:
    model = OUT / f"{name}.nlpk"
    train, valid = (str(need(PTB / f"ptb.{s}.txt")) for s in ("train", "valid"))
    cmd = ["nlpkit", "lm", "train", train, "--valid", valid, *recipe("ptb-ablation"), *flags]
    run([*cmd, "--time-budget", budget, "--out", str(model), "--quiet"], OUT / f"{name}.log")
    return str(model)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--budget", default="3m")
    p.add_argument("--lstm", help="the LSTM of the same budget, if trained already")
    p.add_argument("--positions", type=int, default=2000)
    args = p.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    models = {
        "lstm": args.lstm or train(f"context-lstm-{args.budget}", [], args.budget),
        "gru": train(f"context-gru-{args.budget}", ["--encoder", "gru"], args.budget),
        "transformer": train(f"context-transformer-{args.budget}", TRANSFORMER.split(), args.budget),
    }
    awd = OUT / "ptb-awd-30m.nlpk"
    if awd.exists():
        models["lstm, AWD recipe, 30 min"] = str(awd)
    test = str(need(PTB / "ptb.test.txt"))
    lengths = "1,2,3,5,10,20,50,100,200"
    context_cmd = ["nlpkit", "diagnose", "context", *models.values(), "--text", test, "--lengths", lengths]
    context_cmd += ["--positions", str(args.positions), "--format", "json"]
    context = json.loads(run(context_cmd)["stdout"])
    grad_cmd = [
        "nlpkit",
        "diagnose",
        "gradients",
        "--text",
        test,
        "--length",
        "100",
        "--batch",
        "32",
        "--format",
        "json",
    ]
    for path in models.values():
        grad_cmd += ["--model", path]
    gradients = json.loads(run(grad_cmd)["stdout"])
    record = {"benchmark": "lm-context", "machine": machine(), "models": models, "context": context}
    record.update({"gradients": gradients, "commands": [" ".join(context_cmd), " ".join(grad_cmd)]})
    ks = context["lengths"]
    rows = []
    for name, path in models.items():
        r = context["results"][path]
        by_k = {row["context"]: row["loss"] for row in r["rows"]}
        rows.append(
            f"| {name} | "
            + " | ".join(f"{by_k[k]:.3f}" if k in by_k else "-" for k in ks)
            + f" | {r['full_loss']:.3f} |"
        )
    marks = [0, 1, 5, 10, 20, 50, 99]
    grows = []
    for name, path in models.items():
        for state in ("trained", "untrained"):
            g = gradients["results"][f"{path} ({state})"]
            cells = " | ".join(f"{g['norms'][d]:.2e}" for d in marks)
            grows.append(f"| {name}, {state} | {cells} | {g['decay_per_step']:.3f} |")
    md = (
        f"""# Context use of trained PTB language models (issue 26)

Measured {record["machine"]["date"]} on {record["machine"]["cpu"]}, {record["machine"]["cores"]} cores,
torch {record["machine"]["torch"]}. Command: `python bench/lm_context.py --budget {args.budget}{" --lstm " + args.lstm if args.lstm else ""}`.
Models: the same PTB data and a {args.budget} training budget each (LSTM and GRU: bench/recipes/ptb-ablation.toml;
Transformer: the same with `{TRANSFORMER}`), and the 30-minute AWD-LSTM where present.

## Loss (nats/token) at {context["results"][models["lstm"]]["positions"]:,} positions of ptb.test.txt, reading only the last k tokens

`{" ".join(context_cmd)}`

| model | """
        + " | ".join(f"k={k}" for k in ks)
        + """ | whole history |
|---|"""
        + "---:|" * (len(ks) + 1)
        + "\n"
        + "\n".join(rows)
        + f"""

## Gradient norm of the loss at the last of 100 tokens with respect to the input t steps back

`{" ".join(grad_cmd)}` (32 windows of ptb.test.txt; "untrained": the same model re-initialised)

| model | """
        + " | ".join(f"t-{d}" for d in marks)
        + """ | change per step back |
|---|"""
        + "---:|" * (len(marks) + 1)
        + "\n"
        + "\n".join(grows)
        + "\n"
    )
    write("lm-context", record, md.replace(str(PTB) + "/", ""))


if __name__ == "__main__":
    main()
