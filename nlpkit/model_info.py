"""What a model file holds, read from its header alone: `nlpkit info` and `nlpkit.info()`.

Nothing here builds a model or reads weights, so it answers at once for any file size, and an
untrusted file's metadata is only ever shown as text.
"""

from __future__ import annotations

from nlpkit.errors import NlpkitError


def header(path: str, *, brief: bool = False) -> dict:
    """The metadata of a model file (.nlpk) or of an exported graph (.onnx: the model file it
    carries). With `brief`, a long word vocabulary shows its first 20 entries."""
    from nlpkit.modelfile import read_header

    path = str(path)
    if path.endswith(".onnx"):
        from nlpkit.export.runtime import graph_info

        meta = graph_info(path)
    else:
        meta = read_header(path)
    meta.pop("tied", None)
    tok = meta.get("tokenizer", {})
    if brief and isinstance(tok, dict) and isinstance(tok.get("symbols"), list) and len(tok["symbols"]) > 20:
        meta["tokenizer"] = {**tok, "symbols": tok["symbols"][:20] + ["..."]}
    return meta


def recipe_toml(path: str) -> str:
    """The options the model at `path` was trained with, as a TOML recipe for `--config`."""
    from nlpkit.options import to_toml
    from nlpkit.tasks import FILE_TASKS

    meta = header(path)
    if isinstance(meta.get("ensemble"), list):
        raise NlpkitError(
            f"{path}: an ensemble of {len(meta['ensemble'])} models, each with its own recipe "
            "(nlpkit info --format json shows them under ensemble[].recipe)"
        )
    if not meta.get("recipe"):
        raise NlpkitError(f"{path}: the file records no recipe (written by an nlpkit before recipes)")
    group = FILE_TASKS.get(meta.get("task"), meta.get("task"))
    return f"# the recipe of {path}: nlpkit {group} train --config RECIPE.toml\n" + to_toml(meta["recipe"])


def ensemble_summary(meta: dict) -> dict:
    """An ensemble's metadata with a line per member (source, encoder, seed, validation scores)
    instead of every member's full config and recipe."""
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
