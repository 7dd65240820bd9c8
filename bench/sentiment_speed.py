"""Sentiment prediction over 100,000 lines, whole command against whole command: nlpkit
`sentiment predict` in float32, int8 and ONNX against spaCy's textcat and TF-IDF + logistic
regression, each reading the file and writing one label per line.

Models: an SST-2 classifier (--model, a BiLSTM; its int8 and ONNX forms are the cached conversions
`--runtime auto` makes) and, with --bag, a second one (`--encoder bag`) timed the same way; spaCy's textcat of bench/sst2.py (bench/work/spacy-sst2/model/model-best),
and TF-IDF + LR (C=4) fitted here on SST-2 train. Input: SST-2's train, dev and test sentences
repeated to 100,000 lines. Systems alternate for --rounds rounds; medians. Each system's SST-2
test accuracy is measured once, untimed.

    python bench/sentiment_speed.py --rounds 3 --model work/budget-sst2-defaults.nlpk --bag work/sst2-bag.nlpk
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, SHARED, WORK, machine, need, spacy_python, write

LINES = 100_000


def texts(count: int) -> Path:
    path = WORK / f"sst2-{count}.txt"
    if not path.exists():
        sst2 = SHARED / "sst2"
        names = ("stsa.binary.train", "stsa.binary.dev", "stsa.binary.test")
        lines = [row.split(" ", 1)[1] for n in names for row in need(sst2 / n).read_text().splitlines()]
        path.write_text("".join(f"{lines[i % len(lines)]}\n" for i in range(count)), encoding="utf-8")
    return path


def timed(cmd: list[str], out: Path) -> float:
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    with open(out, "w") as f:
        subprocess.run(cmd, stdout=f, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--lines", type=int, default=LINES)
    p.add_argument("--model", default=str(WORK / "quantize" / "sst2.nlpk"), help="the SST-2 classifier (.nlpk) to time")
    p.add_argument("--bag", help="a second classifier (.nlpk, `--encoder bag`) timed beside --model")
    p.add_argument("--spacy-budget", default="4m", help="training time of spaCy's textcat when bench/sst2.py left none")
    args = p.parse_args()
    data = texts(args.lines)
    model = need(Path(args.model))
    models = {"": model, **({"bag ": need(Path(args.bag))} if args.bag else {})}
    os.environ["NLPKIT_CACHE"] = str(WORK / "runtime-cache")  # conversions made here, before any timing
    for path in models.values():
        for quantize, runtime in (("none", "onnx"), ("int8", "onnx"), ("auto", "auto")):
            subprocess.run(["nlpkit", "sentiment", "predict", str(path), "--quantize", quantize, "--runtime", runtime,
                            "--quiet"], input=b"warm up\n", stdout=subprocess.DEVNULL, check=True)  # fmt: skip
    tfidf = WORK / "tfidf-lr.pkl"
    subprocess.run([sys.executable, str(ROOT / "bench" / "tfidf_lr.py"), "fit", str(SHARED / "sst2" / "stsa.binary.train"), str(tfidf)], check=True)  # fmt: skip
    spacy_model = WORK / "spacy-sst2" / "model" / "model-best"
    if not spacy_model.exists():  # speed does not depend on how long it trained: train it briefly
        from sst2 import prepare, spacy

        from nlpkit.option_parsing import parse_duration

        prepare(copies=1)
        spacy(WORK / "sst2.train.tsv", WORK / "sst2.dev.tsv", WORK / "sst2.test.tsv", parse_duration(args.spacy_budget))
    out = WORK / "sentiment-speed.out"
    nlp = ["--threads", "2", "--quiet"]
    forms = {"PyTorch float32": ["--runtime", "torch"], "PyTorch int8": ["--runtime", "torch", "--quantize", "int8"],
             "ONNX float32": ["--runtime", "onnx"], "ONNX int8": ["--runtime", "onnx", "--quantize", "int8"],
             "default (`sentiment predict MODEL`)": []}  # fmt: skip
    systems = {
        f"nlpkit {kind}{form}": (["nlpkit", "sentiment", "predict", str(path), str(data), *flags, *nlp], out)
        for kind, path in models.items() for form, flags in forms.items()
    }  # fmt: skip
    systems |= {
        "spaCy textcat": ([str(spacy_python()), str(ROOT / "bench" / "spacy_textcat.py"), "label", str(spacy_model), str(data), str(out)], out.with_suffix(".log")),
        "TF-IDF + LR": ([sys.executable, str(ROOT / "bench" / "tfidf_lr.py"), "label", str(tfidf), str(data), str(out)], out.with_suffix(".log")),
    }  # fmt: skip
    record = {"benchmark": "sentiment-speed", "machine": machine(), "lines": args.lines, "load_before": os.getloadavg()}
    record["test_accuracy"] = accuracies(models, forms, spacy_model)
    seconds: dict[str, list[float]] = {name: [] for name in systems}
    for _ in range(args.rounds):
        for name, (cmd, stdout) in systems.items():  # nlpkit writes to stdout, the helpers to OUT
            out.unlink(missing_ok=True)
            seconds[name].append(round(timed(cmd, stdout), 2))
            written = sum(1 for _ in open(out))
            if written != args.lines:
                raise SystemExit(f"{name}: {written} output lines for {args.lines} input lines")
    record["load_after"] = os.getloadavg()
    record["seconds"] = seconds
    speed = {name: args.lines / statistics.median(s) for name, s in seconds.items()}
    record["lines_per_s"] = {k: round(v) for k, v in speed.items()}
    m = record["machine"]
    accuracy = record["test_accuracy"]
    rows = [
        f"| {name} | {accuracy[name] if name in accuracy else ''} | {statistics.median(seconds[name]):.2f} | "
        f"{speed[name]:,.0f} | {speed[name] / speed['nlpkit PyTorch float32']:.2f} | {speed[name] / speed['spaCy textcat']:.2f} |"
        for name in systems
    ]
    markdown = f"""# Sentiment prediction speed, {args.lines:,} lines

Command: `python bench/sentiment_speed.py {" ".join(sys.argv[1:])}` on {m["cpu"]} (flags: {", ".join(m["cpu_flags"])}), {m["cores"]} cores, torch {m["torch"]}, {m["date"]}.
Load average before {record["load_before"][0]:.2f}, after {record["load_after"][0]:.2f}; nothing else ran.
Whole commands (start-up, model loading, reading {args.lines:,} lines, writing a label per line), medians of
{args.rounds} alternating rounds; every system wrote exactly {args.lines:,} lines. nlpkit: `sentiment predict
--threads 2` on `{Path(args.model).name}`{f" and (the bag rows) `{Path(args.bag).name}`" if args.bag else ""}, each .nlpk file run with `--runtime torch|onnx` and `--quantize
none|int8` (the ONNX forms are the cached conversions `--runtime auto` makes), and with no options (the
default path); spaCy 3 textcat (`nlp.pipe`, batch 256); TF-IDF (1-2 grams) + logistic regression C=4 (scikit-learn), loaded from disk.

| system | SST-2 test accuracy | seconds | lines/s | vs nlpkit PyTorch float32 | vs spaCy textcat |
|---|---:|---:|---:|---:|---:|
{chr(10).join(rows)}
"""
    write("sentiment-speed", record, markdown)


def accuracies(models: dict, forms: dict, spacy_model: Path) -> dict:
    """SST-2 test accuracy of every system, untimed (`sentiment eval` per form; spaCy's `predict`)."""
    test = need(SHARED / "sst2" / "stsa.binary.test")
    found = {}
    for kind, path in models.items():
        for form, flags in forms.items():
            cmd = ["nlpkit", "sentiment", "eval", str(path), str(test), *flags, "--format", "json", "--quiet"]
            scored = json.loads(subprocess.run(cmd, capture_output=True, check=True, text=True).stdout)
            found[f"nlpkit {kind}{form}"] = f"{100 * scored['accuracy']:.2f}%"
    rows = [line.split(" ", 1) for line in test.read_text(encoding="utf-8").splitlines()]
    tsv = WORK / "sst2-test-for-spacy.tsv"
    tsv.write_text("".join(f"{label}\t{text}\n" for label, text in rows), encoding="utf-8")
    cmd = [str(spacy_python()), str(ROOT / "bench" / "spacy_textcat.py"), "predict", str(spacy_model), str(tsv)]
    scored = json.loads(subprocess.run(cmd, capture_output=True, check=True, text=True).stdout.strip().splitlines()[-1])
    found["spaCy textcat"] = f"{100 * scored['accuracy']:.2f}%"
    return found


if __name__ == "__main__":
    main()
