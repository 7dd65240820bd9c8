"""`nlpkit info MODEL`: what a model file holds, read from its header alone."""

from __future__ import annotations

import json
from dataclasses import dataclass

from nlpkit.cli.common import table
from nlpkit.options import Options, TableOutput, opt, reuse


@dataclass
class InfoCommand(Options):
    model: str = opt("", "A model file (.nlpk), or a graph from nlpkit export (.onnx).", argument=1, metavar="MODEL")
    format: str = reuse(TableOutput, "format")
    recipe: bool = opt(
        False, "Print the options the model was trained with as a TOML recipe (for --config).", flags=("--recipe",)
    )


def info(o: InfoCommand) -> None:
    """Show a model file's task, configuration, tokenizer, training data, metrics and versions."""
    from nlpkit import model_info

    if o.recipe:
        print(model_info.recipe_toml(o.model), end="")
        return
    meta = model_info.header(o.model, brief=True, runtime=True)
    if o.format == "json":
        print(json.dumps(meta, indent=2, ensure_ascii=False))
        return
    if isinstance(meta.get("ensemble"), list):
        meta = model_info.ensemble_summary(meta)
    rows = []
    for key, value in meta.items():
        for sub, v in value.items() if isinstance(value, dict) else [(None, value)]:
            text = json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else str(v)
            rows.append([f"{key}.{sub}" if sub is not None else key, text])
    table(o.model, None, rows)
