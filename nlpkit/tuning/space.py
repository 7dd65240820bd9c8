"""The search space: each tunable training option names its range where it is declared
(`opt(..., tune={"low", "high", "log"} or {"choices"})`), so a task's space is read off its
option set; a TOML file narrows or widens it, and options the user fixed are not searched.
Optuna-free: a Dimension is turned into a suggestion by the caller's trial."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from nlpkit.encoders.config import BAG
from nlpkit.errors import NlpkitError, option
from nlpkit.options import field_kind


@dataclass(frozen=True)
class Dimension:
    """One searched option: a range (int or float, on a log scale or not) or a list of choices."""

    name: str
    kind: type  # int, float, or str/bool/int/float for choices
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple = ()

    def suggest(self, trial):
        """This option's value for an Optuna trial."""
        if self.choices:
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.kind is int:
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.name, float(self.low), float(self.high), log=self.log)

    def contains(self, value) -> bool:
        """Whether `value` lies in this dimension (a queued trial may only take such values)."""
        if self.choices:
            return value in self.choices
        return isinstance(value, int | float) and not isinstance(value, bool) and self.low <= value <= self.high

    def describe(self) -> str:
        if self.choices:
            return " | ".join(map(str, self.choices))
        return f"{self.low:g} .. {self.high:g}{' (log)' if self.log else ''}"


def declared_space(options_cls, fixed: dict, encoder: str) -> dict[str, Dimension]:
    """The space the declarations of `options_cls` give, less the options in `fixed` and, when
    the encoder is a Transformer, the recurrent-only ones (a bag has no layers to count)."""
    hints = options_cls.hints()
    space = {}
    for f in options_cls.declared():
        spec = f.metadata.get("tune")
        if not spec or f.name in fixed or (spec.get("recurrent") and encoder == "transformer"):
            continue
        if f.name == "layers" and encoder == BAG:
            continue
        space[f.name] = dimension(f, hints[f.name], spec, "declaration")
    return space


def dimension(f, hint, spec: dict, where: str) -> Dimension:
    """A Dimension of the option field `f` from a spec ({"low", "high", "log"} or {"choices"}),
    each bound and choice checked against the option's own declaration."""
    from nlpkit.options import _coerce  # the one check of an option's value

    kind, _ = field_kind(hint)
    meta = dict(f.metadata)
    if not isinstance(spec, dict):
        raise NlpkitError(f"{where}: [{f.name}] must be a table of low/high or choices")
    unknown = set(spec) - {"low", "high", "log", "choices", "recurrent"}
    if unknown:
        raise NlpkitError(f"{where}: [{f.name}] has {', '.join(sorted(unknown))}; give low and high (log), or choices")
    try:
        if "choices" in spec:
            choices = spec["choices"]
            if not isinstance(choices, list) or not choices:
                raise NlpkitError(f"[{f.name}] choices must be a non-empty list")
            return Dimension(f.name, kind, choices=tuple(_coerce(f.name, c, hint, meta) for c in choices))
        if kind not in (int, float):
            raise NlpkitError(f"[{f.name}] is not a number: give its choices")
        low, high = (_coerce(f.name, spec.get(k), hint, meta) for k in ("low", "high"))
    except NlpkitError as exc:
        raise NlpkitError(f"{where}: {exc}") from None
    log = bool(spec.get("log", False))
    if not low < high or (log and low <= 0):
        raise NlpkitError(f"{where}: [{f.name}] needs low < high{' and low > 0 on a log scale' if log else ''}")
    return Dimension(f.name, kind, low, high, log)


def read_space(path: str, options_cls, space: dict[str, Dimension], fixed: dict) -> dict[str, Dimension]:
    """`space` with the tables of a TOML file laid over it: a table replaces the option's range
    (narrowing it, or adding an option the declarations leave out); `exclude = [names]` drops some."""
    from nlpkit.option_parsing import read_recipe

    given = read_recipe(path)
    by_name = {f.name: f for f in options_cls.declared()}
    hints = options_cls.hints()
    space = dict(space)
    for name in given.pop("exclude", []) or []:
        space.pop(str(name).replace("-", "_"), None)
    for key, spec in given.items():
        name = str(key).replace("-", "_")
        if name not in by_name:
            close = difflib.get_close_matches(name, list(by_name), n=1)
            hint = f"; did you mean [{close[0]}]?" if close else ""
            raise NlpkitError(f"{path}: unknown option [{key}]{hint}")
        if name == "tokenizer" and getattr(options_cls, "SELECTED_BY", ("",))[0] == "valid_loss":
            raise NlpkitError(
                f"{path}: [{key}] cannot be searched for a language model: its loss per token changes with the "
                "tokenizer, so trials would not be comparable (run a study per tokenizer)"
            )
        if name in fixed:
            raise NlpkitError(
                f"{path}: [{key}] is fixed by the command ({option(name)}); search it or fix it, not both"
            )
        space[name] = dimension(by_name[name], hints[name], spec, path)
    return space
