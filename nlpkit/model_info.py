"""What a model file holds, read from its header alone: `nlpkit info` and `nlpkit.info()`.

Nothing here builds a model or reads weights, so it answers at once for any file size, and an
untrusted file's metadata is only ever shown as text.
"""

from __future__ import annotations

import os

from nlpkit.errors import NlpkitError


def header(path: str, *, brief: bool = False, runtime: bool = False) -> dict:
    """The metadata of a model file (.nlpk), of an exported graph (.onnx) or of a CTranslate2
    export (a directory): for the exports, that of the model file they carry. With `brief`, a
    long word vocabulary shows its first 20 entries. With `runtime`, a .nlpk's also says what
    `runtime="auto"` runs it on here (nlpkit.export.auto.describe: hashes the file once)."""
    from nlpkit.modelfile import read_header

    path = str(path)
    if os.path.isdir(path):  # a CTranslate2 export: the model file it carries says what it holds
        from nlpkit.export.ct2 import MODEL_FILE

        if not os.path.isfile(os.path.join(path, MODEL_FILE)):
            raise NlpkitError(f"{path}: a directory, but not a model exported by `nlpkit export --format ctranslate2`")
        meta = read_header(os.path.join(path, MODEL_FILE))
    elif path.endswith(".onnx"):
        from nlpkit.export.runtime import graph_info

        meta = graph_info(path)
    else:
        meta = read_header(path)
    meta.pop("tied", None)
    if runtime and os.path.isfile(path) and not path.endswith(".onnx"):
        from nlpkit.export.auto import describe

        meta["runtime"] = describe(path, meta)
    tok = meta.get("tokenizer", {})
    if brief and isinstance(tok, dict) and isinstance(tok.get("symbols"), list) and len(tok["symbols"]) > 20:
        meta["tokenizer"] = {**tok, "symbols": tok["symbols"][:20] + ["..."]}
    train = meta.get("metrics", {}).get("train") if isinstance(meta.get("metrics"), dict) else None
    if brief and isinstance(train, dict) and isinstance(train.get("history"), list) and train["history"]:
        found = [h for h in train.pop("history") if isinstance(h, dict)]
        meta["history"] = history_summary(found) if found else {}
    return meta


def recipe_toml(path: str) -> str:
    """The options the model at `path` was trained with, as a TOML recipe for `--config`."""
    from nlpkit.option_parsing import to_toml
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
    started = meta["recipe"].get("budget_recipe") if isinstance(meta["recipe"], dict) else None
    source = (
        f"# it started from the budget recipe {started}; the options given overrode it\n"
        if started not in (None, "auto", "off")
        else ""
    )
    return f"# the recipe of {path}: nlpkit {group} train --config RECIPE.toml\n" + source + to_toml(meta["recipe"])


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


MAX_METRICS_BYTES = 64 << 20  # a metrics file (metrics_out) larger than this is not one


def run_metrics(path: str) -> dict:
    """The metrics a training run recorded: from a model file (.nlpk or .onnx) or from the JSON
    file `metrics_out` wrote. Anything but a regular file is refused (a FIFO would hang)."""
    import json
    from pathlib import Path

    path = str(path)
    if not path.endswith(".json"):
        metrics = header(path).get("metrics", {})
        return metrics if isinstance(metrics, dict) else {}
    file = Path(path)
    if not file.exists():
        raise NlpkitError(f"{path}: no such metrics file")
    if not file.is_file():
        raise NlpkitError(f"{path}: not a regular file (a folder, a device or a FIFO)")
    if file.stat().st_size > MAX_METRICS_BYTES:
        raise NlpkitError(f"{path}: {file.stat().st_size:,} bytes, more than a metrics file holds")
    try:
        metrics = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NlpkitError(f"{path}: not a metrics file written by metrics_out ({exc})") from None
    except RecursionError:
        raise NlpkitError(f"{path}: not a metrics file written by metrics_out (nested too deeply)") from None
    return metrics if isinstance(metrics, dict) else {}


def history(path: str, metrics: dict | None = None) -> list[dict]:
    """The evaluation history of a training run (run_metrics, or `metrics` already read): one
    dict per evaluation (step, epoch, seconds, train_loss and the validation metrics)."""
    metrics = run_metrics(path) if metrics is None else metrics
    train = metrics.get("train")
    found = train.get("history") if isinstance(train, dict) else None
    if not isinstance(found, list) or not found or not all(isinstance(h, dict) for h in found):
        raise NlpkitError(f"{path}: records no evaluation history (a file from before histories, or not a training's)")
    return found


def selected_by(metrics: dict, found: list[dict]) -> str:
    """The metric a run kept its model by: what it recorded, else (older files) the first
    validation metric of its last evaluation, else the training loss."""
    named = metrics.get("selected_by")
    if isinstance(named, str) and named:
        return named
    return next((k for k in found[-1] if k.startswith("valid_")), "train_loss")


def history_summary(found: list[dict]) -> dict:
    """Name/value rows that show a history at a glance: each metric's sparkline, first and last."""
    from nlpkit.diagnostics.summary import sparkline

    rows = {"evaluations": f"{len(found)} (steps {found[0].get('step', '?')} to {found[-1].get('step', '?')})"}
    names = [k for k in found[-1] if k == "train_loss" or k.startswith("valid_")]
    for name in names:
        values = [h.get(name) for h in found if isinstance(h.get(name), int | float)]
        if values:
            rows[name] = f"{sparkline(values, width=32)}  {values[0]:.4g} -> {values[-1]:.4g}"
    return rows
