"""The single-file model format (.nlpk): safetensors weights with JSON metadata in the header.

Loading reads tensors and JSON only, never pickles, so a model file from a stranger cannot run
code. Writes are atomic: a temporary file in the same folder, fsync, then rename.
"""

from __future__ import annotations

import json
import os
import platform
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from nlpkit.errors import NlpkitError

FORMAT = "nlpk"
FORMAT_VERSION = 1
_META_KEY = "nlpkit"
_MAX_HEADER = 100 * 1024 * 1024


@dataclass
class ModelFile:
    task: str
    meta: dict  # model config, tokenizer, labels, data fingerprint, metrics, training config
    tensors: dict = field(default_factory=dict)  # name -> torch.Tensor


def versions() -> dict:
    import torch

    from nlpkit import __version__

    return {"nlpkit": __version__, "torch": torch.__version__, "python": platform.python_version()}


def _dedupe_shared(tensors: dict) -> tuple[dict, dict]:
    """safetensors refuses tensors that share memory (tied weights); keep one, note the rest."""
    seen: dict[tuple, str] = {}
    unique, tied = {}, {}
    for name, t in tensors.items():
        key = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape), t.dtype)
        if t.numel() and key in seen:
            tied[name] = seen[key]
            continue
        seen[key] = name
        unique[name] = t.detach().contiguous().cpu()
    return unique, tied


def save(path: str | Path, model: ModelFile) -> None:
    from safetensors.torch import save as st_save

    path = Path(path)
    tensors, tied = _dedupe_shared(model.tensors)
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "task": model.task, "tied": tied, **model.meta}
    header.setdefault("versions", versions())
    payload = st_save(tensors, metadata={_META_KEY: json.dumps(header)})
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fchmod(f.fileno(), 0o666 & ~_umask())  # mkstemp makes 0600; a model file honours the umask
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_header(path: str | Path) -> dict:
    """The JSON metadata alone (for `nlpkit info`), validated; no tensors are read."""
    path = Path(path)
    if not path.exists():
        raise NlpkitError(f"{path}: no such model file")
    if path.is_dir():
        raise NlpkitError(f"{path}: is a directory, not a model file")
    with path.open("rb") as f:
        raw = f.read(8)
        if len(raw) < 8:
            raise NlpkitError(f"{path}: not an nlpkit model file (too short)")
        (size,) = struct.unpack("<Q", raw)
        if size > _MAX_HEADER:
            raise NlpkitError(f"{path}: not an nlpkit model file (no safetensors header)")
        body = f.read(size)
        if len(body) < size:
            raise NlpkitError(f"{path}: model file is truncated (header cut short)")
        try:
            header = json.loads(body)
            meta = json.loads(header["__metadata__"][_META_KEY])
        except (ValueError, KeyError, TypeError):
            raise NlpkitError(f"{path}: not an nlpkit model file (no nlpkit metadata)") from None
        data_end = max((t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"), default=0)
    if path.stat().st_size < 8 + size + data_end:
        raise NlpkitError(f"{path}: model file is truncated ({path.stat().st_size} of {8 + size + data_end} bytes)")
    if meta.get("format") != FORMAT:
        raise NlpkitError(f"{path}: not an nlpkit model file")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise NlpkitError(
            f"{path}: model file format {meta['format_version']} is newer than this nlpkit reads "
            f"({FORMAT_VERSION}); upgrade nlpkit"
        )
    return meta


def load(path: str | Path, task: str | None = None) -> ModelFile:
    """Read a model file; with `task`, refuse a model trained for another task."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    meta = read_header(path)
    if task is not None and meta.get("task") != task:
        raise NlpkitError(f"{path}: this is a {meta.get('task')!r} model, not a {task!r} model")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise NlpkitError(f"{path}: cannot read the weights ({exc})") from None
    for name, source in meta.pop("tied", {}).items():
        tensors[name] = tensors[source]
    for key in ("format", "format_version"):
        meta.pop(key, None)
    return ModelFile(task=meta.pop("task"), meta=meta, tensors=tensors)
