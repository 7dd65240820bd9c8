"""Option values written as text: durations ('10m', '1h30m'), comma lists ('5,10,20'), and
recipe files (TOML in, TOML out). Torch-free; the option declarations (nlpkit.options), the
engine's config (nlpkit.training) and the run log (nlpkit.tracking) all read values through here.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from nlpkit.errors import NlpkitError, option


def parse_duration(text: str) -> float:
    """'90', '90s', '10m', '1h30m' -> seconds."""
    text = text.strip().lower()
    if not text:
        raise ValueError("empty duration")
    total, number = 0.0, ""
    units = {"h": 3600, "m": 60, "s": 1}
    for ch in text:
        if ch.isdigit() or ch == ".":
            number += ch
        elif ch in units and number:
            total += float(number) * units[ch]
            number = ""
        else:
            raise ValueError(f"bad duration {text!r}; write for example 90s, 10m or 1h30m")
    if number:
        total += float(number)
    return total


def every_seconds(text: str, name: str = "log_every") -> float:
    """The seconds of a logging interval option ('60s', '5m'; '0' or '' = never)."""
    if str(text).strip() in ("", "0"):
        return 0.0
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise NlpkitError(f"{option(name)}: {exc}") from None


def comma_numbers(text: str, name: str, kind: type = int, least: float = 1) -> list:
    """The numbers of a comma list option ('5,10,20'), each at least `least`, or a ValueError
    naming the option."""
    try:
        values = [kind(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(not v >= least for v in values):
        what = "whole numbers" if kind is int else "numbers"
        raise ValueError(f"{option(name)}: expected a comma list of {what} ({least:g} or more), got {text!r}")
    return values


MAX_RECIPE_BYTES = 1 << 20


def read_recipe(path: str) -> dict:
    """The options in a TOML recipe file: top-level keys, or one [train] table."""
    if not isinstance(path, str | Path) or not str(path).strip():
        raise NlpkitError(f"recipe: expected the path of a TOML file, got {path!r}")
    if Path(path).exists() and not Path(path).is_file():  # a FIFO would hang, a device never end
        raise NlpkitError(f"{path}: not a regular file (a folder, a device or a FIFO); a recipe is a TOML file")
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_RECIPE_BYTES + 1)
        if len(raw) > MAX_RECIPE_BYTES:
            raise NlpkitError(f"{path}: larger than {MAX_RECIPE_BYTES >> 10} KiB; a recipe is a short TOML file")
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise NlpkitError(f"{path}: not a UTF-8 text file (byte {exc.start}); a recipe is TOML text") from None
    except FileNotFoundError:
        raise NlpkitError(f"{path}: no such recipe file") from None
    except OSError as exc:
        raise NlpkitError(f"{path}: cannot read the recipe ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise NlpkitError(f"{path}: not a valid TOML recipe ({exc})") from None
    except RecursionError:
        raise NlpkitError(f"{path}: not a valid TOML recipe (nested too deeply)") from None
    if set(data) == {"train"} and isinstance(data["train"], dict):
        data = data["train"]
    return data


def to_toml(values: dict) -> str:
    """A flat TOML document of option values (strings, numbers, booleans and lists of them)."""
    import json

    def literal(value) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return repr(value)
        if isinstance(value, list):
            return "[" + ", ".join(literal(v) for v in value) + "]"
        return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid TOML basic string

    return "".join(f"{key} = {literal(value)}\n" for key, value in values.items())
