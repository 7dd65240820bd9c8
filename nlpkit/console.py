"""Progress, notes and warnings on standard error, shared by the library and the CLI.

Results go to standard output (or are returned, in Python); everything said about the work goes
to stderr through one rich console, so pipelines stay clean. Kept free of torch.
"""

from __future__ import annotations

_console = None
_silent = False  # --quiet on a command that reads and writes data: no notes or warnings either


def console():
    """Rich console on stderr: progress, tables and warnings never mix with results on stdout."""
    global _console
    if _console is None:
        from rich.console import Console

        _console = Console(stderr=True, highlight=False)
    return _console


def silence(on: bool = True) -> None:
    global _silent
    _silent = on


def warn(message: str) -> None:
    if _silent:
        return
    from rich.markup import escape

    console().print(f"[yellow]warning:[/yellow] {escape(message)}", soft_wrap=True)


def info(message: str, quiet: bool = False) -> None:
    if not (quiet or _silent):
        console().print(message, soft_wrap=True)


def note(message: str, quiet: bool = False) -> None:
    """A note for a person watching (which runtime runs a model, a one-time conversion): shown
    on a terminal only, so that a pipeline's or a job's stderr holds results' errors alone
    (a bad input is still one line)."""
    if not (quiet or _silent) and console().is_terminal:
        console().print(message, soft_wrap=True)


def table(title: str, rows: list[tuple[str, str]]) -> None:
    """A two-column key/value table on stderr (training summaries)."""
    from rich.table import Table

    out = Table(title=title, show_header=False, title_justify="left")
    out.add_column(style="bold")
    out.add_column()
    for key, value in rows:
        out.add_row(key, value)
    console().print(out)
