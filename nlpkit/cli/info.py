"""`nlpkit info MODEL`: what a model file holds, read from its header alone."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated

import typer


class InfoFormat(str, Enum):
    table = "table"
    json = "json"


def info(
    model_path: Annotated[str, typer.Argument(metavar="MODEL", help="A model file (.nlpk).")],
    fmt: Annotated[InfoFormat, typer.Option("--format", help="table (on stdout) | json.")] = InfoFormat.table,
) -> None:
    """Show a model file's task, configuration, tokenizer, training data, metrics and versions."""
    from nlpkit.modelfile import read_header

    meta = read_header(model_path)
    tok = meta.get("tokenizer", {})
    if "symbols" in tok:  # a word vocabulary can be long: show its size and a few entries
        meta["tokenizer"] = {**tok, "symbols": tok["symbols"][:20] + (["..."] if len(tok["symbols"]) > 20 else [])}
    meta.pop("tied", None)
    if fmt is InfoFormat.json:
        print(json.dumps(meta, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=model_path, show_header=False, title_justify="left")
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in meta.items():
        if isinstance(value, dict):
            for sub, v in value.items():
                table.add_row(f"{key}.{sub}", _short(v))
        else:
            table.add_row(key, _short(value))
    Console(highlight=False).print(table)


def _short(value) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
