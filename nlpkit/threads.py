"""How many CPU threads torch runs: `--threads N`, else $NLPKIT_THREADS, else the cores that are
free when the command starts (predict commands) or every core of the process's CPU set
(training: a long run must not keep one thread for hours because something else was runnable
for a moment when it started).

Two processes that each run one spinning OpenMP thread per core on the same cores slow each other
far more than twice (bench/results/threads.md): jobs started side by side by `xargs -P` or a
scheduler should split the cores, not each take them all. A user's own OMP_NUM_THREADS is left
alone unless --threads or NLPKIT_THREADS says otherwise.
"""

from __future__ import annotations

import os

from nlpkit.errors import NlpkitError, option

ENV = "NLPKIT_THREADS"


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def free_cores() -> int:
    """The cores no other runnable process wants right now (at least 1). /proc/loadavg's fourth
    field counts the runnable threads at this instant, this one included; elsewhere all cores."""
    try:
        with open("/proc/loadavg") as f:
            running = int(f.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return cores()
    return max(1, cores() - max(0, running - 1))


def choose(requested: int = 0, all_cores: bool = False) -> int | None:
    """The thread count to use, or None to leave torch's own choice (the user set OMP_NUM_THREADS).
    With all_cores (training), every core of the CPU set rather than the ones free now."""
    if requested:
        if requested > cores():
            from nlpkit.console import warn

            warn(f"{option('threads')} {requested} is more than this machine's {cores()} cores: expect it to be slower")
        return requested
    value = os.environ.get(ENV, "").strip()
    if value and value not in ("auto", "0"):  # 0 means automatic, as --threads 0 does
        try:
            n = int(value)
        except ValueError:
            n = 0
        if n < 1:
            raise NlpkitError(f"{ENV}={value!r}: give a number of threads (1 or more), or 0 or 'auto' for automatic")
        return n
    if not value and os.environ.get("OMP_NUM_THREADS"):
        return None
    return cores() if all_cores else free_cores()


def apply(requested: int = 0, all_cores: bool = False) -> int:
    """Set torch's intra-op threads by the rules above; returns the count in force."""
    import torch

    if requested < 0:
        raise NlpkitError(f"{option('threads')}: give 1 or more, or 0 for automatic")
    n = choose(requested, all_cores)
    if n is not None:
        torch.set_num_threads(n)
    return torch.get_num_threads()


def count(requested: int | None = 0) -> int:
    """The thread count by the same rules, for a runtime other than torch's (onnxruntime), without
    importing torch. None: torch's current count if torch is loaded, else every core."""
    import sys

    if requested is None:
        torch = sys.modules.get("torch")
        return torch.get_num_threads() if torch is not None else cores()
    if requested < 0:
        raise NlpkitError(f"{option('threads')}: give 1 or more, or 0 for automatic")
    n = choose(requested)
    if n is None:  # the user's OMP_NUM_THREADS, as torch would read it
        try:
            n = int(os.environ["OMP_NUM_THREADS"])
        except ValueError:
            n = 0
    return max(1, n) if n else cores()
