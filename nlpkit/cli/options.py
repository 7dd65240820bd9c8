"""Typer commands made from option dataclasses (nlpkit.options): every `train` command lists the
same declared options, reads a TOML recipe with --config, and lets flags override the recipe.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import MISSING
from enum import Enum
from typing import Annotated

import typer

from nlpkit.options import field_kind, read_recipe

_CHOICES: dict[tuple, type] = {}


def choices(options_cls, name: str) -> type:
    """The str Enum of a declared option's choices, for use commands that take the same option."""
    field = next(f for f in options_cls.declared() if f.name == name)
    return _choice_type(name, field.metadata["choices"])


def _choice_type(name: str, choices: tuple) -> type:
    """A str Enum for a field with choices, so the help lists them and typos are usage errors."""
    key = (name, tuple(choices))
    if key not in _CHOICES:
        _CHOICES[key] = Enum(name.title().replace("_", ""), {str(c): str(c) for c in choices}, type=str)
    return _CHOICES[key]


def _parameter(f, hint) -> inspect.Parameter:
    meta = f.metadata
    help_text = re.sub(r"`([a-z_]+)`", lambda m: "--" + m.group(1).replace("_", "-"), meta["help"])
    panel = meta.get("panel") or None
    if meta.get("argument"):
        info = typer.Argument(help=help_text, show_default=False, metavar=meta.get("metavar"))
        return inspect.Parameter(
            f.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Annotated[list[str] | None, info], default=None
        )
    kind, optional = field_kind(hint)
    annotation = hint
    default = f.default if f.default is not MISSING else None
    if meta.get("choices"):
        enum = _choice_type(f.name, meta["choices"])
        annotation = enum | None if optional else enum
        default = enum(default) if default is not None else None
    if kind is list:
        annotation = list[str] | None
    flag = "--" + f.name.replace("_", "-")
    # a boolean gets its negation too, so that a flag can turn off what a recipe turned on
    flags = meta.get("flags") or ((f"{flag}/--no-{flag[2:]}",) if kind is bool else (flag,))
    info = typer.Option(
        *flags,
        help=help_text,
        min=meta.get("min"),
        max=meta.get("max"),
        metavar=meta.get("metavar"),
        rich_help_panel=panel,
        show_default=meta.get("show_default", default not in (None, "")),
    )
    return inspect.Parameter(
        f.name, inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[annotation, info], default=default
    )


ConfigOpt = Annotated[
    str | None,
    typer.Option(
        "--config",
        metavar="RECIPE.toml",
        help="Read options from a TOML recipe (keys are the option names); flags given here override it.",
    ),
]


def train_command(app: typer.Typer, task: str, options_cls, help: str) -> None:
    """Add `train` to `app`: one flag per field of `options_cls` plus --config; the recipe's values
    overlaid with the flags the user gave train a model of `task` (nlpkit.train)."""

    def command(ctx: typer.Context, config=None, **given) -> None:
        from typer._click.core import ParameterSource

        explicit = {}
        for key, value in given.items():
            if ctx.get_parameter_source(key) in (ParameterSource.DEFAULT, None):
                continue
            explicit[key] = value.value if isinstance(value, Enum) else value
        recipe = {}
        if config:
            recipe = read_recipe(config)
            options_cls.create(recipe, where=config)  # a bad key is named with the recipe's path
        import nlpkit

        nlpkit.train(task, **{**recipe, **explicit})

    hints = options_cls.hints()
    params = [
        inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
        *(_parameter(f, hints[f.name]) for f in options_cls.declared() if f.metadata.get("argument")),
        inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, annotation=ConfigOpt, default=None),
        *(_parameter(f, hints[f.name]) for f in options_cls.declared() if not f.metadata.get("argument")),
    ]
    command.__signature__ = inspect.Signature(params)
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__doc__ = help
    command.__name__ = "train"
    app.command("train")(command)
