"""Compact forms of measured curves: a log-scale sparkline for tables, JSON-safe values."""

from __future__ import annotations

import math

SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int = 24) -> str:
    """Log-scale sparkline of positive values, downsampled to `width` characters."""
    if not values:
        return ""
    step = max(1, math.ceil(len(values) / width))
    points = [values[i] for i in range(0, len(values), step)]
    # Zero (underflow) shows as a dot; an overflowed (infinite) norm as the top bar.
    finite = [v for v in points if 0 < v < math.inf]
    top = math.log10(max(finite)) if finite else 0.0
    logs = [None if v <= 0 or math.isnan(v) else (math.log10(v) if v < math.inf else top) for v in points]
    real = [v for v in logs if v is not None]
    if not real:
        return "·" * len(points)
    low, high = min(real), max(real)
    span = (high - low) or 1.0
    return "".join("·" if v is None else SPARK[min(7, int((v - low) / span * 7.999))] for v in logs)


def finite_or_none(value):
    """JSON has no Infinity or NaN: an overflowed value becomes null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [finite_or_none(v) for v in value]
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    return value


def gradient_table(results: dict, length: int, batch: int, clip: float) -> tuple[str, list[str], list[list[str]]]:
    """(title, columns, rows) of `nlpkit diagnose gradients`: each model's gradient norm at a few
    distances back from the loss, its fitted change per step, and what clipping does."""
    marks = [d for d in (0, 1, 5, 10, 25, 50, 100, 200, 500, 1000) if d < length]
    rows = []
    for name, r in results.items():
        after_clip = r["update_scale_after_clip"]
        rows.append(
            [name, *(f"{r['norms'][d]:.2e}" for d in marks), f"{r['decay_per_step']:.3f}", sparkline(r["norms"])]
            + [f"{r['param_grad_norm']:.3g}", "overflow" if math.isnan(after_clip) else f"{after_clip:.3g}"]
        )
    columns = ["model"] + [f"t-{d}" for d in marks] + ["per step", "0 ... back", "|grad|", f"clip {clip:g}: x"]
    title = (
        f"|dL/dx| of the loss at the last step, {length} steps, mean of {batch} sequences "
        "(per step: fitted change per step back; <1 vanishing, >1 exploding)"
    )
    return title, columns, rows
