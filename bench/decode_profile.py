"""Where a batch-1 decoding step spends its time: cProfile of PyTorch generation (the benchmark's
random-weight models, greedy, 256 new tokens), grouped by operation, beside the bytes of weights
every step must read and the memory bandwidth that reading them at the measured speed implies.

At batch 1 every new token multiplies a one-row input by every weight matrix once, so a step
reads all the weights from memory; when they do not fit in the caches, the step runs at memory
speed, not arithmetic speed, whatever the loop around it does.

    python bench/decode_profile.py            # after bench/generation.py has built the models
"""

import cProfile
import io
import pstats
import time

import torch
from common import WORK, machine, write

import nlpkit

PROMPT = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcde"


def weight_bytes(model) -> int:
    return sum(p.numel() * p.element_size() for name, p in model.named_parameters() if "embedding" not in name)


def stream_bandwidth() -> float:
    """GB/s this machine reads and writes a 256 MB array at (the best of 5 copies)."""
    a, b = torch.ones(64 * 2**20), torch.empty(64 * 2**20)
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        b.copy_(a)
        best = min(best, time.perf_counter() - t0)
    return 2 * a.numel() * 4 / best / 1e9


def main() -> None:
    sections, records = [], []
    stream = stream_bandwidth()
    for kind in ("transformer", "lstm"):
        path = WORK / f"generation-{kind}.nlpk"
        model = nlpkit.load(path, device="cpu", threads=2, quantize="none", runtime="torch")
        model.generate(PROMPT, max_new_tokens=8, temperature=0)
        t0 = time.perf_counter()
        model.generate(PROMPT, max_new_tokens=256, temperature=0)
        per_step = (time.perf_counter() - t0) / 256
        profiler = cProfile.Profile()
        profiler.enable()
        model.generate(PROMPT, max_new_tokens=256, temperature=0)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
        table = "\n".join(line for line in out.getvalue().splitlines() if line.strip())
        weights = weight_bytes(model.model)
        bandwidth = weights / per_step / 1e9
        records.append(
            {"model": kind, "ms_per_step": per_step * 1e3, "weight_mb": weights / 1e6, "implied_gb_s": bandwidth}
        )
        sections.append(
            f"## {kind}\n\n{per_step * 1e3:.2f} ms a step ({1 / per_step:,.0f} tokens/s); {weights / 1e6:.1f} MB of "
            f"weights read a step, {bandwidth:.1f} GB/s at that speed.\n\n```\n{table}\n```\n"
        )
    m = machine()
    md = f"""# Where a batch-1 generation step spends its time (PyTorch float32)

Measured {m["date"]} on {m["cpu"]}, {m["cores"]} cores, torch {m["torch"]}, 2 threads. Command:
`python bench/decode_profile.py`. cProfile's top entries by own time (256 greedy steps). This
machine copies memory at {stream:.1f} GB/s (read + write of a 256 MB array, best of 5).

""" + "\n".join(sections)
    record = {"benchmark": "decode-profile", "machine": m, "stream_gb_s": stream, "results": records}
    write("decode-profile", record, md)


if __name__ == "__main__":
    torch.set_num_threads(2)
    main()
