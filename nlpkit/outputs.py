"""The one check every writer makes of the path it is about to write (model files, checkpoints,
ensembles, quantized files, ONNX graphs, vectors): one-line errors before any work, so that a
device, a FIFO, a folder or one of the run's own inputs is never replaced by output."""

from __future__ import annotations

import tempfile
from pathlib import Path

from nlpkit.errors import NlpkitError, option


def check_output(path, inputs=(), name: str = "out", make_folder: bool = True, outputs=()) -> Path:
    """`path` as a Path, refused when it is empty, exists as anything but a regular file, is one
    of `inputs` (paths the same run reads; '-' and missing ones are skipped) or of `outputs` (the
    run's other outputs, compared by name: they may not exist yet), or lies in a folder that
    cannot be written. A missing folder is created, or with make_folder=False refused."""
    text = str(path) if path is not None else ""
    if not text.strip():
        raise NlpkitError(f"{option(name)}: give a file name to write")
    target = Path(text)
    if target.exists() and not target.is_file():
        raise NlpkitError(f"{option(name)}: {target} exists and is not a regular file (a folder, a device or a FIFO)")
    for source in inputs:
        if source and str(source) != "-" and target.exists() and Path(source).exists() and target.samefile(source):
            raise NlpkitError(f"{option(name)}: {target} is an input of this run; writing it would destroy it")
    for other in outputs:
        if other and Path(other).resolve() == target.resolve():
            raise NlpkitError(f"{option(name)}: {target} is also another output of this run; give each its own file")
    folder = target.parent
    if not make_folder and not folder.is_dir():
        raise NlpkitError(f"{option(name)}: no folder {folder}")
    try:  # a real write, not os.access: root passes every permission check, and /proc still refuses it
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise NlpkitError(f"{option(name)}: cannot write to {folder} ({exc.strerror})") from None
    return target
