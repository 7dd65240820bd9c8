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
    args = p.parse_args()
    test = need(SHARED / "conll2003" / "test.txt")
    model = need(WORK / "conll-nlpkit.nlpk")
    spacy_model = need(WORK / "spacy-conll" / "model" / "model-best")
    words = sum(1 for line in test.read_text().splitlines() if line.strip() and not line.startswith("-DOCSTART-"))
    nlpkit_cmd = ["nlpkit", "ner", "tag", str(model), "--input-format", "conll", "--format", "conll"]
    helper = str(Path(__file__).with_name("spacy_ner.py"))
    out = Path(tempfile.mkdtemp()) / "pred.jsonl"
    rows = {"nlpkit": {"whole": [], "tagging": []}, "spacy": {"whole": [], "tagging": []}}
    for _ in range(args.rounds):
        empty = wall(nlpkit_cmd)
        whole = wall(nlpkit_cmd, test)
        rows["nlpkit"]["whole"].append(whole)
        rows["nlpkit"]["tagging"].append(whole - empty)
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
        "seconds": rows,
        "words_per_s": speed,
    }
    ratio = {way: speed["nlpkit"][way] / speed["spacy"][way] for way in ("whole", "tagging")}
    m = record["machine"]
    lines = [
        "# NER tagging speed, CoNLL-2003 test set",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']}, {m['date']}. "
        f"Command: `python bench/ner_speed.py {' '.join(sys.argv[1:])}`; medians of {args.rounds} alternating rounds, "
        f"{words:,} words.",
        "",
        "| system | whole command (words/s) | tagging only (words/s) |",
        "|---|---:|---:|",
        f"| nlpkit `ner tag` (BiLSTM-CRF + char CNN, conll in/out) | {speed['nlpkit']['whole']:,} | "
        f"{speed['nlpkit']['tagging']:,} |",
        f"| spaCy 3 efficiency NER (`nlp.pipe`, batch 256) | {speed['spacy']['whole']:,} | {speed['spacy']['tagging']:,} |",
        f"| ratio nlpkit / spaCy | {ratio['whole']:.2f} | {ratio['tagging']:.2f} |",
        "",
        "Whole command: process start to exit, model loading and file reading included. Tagging only: "
        "nlpkit's whole command minus the same command on an empty input; spaCy's `nlp.pipe` timed in Python.",
    ]
    write("ner-speed", record, "\n".join(lines))


if __name__ == "__main__":
    main()
