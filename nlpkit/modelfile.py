"""The single-file model format (.nlpk): safetensors weights with JSON metadata in the header.

Loading reads tensors and JSON only, never pickles, so a model file from a stranger cannot run
code. Writes are atomic: a temporary file in the same folder, fsync, then rename.
"""

from __future__ import annotations

import json
import platform
import struct
from dataclasses import dataclass, field
from pathlib import Path

from nlpkit.errors import NlpkitError
from nlpkit.outputs import write_atomically

FORMAT = "nlpk"
FORMAT_VERSION = 1  # what a float model file is written as
READS_VERSION = 2  # the newest this nlpkit reads (2: int8 weights, written by `nlpkit quantize`)
_META_KEY = "nlpkit"
_MAX_HEADER = 100 * 1024 * 1024


@dataclass
class ModelFile:
    task: str
    meta: dict  # model config, tokenizer, labels, data fingerprint, metrics, training config
    tensors: dict = field(default_factory=dict)  # name -> torch.Tensor (numpy array: load(arrays=True))
    path: str = ""  # where it was read from (for messages)


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


def to_bytes(model: ModelFile) -> bytes:
    """The model file's bytes (what save writes)."""
    from safetensors.torch import save as st_save

    tensors, tied = _dedupe_shared(model.tensors)
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "task": model.task, "tied": tied, **model.meta}
    header.setdefault("versions", versions())
    return st_save(tensors, metadata={_META_KEY: json.dumps(header)})


def save(path: str | Path, model: ModelFile) -> None:
    write_atomically(path, to_bytes(model))


def read_header(path: str | Path) -> dict:
    """The JSON metadata alone (for `nlpkit info`), validated; no tensors are read."""
    path = Path(path)
    if not path.exists():
        raise NlpkitError(f"{path}: no such model file")
    if path.is_dir():
        raise NlpkitError(f"{path}: is a directory, not a model file")
    if not path.is_file():  # a FIFO would hang the reader, a device never end
        raise NlpkitError(f"{path}: not a regular file (a device or a FIFO), not a model file")
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
        if not isinstance(meta, dict):
            raise NlpkitError(f"{path}: not an nlpkit model file (its metadata is not an object)")
        data_end = _check_tensor_table(path, header)
    if path.stat().st_size < 8 + size + data_end:
        raise NlpkitError(f"{path}: model file is truncated ({path.stat().st_size} of {8 + size + data_end} bytes)")
    if meta.get("format") != FORMAT:
        raise NlpkitError(f"{path}: not an nlpkit model file")
    if not isinstance(meta.get("format_version", 0), int) or meta.get("format_version", 0) > READS_VERSION:
        raise NlpkitError(
            f"{path}: model file format {meta['format_version']} is newer than this nlpkit reads "
            f"({READS_VERSION}); upgrade nlpkit"
        )
    return meta


_ITEM_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def _check_tensor_table(path: Path, header: dict) -> int:
    """Every tensor entry names a known dtype, a shape of whole numbers and the byte range that
    shape needs, the ranges tiling the data without gaps or overlaps; returns the data's end.
    Checked before anything is read, so no size in the file can make us allocate."""
    spans = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (start, end) = entry["dtype"], entry["shape"], entry["data_offsets"]
            ok = dtype in _ITEM_SIZES and all(isinstance(n, int) and n >= 0 for n in [*shape, start, end])
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            raise NlpkitError(f"{path}: not a valid model file (tensor {name!r} has a bad entry in the table)")
        numel = 1
        for n in shape:
            numel *= n
        if end - start != numel * _ITEM_SIZES[dtype]:
            raise NlpkitError(
                f"{path}: not a valid model file (tensor {name!r}: {end - start} bytes for shape {shape})"
            )
        spans.append((start, end))
    position = 0
    for start, end in sorted(spans):
        if start != position:
            raise NlpkitError(f"{path}: not a valid model file (tensor data overlaps or leaves gaps)")
        position = end
    return position


def load(path: str | Path, task: str | None = None, arrays: bool = False) -> ModelFile:
    """Read a model file; with `task`, refuse a model trained for another task. With arrays, the
    tensors are numpy arrays and torch is not imported (the graph runner, nlpkit.export)."""
    from safetensors import SafetensorError

    if arrays:
        from safetensors.numpy import load_file
    else:
        from safetensors.torch import load_file

    meta = read_header(path)
    if task is not None and meta.get("task") != task:
        from nlpkit.tasks import FILE_TASKS  # named as the commands name them: 'nlpkit sentiment'

        found, wanted = (FILE_TASKS.get(t, t) for t in (meta.get("task"), task))
        raise NlpkitError(f"{path}: a model for 'nlpkit {found}', not for 'nlpkit {wanted}'")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise NlpkitError(f"{path}: cannot read the weights ({exc})") from None
    for name, source in meta.pop("tied", {}).items():
        tensors[name] = tensors[source]
    for key in ("format", "format_version"):
        meta.pop(key, None)
    return ModelFile(task=meta.pop("task", None), meta=meta, tensors=tensors, path=str(path))
