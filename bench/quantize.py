"""float32 against int8 (`nlpkit quantize`) for every task on its benchmark data: file size, the
task's score, and the speed of the whole predict command, in the same run.

    python bench/quantize.py --rounds 3     # about 10 minutes; keep the machine otherwise idle

Models (trained beforehand into bench/work): the CoNLL-2003 BiLSTM-CRF tagger of
bench/threads.py (bench/work/threads-ner.nlpk, recipe conll-bilstm-crf), the PTB 2x200 LSTM of
bench/ptb.py's speed run (bench/work/ptb-speed.nlpk; tied embeddings, so its output layer stays
float), and two trained for this benchmark:

    nlpkit sentiment train SST2/stsa.binary.train --valid SST2/stsa.binary.dev --input-format label-first \
        --config bench/recipes/sst2-scratch.toml --time-budget 5m --threads 1 --out bench/work/quantize/sst2.nlpk
    nlpkit translate train --src M30K/train.de --tgt M30K/train.en --valid-src M30K/val.de --valid-tgt M30K/val.en \
        --config bench/recipes/multi30k-gru.toml --hidden 192 --batch-tokens 2048 --eval-every 400 \
        --time-budget 28m --threads 1 --out bench/work/quantize/multi30k-gru.nlpk   (15 min, then --resume)
Speed: whole commands (start-up and loading included), float32 and int8 alternating, medians.
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

from common import SHARED, WORK, machine, need, write

Q = WORK / "quantize"


def tasks() -> dict:
    conll, ptb, sst2, m30k = (SHARED / d for d in ("conll2003", "ptb", "sst2", "multi30k"))
    sst2_texts = Q / "sst2-test-x10.txt"
    if not sst2_texts.exists():  # the test sentences without labels, ten times: long enough to time
        lines = [line.split(" ", 1)[1] for line in need(sst2 / "stsa.binary.test").read_text().splitlines()]
        sst2_texts.write_text("".join(f"{line}\n" for line in lines * 10))
    test = need(conll / "test.txt")
    words = sum(1 for line in test.read_text().splitlines() if line.strip() and not line.startswith("-DOCSTART-"))
    return {
        "ner (CoNLL-2003 test)": {
            "model": WORK / "threads-ner.nlpk",
            "score": (["ner", "eval", "{m}", str(test), "--format", "json"], lambda r: ("micro F1", r["f1"])),
            "speed": (["ner", "tag", "{m}", str(test), "--input-format", "conll", "--format", "conll"], words, "words"),
        },
        "lm (PTB test)": {
            "model": WORK / "ptb-speed.nlpk",
            "score": (["lm", "eval", "{m}", str(need(ptb / "ptb.test.txt")), "--format", "json"], lambda r: ("perplexity", r["perplexity"])),
            "speed": (["lm", "score", "{m}", str(ptb / "ptb.test.txt")], 3761, "lines"),
        },
        "sentiment (SST-2 test)": {
            "model": Q / "sst2.nlpk",
            "score": (
                ["sentiment", "eval", "{m}", str(sst2 / "stsa.binary.test"), "--input-format", "label-first", "--format", "json"],
                lambda r: ("accuracy", r["accuracy"]),
            ),
            "speed": (["sentiment", "predict", "{m}", str(sst2_texts)], 18210, "sentences"),
        },
        "translate (Multi30k de-en test2016, beam 5)": {
            "model": Q / "multi30k-gru.nlpk",
            "score": (
                ["translate", "eval", "{m}", "--src", str(m30k / "test_2016_flickr.de"), "--ref", str(m30k / "test_2016_flickr.en"), "--format", "json"],
                lambda r: ("BLEU", r["bleu"]),
            ),
            "speed": (["translate", "predict", "{m}", str(m30k / "test_2016_flickr.de"), "--beam", "5"], 1000, "sentences"),
        },
    }  # fmt: skip


def nlpkit(args: list[str], model: Path, quantize: str) -> tuple[float, str]:
    cmd = ["nlpkit", *[str(model) if a == "{m}" else a for a in args], "--quantize", quantize, "--threads", "2"]
    cmd += ["--quiet"]
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr}")
    return time.perf_counter() - t0, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    record = {"machine": machine(), "load_before": os.getloadavg(), "rounds": args.rounds, "tasks": {}}
    for name, t in tasks().items():
        model = need(t["model"])
        int8 = model.with_name(model.stem + "-int8.nlpk")
        subprocess.run(["nlpkit", "quantize", str(model), str(int8)], check=True, capture_output=True)
        runs = {"float32": (model, "none"), "int8": (int8, "auto")}
        entry = {}
        for label, (path, mode) in runs.items():
            _, out = nlpkit(t["score"][0], path, mode)
            metric, value = t["score"][1](json.loads(out))
            entry[label] = {"size_mb": round(path.stat().st_size / 1e6, 2), metric: round(value, 4), "seconds": []}
        cmd, units, unit = t["speed"]
        for _ in range(args.rounds):  # alternating: the machine's drift hits both alike
            for label, (path, mode) in runs.items():
                entry[label]["seconds"].append(round(nlpkit(cmd, path, mode)[0], 2))
        for label in runs:
            median = statistics.median(entry[label]["seconds"])
            entry[label][f"{unit}/s"] = round(units / median, 1)
        entry["metric"], entry["unit"] = metric, unit
        record["tasks"][name] = entry
        print(name, entry, file=sys.stderr, flush=True)
    record["load_after"] = os.getloadavg()
    rows = []
    for name, e in record["tasks"].items():
        f, q, unit, metric = e["float32"], e["int8"], e["unit"], e["metric"]
        rows.append(
            f"| {name} | {f['size_mb']:.2f} / {q['size_mb']:.2f} ({q['size_mb'] / f['size_mb']:.0%}) | "
            f"{f[metric]:.4f} / {q[metric]:.4f} ({q[metric] - f[metric]:+.4f}) | "
            f"{f[unit + '/s']:,.0f} / {q[unit + '/s']:,.0f} {unit}/s ({q[unit + '/s'] / f[unit + '/s']:.2f}x) |"
        )
    m = record["machine"]
    markdown = f"""# int8 against float32, every task

Command: `python bench/quantize.py --rounds {args.rounds}` on {m["cpu"]}, {m["cores"]} cores, torch {m["torch"]}, {m["date"]}.
Load average before {record["load_before"][0]:.2f}, after {record["load_after"][0]:.2f}; nothing else ran.
int8: the file `nlpkit quantize` writes, run with `--quantize auto`; float32: the original file with
`--quantize none`; both `--threads 2`. Speed: the whole predict command (start-up, loading,
reading, writing), medians of {args.rounds} alternating rounds.

| task | file MB float32 / int8 | score float32 / int8 (change) | speed float32 / int8 |
|---|---|---|---|
{chr(10).join(rows)}

Scores: ner micro F1 (`ner eval`), lm perplexity (`lm eval`, lower is better), sentiment accuracy
(`sentiment eval`), translate sacreBLEU (`translate eval`, beam 5).
"""
    write("quantize", record, markdown)


if __name__ == "__main__":
    main()
