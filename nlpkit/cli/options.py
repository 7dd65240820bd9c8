"""Typer commands made from option sets (nlpkit.options): a command's flags and arguments are
generated from the dataclass fields that declare them, so help, bounds, choices and defaults are
written once and shared with the Python API. `train_command` adds the recipe file (--config);
`command` turns a function of one option set into a command.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import MISSING
from enum import Enum
from typing import Annotated

import typer

from nlpkit.options import field_kind

_CHOICES: dict[tuple, type] = {}


def _choice_type(name: str, choices: tuple) -> type:
    """A str Enum for a field with choices, so the help lists them and typos are usage errors."""
    key = (name, tuple(choices))
    if key not in _CHOICES:
        _CHOICES[key] = Enum(name.title().replace("_", ""), {str(c): str(c) for c in choices}, type=str)
    return _CHOICES[key]


def _argument(f, hint, help_text: str) -> inspect.Parameter:
    kind, _ = field_kind(hint)
    meta = f.metadata
    required = meta.get("required", kind is not list)
    info = typer.Argument(help=help_text, show_default=False, metavar=meta.get("metavar"))
    base = list[str] if kind is list else str
    annotation = base if required else base | None
    default = inspect.Parameter.empty if required else None
    return inspect.Parameter(
        f.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Annotated[annotation, info], default=default
    )


def _parameter(f, hint) -> inspect.Parameter:
    meta = f.metadata
    help_text = re.sub(r"`([a-z_]+)`", lambda m: "--" + m.group(1).replace("_", "-"), meta["help"])
    if meta.get("argument"):
        return _argument(f, hint, help_text)
    kind, optional = field_kind(hint)
    annotation = hint
    # a list's default_factory: None on the command line, the factory's value after create()
    default = ... if meta.get("required") else (None if f.default is MISSING else f.default)
    if meta.get("choices"):
        enum = _choice_type(f.name, meta["choices"])
        annotation = enum | None if optional else enum
        default = enum(default) if default not in (None, ...) else default
    if kind is list:
        annotation = list[str] | None
    flag = "--" + f.name.replace("_", "-")
    # a boolean gets its negation too, so that a flag can turn off what a recipe or default turned on
    flags = meta.get("flags") or ((f"{flag}/--no-{flag[2:]}",) if kind is bool else (flag,))
    info = typer.Option(
        *flags,
        help=help_text,
        min=meta.get("min"),
        max=meta.get("max"),
        metavar=meta.get("metavar"),
        rich_help_panel=meta.get("panel") or None,
        show_default=meta.get("show_default", default not in (None, "", ...) and kind is not list),
    )
    return inspect.Parameter(
        f.name, inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[annotation, info], default=default
    )


def _parameters(options_cls) -> tuple[list, list]:
    """(arguments in their declared positions, options in declaration order) of an option set."""
    hints = options_cls.hints()
    declared = options_cls.declared()
    arguments = sorted((f for f in declared if f.metadata.get("argument")), key=lambda f: int(f.metadata["argument"]))
    return (
        [_parameter(f, hints[f.name]) for f in arguments],
        [_parameter(f, hints[f.name]) for f in declared if not f.metadata.get("argument")],
    )


def _plain(value):
    return value.value if isinstance(value, Enum) else value


def _install(app, name: str, function, params: list, help_text: str | None) -> None:
    function.__signature__ = inspect.Signature(params)
    function.__annotations__ = {p.name: p.annotation for p in params}
    function.__doc__ = help_text
    function.__name__ = name.replace("-", "_")
    app.command(name)(function)


def command(app: typer.Typer, options_cls, name: str | None = None):
    """Decorator: `run(options)` becomes the command `name` of `app`, with one flag or argument
    per option of `options_cls`; the values given are checked by `options_cls.create` (the same
    checks as the Python API's) before `run` sees them. The docstring of `run` is the help."""

    def decorate(run):
        def cli(**given) -> None:
            from nlpkit.outputs import claim

            options = options_cls.create({k: _plain(v) for k, v in given.items() if v is not None})
            claim(options)  # every file the command writes, checked against what it reads before any work
            run(options)

        arguments, flags = _parameters(options_cls)
        cli.options_cls = options_cls  # what the command takes (tests walk every command's outputs by it)
        _install(app, name or run.__name__, cli, arguments + flags, run.__doc__)
        return run

    return decorate


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

    def train(recipe, **given) -> None:
        import nlpkit

        nlpkit.train(task, recipe=recipe, **given)  # the flags given override the recipe

    recipe_command(app, "train", options_cls, help, train)


def recipe_command(app: typer.Typer, name: str, options_cls, help: str, run) -> None:
    """Add the command `name` to `app`: one flag per field of `options_cls` plus --config; `run`
    is called with the recipe file and only the flags the user gave (which override the recipe,
    and which a search keeps fixed), as keyword arguments."""

    def command(ctx: typer.Context, config=None, **given) -> None:
        from typer._click.core import ParameterSource

        explicit = {
            key: _plain(value)
            for key, value in given.items()
            if ctx.get_parameter_source(key) not in (ParameterSource.DEFAULT, None)
        }
        run(config, **explicit)

    arguments, flags = _parameters(options_cls)
    command.options_cls = options_cls
    context = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)
    config = inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, annotation=ConfigOpt, default=None)
    _install(app, name, command, [context, *arguments, config, *flags], help)
