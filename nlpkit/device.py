"""Device choice and mixed precision, the same for every command."""

from __future__ import annotations

import contextlib

from nlpkit.errors import NlpkitError, option


def resolve_device(name: str = "auto"):
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise NlpkitError(f"{option('device')} cuda: no CUDA device is available (use {option('device')} cpu or auto)")
    if name not in ("cpu", "cuda") and not name.startswith("cuda:"):
        raise NlpkitError(f"unknown device {name!r}; use auto, cpu or cuda")
    return torch.device(name)


def autocast(device):
    """bf16 autocast on CUDA; full precision on the CPU, where bf16 matmuls are not faster."""
    import torch

    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()
