"""`nlpkit info MODEL`: what a model file holds, read from its header alone."""

from __future__ import annotations

import json
from dataclasses import dataclass

from nlpkit.options import Options, opt


@dataclass
class InfoCommand(Options):
    model: str = opt("", "A model file (.nlpk), or a graph from nlpkit export (.onnx).", argument=1, metavar="MODEL")
    format: str = opt("table", "table (on stdout) | json.", choices=("table", "json"))
    recipe: bool = opt(
        False, "Print the options the model was trained with as a TOML recipe (for --config).", flags=("--recipe",)
    )


def info(o: InfoCommand) -> None:
    """Show a model file's task, configuration, tokenizer, training data, metrics and versions."""
    from nlpkit.errors import NlpkitError
    from nlpkit.modelfile import read_header

    model_path = o.model
    if model_path.endswith(".onnx"):  # a graph from `nlpkit export`: the model file it carries
        from nlpkit.export.runtime import graph_info

        meta = graph_info(model_path)
    else:
        meta = read_header(model_path)
    if o.recipe:
        from nlpkit.options import to_toml
        from nlpkit.tasks import FILE_TASKS

        if isinstance(meta.get("ensemble"), list):
            raise NlpkitError(
                f"{model_path}: an ensemble of {len(meta['ensemble'])} models, each with its own recipe "
                "(nlpkit info --format json shows them under ensemble[].recipe)"
            )
        if not meta.get("recipe"):
            raise NlpkitError(f"{model_path}: the file records no recipe (written by an nlpkit before recipes)")
        group = FILE_TASKS.get(meta.get("task"), meta.get("task"))
        print(
            f"# the recipe of {model_path}: nlpkit {group} train --config RECIPE.toml\n" + to_toml(meta["recipe"]),
            end="",
        )
        return
    tok = meta.get("tokenizer", {})
    if "symbols" in tok:  # a word vocabulary can be long: show its size and a few entries
        meta["tokenizer"] = {**tok, "symbols": tok["symbols"][:20] + (["..."] if len(tok["symbols"]) > 20 else [])}
    meta.pop("tied", None)
    if o.format == "json":
        print(json.dumps(meta, indent=2, ensure_ascii=False))
        return
    if isinstance(meta.get("ensemble"), list):
        meta = ensemble_rows(meta)
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    # a model file is untrusted input: its text is shown as text, never read as rich markup (links)
    table = Table(title=escape(model_path), show_header=False, title_justify="left")
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in meta.items():
        for sub, v in value.items() if isinstance(value, dict) else [(None, value)]:
            name = f"{key}.{sub}" if sub is not None else key
            text = json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else str(v)
            table.add_row(escape(name), escape(text))
    Console(highlight=False).print(table)


def ensemble_rows(meta: dict) -> dict:
    """An ensemble's table: a line per member (source, seed, validation scores) instead of every
    member's full config and recipe (--format json has those)."""
    members = meta["model"].get("members", []) if isinstance(meta.get("model"), dict) else []
    kinds = [m.get("encoder", {}).get("kind", "?") if isinstance(m, dict) else "?" for m in members]
    rows = {}
    for n, record in enumerate(meta["ensemble"], start=1):
        record = record if isinstance(record, dict) else {}
        recipe = record.get("recipe") if isinstance(record.get("recipe"), dict) else {}
        valid = record.get("valid") if isinstance(record.get("valid"), dict) else {}
        parts = [str(record.get("source", "?")), kinds[n - 1] if n <= len(kinds) else "?"]
        parts += [f"seed {recipe['seed']}"] if "seed" in recipe else []
        parts += [f"{k} {v}" for k, v in valid.items()]
        rows[str(n)] = ", ".join(parts)
    return {**meta, "model": {"members": len(members)}, "ensemble": rows}
