"""Training and inference tokens/s of each encoder against sequence length, on one device.

Recurrent encoders do the same work per token at any length but must take the steps one after
another; the Transformer processes all positions at once, with attention cost growing with the
square of the length.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from nlpkit.encoders import EncoderConfig, build_encoder


@dataclass
class SpeedResult:
    encoder: str
    length: int
    batch: int
    train_tokens_per_s: float
    infer_tokens_per_s: float


def _timed(fn, device, repeats: int) -> float:
    fn()  # warm-up: allocations, kernel choice
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) / repeats


def measure(
    kind: str, length: int, *, batch: int = 16, hidden: int = 256, layers: int = 2, repeats: int = 3, device=None
) -> SpeedResult:
    device = torch.device(device or "cpu")
    config = EncoderConfig(
        kind=kind, input_size=hidden, hidden_size=hidden, layers=layers, causal=True, max_len=length, heads=4
    )
    encoder = build_encoder(config).to(device)
    optimizer = torch.optim.AdamW(encoder.parameters(), lr=1e-4)
    x = torch.randn(batch, length, hidden, device=device)

    def train_step():
        out, _ = encoder(x)
        loss = out.float().pow(2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def infer_step():
        with torch.no_grad():
            encoder(x)

    encoder.train()
    train_s = _timed(train_step, device, repeats)
    encoder.eval()
    infer_s = _timed(infer_step, device, repeats)
    tokens = batch * length
    return SpeedResult(kind, length, batch, round(tokens / train_s, 1), round(tokens / infer_s, 1))


def sweep(o) -> dict:
    """Every encoder x length of a SpeedOptions set (`nlpkit diagnose speed`), with a progress
    line each: {"device", "batch", "hidden", "layers", "results": [SpeedResult as dict]}."""
    from nlpkit.console import info
    from nlpkit.device import resolve_device
    from nlpkit.option_parsing import comma_numbers

    device = resolve_device(o.device)
    results = []
    for kind in o.encoders:
        for length in comma_numbers(o.lengths, "lengths"):
            r = measure(kind, length, batch=o.batch, hidden=o.hidden, layers=o.layers, repeats=o.repeats, device=device)
            results.append(r)
            what = f"train {r.train_tokens_per_s:,.0f} tokens/s, inference {r.infer_tokens_per_s:,.0f}"
            info(f"{kind} length {length}: {what}", o.quiet)
    shape = {"device": str(device), "batch": o.batch, "hidden": o.hidden, "layers": o.layers}
    return {**shape, "results": [vars(r) for r in results]}
