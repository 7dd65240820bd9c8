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


def autocast(device, precision: str = "auto"):
    """bf16 autocast on CUDA unless `precision` is fp32; on the CPU only when it is bf16: there it
    pays on CPUs with AMX (a 2x200 LSTM language model trained 1.34x as fast, docs/tuning.md) and
    costs elsewhere, where bf16 is emulated, and small Transformers gain nothing even with AMX."""
    import torch

    if precision == "fp32":
        return contextlib.nullcontext()
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    if precision == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
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
