"""Translation speed and quality of one trained Multi30k model in its four runtime forms, in the
same run: the .nlpk file in float32 and with `--quantize int8`, and the two graphs of `nlpkit
export --format onnx` without and with `--int8` (onnxruntime, beam search in torch).

For each: sacreBLEU of `translate eval` (cased, detokenized) on test_2016_flickr, the model
file's size, and the speed of the whole `translate predict` command (start-up and loading
included) over the 1,000 test sentences, beam 5; forms alternated for `--rounds` rounds, medians.

    python bench/translate_speed.py --model bench/work/multi30k-fr-en-transformer-b2048-avg4.nlpk --pair fr-en
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import SHARED, machine, need, write


def wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", type=Path, required=True, help="a trained .nlpk translation model")
    p.add_argument("--pair", default="fr-en", help="source-target of the model, from de, en, fr")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--length-penalty", type=float, default=0.6)
    args = p.parse_args()
    src_lang, tgt_lang = args.pair.split("-")
    d = need(SHARED / "multi30k")
    src, ref = need(d / f"test_2016_flickr.{src_lang}"), d / f"test_2016_flickr.{tgt_lang}"
    model = need(args.model)
    onnx, onnx8 = model.with_suffix(".onnx"), model.with_name(model.stem + "-int8.onnx")
    int8_file = model.with_name(model.stem + "-int8.nlpk")
    exported = {}
    for out, flags in ((onnx, []), (onnx8, ["--int8"])):
        proc = subprocess.run(
            ["nlpkit", "export", str(model), "--out", str(out), *flags], capture_output=True, text=True, check=True
        )
        exported[out.name] = proc.stderr.strip()
    subprocess.run(["nlpkit", "quantize", str(model), str(int8_file), "--quiet"], check=True)
    forms = {
        "PyTorch float32 (.nlpk)": (model, "none", model),
        "PyTorch int8 (--quantize int8)": (model, "int8", int8_file),
        "ONNX float32": (onnx, "auto", onnx),
        "ONNX int8 (export --int8)": (onnx8, "auto", onnx8),
    }
    search = ["--beam", str(args.beam), "--length-penalty", str(args.length_penalty), "--device", "cpu"]
    bleu = {}
    for name, (path, mode, _) in forms.items():
        out = subprocess.run(
            ["nlpkit", "translate", "eval", str(path), "--src", str(src), "--ref", str(ref), "--format", "json",
             "--quantize", mode, "--quiet", *search],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        bleu[name] = json.loads(out.stdout)["bleu"]
    sentences = sum(1 for _ in src.open(encoding="utf-8"))
    seconds = {name: [] for name in forms}
    load_before = os.getloadavg()
    for _ in range(args.rounds):
        for name, (path, mode, _) in forms.items():
            cmd = ["nlpkit", "translate", "predict", str(path), str(src), "--quantize", mode, *search]
            seconds[name].append(wall(cmd))
    load_after = os.getloadavg()
    speed = {name: round(sentences / statistics.median(times), 1) for name, times in seconds.items()}
    size = {name: f.stat().st_size for name, (_, _, f) in forms.items()}
    record = {
        "benchmark": "translate-speed",
        "machine": machine(),
        "model": str(model),
        "pair": args.pair,
        "sentences": sentences,
        "rounds": args.rounds,
        "search": search,
        "load_before": load_before,
        "load_after": load_after,
        "bleu": bleu,
        "bytes": size,
        "seconds": seconds,
        "sentences_per_s": speed,
        "export_messages": exported,
    }
    m = record["machine"]
    base = "PyTorch float32 (.nlpk)"
    rows = [
        f"| {name} | {size[name] / 1e6:.1f} | {bleu[name]:.2f} ({bleu[name] - bleu[base]:+.2f}) | "
        f"{speed[name]:,} ({speed[name] / speed[base]:.2f}x) |"
        for name in forms
    ]
    lines = [
        f"# Translation speed by runtime, Multi30k {args.pair} test_2016_flickr",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']}, {m['date']}. "
        f"Command: `python bench/translate_speed.py {' '.join(sys.argv[1:])}`; medians of {args.rounds} alternating "
        f"rounds over {sentences:,} sentences, beam {args.beam}, length penalty {args.length_penalty}. "
        f"Load average before {load_before[0]:.2f}, after {load_after[0]:.2f}.",
        "",
        "| form | file MB | test BLEU (vs float32) | whole `translate predict`, sentences/s (vs float32) |",
        "|---|---:|---:|---:|",
        *rows,
        "",
        f"Model: `{model.name}`. PyTorch int8 is the float file run with `--quantize int8` (dynamic int8 linear "
        "layers); its size is that of the file `nlpkit quantize` writes. ONNX: `nlpkit export --format onnx "
        "[--int8]`, the encoder and one decoder step as graphs in onnxruntime, beam search in torch. BLEU: sacreBLEU "
        "cased, detokenized (`translate eval`). Whole command: process start to exit, start-up and loading included.",
    ]
    write(f"translate-speed-{args.pair}", record, "\n".join(lines))


if __name__ == "__main__":
    main()
