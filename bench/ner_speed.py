"""Tagging speed on the CoNLL-2003 test set (46,435 words), nlpkit `ner tag` against spaCy's
trained "efficiency" NER pipeline, both measured two ways in the same run:

- whole command: the wall time of a process that loads the model, reads the file, tags it and
  writes the tags (start-up and model loading included);
- tagging only: the whole command minus the same command on an empty input (nlpkit), and
  spaCy's `nlp.pipe` over pre-tokenized Docs timed inside Python.

Uses the models left in bench/work by `python bench/conll.py`; alternates the systems for
`--rounds` rounds and reports medians.

    python bench/ner_speed.py --rounds 3
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import SHARED, WORK, machine, need, spacy_python, write


def wall(cmd: list[str], stdin: Path | None = None) -> float:
    t0 = time.perf_counter()
    with open(stdin or "/dev/null", "rb") as f:
        subprocess.run(cmd, stdin=f, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--spacy-budget", default="4m", help="training time of spaCy's model when bench/conll.py left none")
    test = need(SHARED / "conll2003" / "test.txt")
    p.add_argument("--model", default=str(WORK / "conll-nlpkit.nlpk"), help="the CoNLL tagger (.nlpk) to time")
    args = p.parse_args()
    model = need(Path(args.model))
    spacy_model = WORK / "spacy-conll" / "model" / "model-best"
    provenance = WORK / "spacy-conll" / "provenance.txt"  # who trained the model left there, and how long
    spacy_note = provenance.read_text().strip() if provenance.exists() else "the 20-minute model of bench/conll.py"
    if not spacy_model.exists():  # speed does not depend on how long it trained: train it briefly
        from conll import spacy_run

        from nlpkit.option_parsing import parse_duration

        conll = SHARED / "conll2003"
        trained = spacy_run(conll / "train.txt", conll / "valid.txt", test, parse_duration(args.spacy_budget))
        spacy_note = f"trained {trained['train_s']:.0f} s for this run (test F1 {100 * trained['f1']:.2f})"
        provenance.write_text(f"trained {trained['train_s']:.0f} s by bench/ner_speed.py on {machine()['date']} "
                              f"(test F1 {100 * trained['f1']:.2f})\n")  # fmt: skip
    os.environ["NLPKIT_CACHE"] = str(WORK / "runtime-cache")  # conversions made here, before any timing
    words = sum(1 for line in test.read_text().splitlines() if line.strip() and not line.startswith("-DOCSTART-"))
    variants = {  # name: (quantize, runtime); every one runs the same .nlpk file
        "nlpkit PyTorch float32": ("none", "torch"),
        "nlpkit PyTorch int8": ("int8", "torch"),
        "nlpkit ONNX float32": ("none", "onnx"),
        "nlpkit ONNX int8": ("int8", "onnx"),
        "nlpkit default (`ner tag MODEL`)": ("auto", "auto"),
    }
    f1 = {}
    ran = {}
    for name, (mode, runtime) in variants.items():  # also converts each form into the cache
        scores = subprocess.run(
            ["nlpkit", "ner", "eval", str(model), str(test), "--format", "json", "--quantize", mode, "--runtime", runtime],
            capture_output=True, text=True, check=True, env={**os.environ, "FORCE_COLOR": "1"},  # the start-up note
        )  # fmt: skip
        f1[name] = json.loads(scores.stdout)["f1"]
        ran[name] = next((line.split("running in ", 1)[1] for line in scores.stderr.splitlines() if "running in " in line),
                         "PyTorch float32")  # fmt: skip
    helper = str(Path(__file__).with_name("spacy_ner.py"))
    out = Path(tempfile.mkdtemp()) / "pred.jsonl"
    rows = {name: {"whole": [], "tagging": []} for name in [*variants, "spacy"]}
    load_before = os.getloadavg()
    for _ in range(args.rounds):
        for name, (mode, runtime) in variants.items():
            cmd = ["nlpkit", "ner", "tag", str(model), "--input-format", "conll", "--format", "conll",
                   "--quantize", mode, "--runtime", runtime]  # fmt: skip
            empty = wall(cmd)
            whole = wall(cmd, test)
            rows[name]["whole"].append(whole)
            rows[name]["tagging"].append(whole - empty)
        t0 = time.perf_counter()
        proc = subprocess.run(
            [str(spacy_python()), helper, "predict", str(spacy_model), str(test), str(out)],
            capture_output=True,
            text=True,
            check=True,
        )
        rows["spacy"]["whole"].append(time.perf_counter() - t0)
        rows["spacy"]["tagging"].append(json.loads(proc.stdout)["seconds"])
    speed = {
        system: {way: round(words / statistics.median(times)) for way, times in ways.items()}
        for system, ways in rows.items()
    }
    record = {
        "benchmark": "ner-speed",
        "machine": machine(),
        "words": words,
        "rounds": args.rounds,
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "f1": f1,
        "default_runs": ran["nlpkit default (`ner tag MODEL`)"],
        "spacy_model": spacy_note,
        "seconds": rows,
        "words_per_s": speed,
    }
    m = record["machine"]
    table = []
    for name in variants:
        ratio = {way: speed[name][way] / speed["spacy"][way] for way in ("whole", "tagging")}
        table.append(
            f"| {name} `ner tag` | {100 * f1[name]:.2f} | {speed[name]['whole']:,} ({ratio['whole']:.2f}x) | "
            f"{speed[name]['tagging']:,} ({ratio['tagging']:.2f}x) |"
        )
    lines = [
        "# NER tagging speed, CoNLL-2003 test set",
        "",
        f"Machine: {m['cpu']} (flags: {', '.join(m['cpu_flags'])}), {m['cores']} cores, torch {m['torch']}, {m['date']}. "
        f"Command: `python bench/ner_speed.py {' '.join(sys.argv[1:])}`; medians of {args.rounds} alternating rounds, "
        f"{words:,} words. Load average before {load_before[0]:.2f}, after {record['load_after'][0]:.2f}; nothing else ran.",
        "",
        "| system | test F1 | whole command, words/s (vs spaCy) | tagging only, words/s (vs spaCy) |",
        "|---|---:|---:|---:|",
        *table,
        f"| spaCy 3 efficiency NER (`nlp.pipe`, batch 256) | | {speed['spacy']['whole']:,} | {speed['spacy']['tagging']:,} |",
        "",
        f"nlpkit: `{model.name}` (BiLSTM-CRF + char CNN; conll in/out), one .nlpk file run with `--runtime torch|onnx` "
        "and `--quantize none|int8` (the ONNX forms are the cached conversions `--runtime auto` makes; they run without "
        f"torch), and with no options: the default path ran {ran['nlpkit default (`ner tag MODEL`)']}. "
        "F1 from `ner eval` on each. "
        f"spaCy: {spacy_note}. Whole command: process start to exit, model loading and file reading included. "
        "Tagging only: nlpkit's whole command minus the same command on an empty input; spaCy's `nlp.pipe` timed in Python.",
    ]
    write("ner-speed", record, "\n".join(lines))


if __name__ == "__main__":
    main()
