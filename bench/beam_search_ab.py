"""Beam search before and after finished sentences leave the batch (issue 13): the same model and
sentences, in one process, the two versions alternating; output must be identical.

    python bench/beam_search_ab.py --before 1a0d31d~1 --rounds 3

The old `nlpkit/decoding.py` is read from git at --before. Model: the Multi30k GRU + attention of
bench/quantize.py (bench/work/quantize/multi30k-gru.nlpk), test_2016_flickr.de, beam 5.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time

from common import ROOT, SHARED, WORK, machine, need, write


def old_module(rev: str):
    source = subprocess.run(
        ["git", "show", f"{rev}:nlpkit/decoding.py"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    path = os.path.join(tempfile.mkdtemp(), "decoding_before.py")
    with open(path, "w") as f:
        f.write(source.stdout)
    spec = importlib.util.spec_from_file_location("decoding_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["decoding_before"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--before", default="1a0d31d~1")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    import nlpkit
    from nlpkit import decoding
    from nlpkit.tasks.translate import search as translation

    model = nlpkit.load(
        need(WORK / "quantize" / "multi30k-gru.nlpk"), device="cpu", threads=2, quantize="none", runtime="torch"
    )
    src = need(SHARED / "multi30k" / "test_2016_flickr.de").read_text(encoding="utf-8").splitlines()
    versions = {"before": old_module(args.before).beam_search, "after": decoding.beam_search}
    seconds: dict[str, list[float]] = {name: [] for name in versions}
    outputs = {}
    load_before = os.getloadavg()
    for _ in range(args.rounds):
        for name, search in versions.items():
            translation.beam_search = search
            t0 = time.perf_counter()
            outputs[name] = [r["translation"] for r in model.predict(src, beam=5)]
            seconds[name].append(round(time.perf_counter() - t0, 3))
    speed = {name: len(src) / statistics.median(s) for name, s in seconds.items()}
    record = {"machine": machine(), "load_before": load_before, "load_after": os.getloadavg(), "seconds": seconds,
              "sentences_per_s": speed, "identical": outputs["before"] == outputs["after"]}  # fmt: skip
    m = record["machine"]
    markdown = f"""# Beam search: finished sentences leave the batch

Command: `python bench/beam_search_ab.py {" ".join(sys.argv[1:])}` on {m["cpu"]}, {m["cores"]} cores, torch {m["torch"]}, {m["date"]}.
Load average before {load_before[0]:.2f}, after {record["load_after"][0]:.2f}; nothing else ran.
Multi30k de-en GRU + attention (bench/work/quantize/multi30k-gru.nlpk), {len(src):,} test_2016_flickr
sentences, beam 5, batch 64, 2 threads, in one process; the two versions alternate, medians of {args.rounds}.

| beam search | seconds | sentences/s |
|---|---:|---:|
| before ({args.before}): finished sentences stay in the batch as padding | {statistics.median(seconds["before"]):.2f} | {speed["before"]:,.1f} |
| after: their rows leave the batch | {statistics.median(seconds["after"]):.2f} | {speed["after"]:,.1f} |

{speed["after"] / speed["before"]:.2f}x; translations identical: {record["identical"]}.
"""
    write("beam-search", record, markdown)


if __name__ == "__main__":
    main()
