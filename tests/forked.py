"""Run the CLI in a forked copy of the test process: a real process with its own standard
streams (files), argv, working directory, exit status and signals, but without paying for a
fresh interpreter's `import torch` (2.5-3 s on a slow CI core, and the suite runs ~300 commands).

What a fork inherits that a fresh `python -m nlpkit` would not have is put back first: pytest's
warning filters and log handlers, nlpkit's console singleton. Commands whose behaviour depends on
the interpreter's start (thread pools sized from the environment, `--threads`) run as fresh
subprocesses instead; so does every command when NLPKIT_TEST_FRESH=1.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import types
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_FILTERS = list(warnings.filters)  # as the interpreter set them, before pytest's per-test changes
_SHOW = warnings._showwarnmsg_impl  # pytest's recording swaps this out during each test


def run(args: list[str], input: str | None, timeout: float, env: dict[str, str]) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "nlpkit", *args]
    with tempfile.TemporaryFile() as stdin, tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        if input is not None:
            stdin.write(input.encode("utf-8"))
            stdin.seek(0)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child never returns into pytest
            status = 1
            try:
                source = stdin.fileno() if input is not None else os.open(os.devnull, os.O_RDONLY)
                for fd, target in ((source, 0), (stdout.fileno(), 1), (stderr.fileno(), 2)):
                    os.dup2(fd, target)
                status = _command(args, env)
            finally:
                os._exit(status)
        deadline = time.monotonic() + timeout
        while True:
            done, wait_status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise subprocess.TimeoutExpired(argv, timeout)
            time.sleep(0.005)
        stdout.seek(0)
        stderr.seek(0)
        return subprocess.CompletedProcess(
            argv, os.waitstatus_to_exitcode(wait_status), _text(stdout.read()), _text(stderr.read())
        )


def _text(data: bytes) -> str:
    """As subprocess.run(text=True) decodes: UTF-8 here, universal newlines."""
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def _command(args: list[str], env: dict[str, str]) -> int:
    """In the child: give it a fresh interpreter's surroundings, run the CLI, return the status."""
    os.chdir(ROOT)
    os.environ.clear()
    os.environ.update(env)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # as Python starts; the CLI sets its own
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8")
    sys.stderr = io.TextIOWrapper(
        io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace", line_buffering=True
    )
    warnings.filters[:] = _FILTERS
    warnings._showwarnmsg_impl = _SHOW
    warnings._filters_mutated()
    for logger in [logging.root, *logging.root.manager.loggerDict.values()]:
        for handler in list(getattr(logger, "handlers", [])):
            if type(handler).__module__.startswith("_pytest"):
                logger.removeHandler(handler)
    import nlpkit.console

    nlpkit.console._console = None
    nlpkit.console._silent = False
    sys.argv = [str(ROOT / "nlpkit" / "__main__.py"), *args]
    main_module = types.ModuleType("__main__")  # as `python -m nlpkit` has it (click names the program from it)
    main_module.__package__, main_module.__file__ = "nlpkit", sys.argv[0]
    sys.modules["__main__"] = main_module
    from nlpkit.cli.main import main

    try:
        main()
        status = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            status = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            status = 1
    except BaseException:
        traceback.print_exc()
        status = 1
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        status = 120  # what the interpreter reports when stdout cannot be flushed at exit
    sys.stderr.flush()
    return status
