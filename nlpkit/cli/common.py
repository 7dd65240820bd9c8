"""What every command group shares: loading the model a command names, and writing results
(lines, JSON, tables). Kept free of torch so that `--help` stays fast; the options are declared
in nlpkit.options and each task's options module, and nlpkit.data.inputs reads a command's input.
"""

from __future__ import annotations

import sys

from nlpkit.console import info, note, warn  # noqa: F401 - the CLI's stderr, re-exported
from nlpkit.data.writers import AS_SPACE, json_line  # noqa: F401 - re-exported for the commands


def load(o, task: str):
    """The model file an option set names (`model`, with LoadOptions' fields), refused unless it
    holds a model of `task` (nlpkit.load); with quiet, no warnings on stderr (errors still are)."""
    import nlpkit
    from nlpkit import console as stderr

    stderr.silence(o.quiet)
    model = nlpkit.load(o.model, o.device, o.threads, task=task, quantize=o.quantize, runtime=o.runtime)
    if model.runtime != "PyTorch float32":  # the start-up line: what runs it, when not the plain path
        note(f"{o.model}: running in {model.runtime}", o.quiet)
    return model


def write_lines(lines) -> None:
    """Results to stdout, one a line, flushed per chunk so `| head` and pipelines see them early."""
    sys.stdout.write("".join(f"{line}\n".translate(AS_SPACE) for line in lines))
    sys.stdout.flush()


def write_page(pieces) -> None:
    """An HTML page to stdout as its pieces come (nlpkit.pages): nothing held but the buffer."""
    for piece in pieces:
        sys.stdout.write(piece)
    sys.stdout.flush()


def print_json(value, indent: int | None = None) -> None:
    import json

    print(json.dumps(value, indent=indent))


def table(title: str, columns: list[str] | None, rows: list[list[str]], *, caption: str = "", bold=()) -> None:
    """A table on stdout: with `columns`, a header and numbers right-aligned; without, name/value
    rows with the names in bold. Rows whose index is in `bold` are bold. Every cell is shown as
    text, never read as rich markup (a model file's metadata is untrusted input); files and pipes
    get whole rows, not ellipses."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    out = Table(title=escape(title), show_header=columns is not None, title_justify="left")
    out.caption, out.caption_justify = (escape(caption) or None), "left"
    if columns is None:
        out.add_column(style="bold", no_wrap=True)
        out.add_column(overflow="fold")
    for i, name in enumerate(columns or []):
        out.add_column(name, justify="left" if i == 0 else "right", no_wrap=True)
    for n, row in enumerate(rows):
        out.add_row(*(escape(str(cell)) for cell in row), style="bold" if n in bold else None)
    stdout = Console(highlight=False)
    if not stdout.is_terminal:
        stdout = Console(highlight=False, width=240)
    stdout.print(out)


def prf_rows(per: dict) -> list[list[str]]:
    """Rows of name, precision, recall, F1 and support (seqeval and classification scores)."""
    return [
        [name, *(f"{r[k]:.4f}" for k in ("precision", "recall", "f1")), f"{r['support']:,}"] for name, r in per.items()
    ]
