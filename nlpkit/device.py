"""Device choice and mixed precision, the same for every command."""

from __future__ import annotations

import contextlib
import functools

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


def uses_bf16(device, precision: str = "auto") -> bool:
    """Whether `precision` means bf16 autocast on `device`: on CUDA unless it is fp32; on the CPU
    only when asked, because even with AMX only an LSTM language model trained faster (1.41x), and
    no better for it at 5 minutes; the other tasks' models ran slower
    (bench/results/precision-5m*.md); without AMX or AVX-512 BF16, bf16 is emulated."""
    return precision != "fp32" and (device.type == "cuda" or precision == "bf16")


def autocast(device, precision: str = "auto"):
    """bf16 autocast where uses_bf16() says so, else nothing (float32)."""
    import torch

    if uses_bf16(device, precision):
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


@functools.cache
def cpu_has_bf16() -> bool | None:
    """Whether this CPU does bf16 arithmetic natively (AMX or AVX-512 BF16); None where its
    flags cannot be read (not Linux)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return None
    return bool({"amx_bf16", "avx512_bf16"} & set(flags)) if flags else None


def precision_warning(device, precision: str) -> str | None:
    """What to tell a user who asked for bf16 on a CPU that emulates it (None: nothing)."""
    if precision == "bf16" and device.type == "cpu" and cpu_has_bf16() is False:
        return (
            f"{option('precision')} bf16: this CPU has no native bf16 (AMX or AVX-512 BF16); "
            "it is emulated and likely slower than float32"
        )
    return None
