"""The one rule for every file and folder a command writes, and the one way they are written.

An option that names something written is declared with `writes=` (nlpkit.options.opt): "file",
"folder" (new files go into it) or "export" (a folder replaced whole). `claim(options)` checks
them all before any work: never one of the run's inputs (every path an option names, the model
included, under any spelling: `./`, `../`, symlinks, hardlinks), never another output, never a
device, FIFO or folder where a file goes, never a folder that holds an input. Files are then
written whole or not at all (`write_atomically`, `atomic_open`: a temporary file beside the
target, fsync, rename), so a failure leaves the earlier file as it was.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path

from nlpkit.errors import NlpkitError, option

KINDS = ("file", "folder", "export")


@dataclass(frozen=True)
class Output:
    """One path a run writes: the option that names it, the path, and what goes there."""

    name: str
    path: str | None
    kind: str = "file"
    required: bool = False  # an empty name is refused rather than meaning "none"


def declared_outputs(options) -> list[Output]:
    """The outputs an option set declares (fields with `writes`), with their values."""
    if options is None:
        return []
    found = []
    for f in fields(options):
        kind = f.metadata.get("writes")
        kind = kind(options) if callable(kind) else kind
        if kind:
            required = isinstance(f.default, str) and bool(f.default)
            found.append(Output(f.name, getattr(options, f.name), kind, required))
    return found


def path_values(options) -> list[str]:
    """Every value of an option set that names an existing path, outputs aside: the run's
    inputs, whatever option names them (a new input option cannot be forgotten here)."""
    if options is None:
        return []
    values = []
    for f in fields(options):
        if f.metadata.get("writes"):
            continue
        value = getattr(options, f.name)
        for v in value if isinstance(value, list | tuple) else [value]:
            if isinstance(v, str | os.PathLike) and str(v) not in ("", "-") and _exists(v):
                values.append(str(v))
    return values


def claim(options=None, *, inputs=(), outputs=(), make_folder: bool = True) -> None:
    """Check every output of a run before it starts: those `options` declares and `outputs`
    (Output), against the paths its options name and `inputs` (paths; None and '-' skipped)."""
    wanted = [o for o in [*declared_outputs(options), *outputs] if o.required or o.path not in (None, "")]
    sources = [str(p) for p in [*path_values(options), *inputs] if p is not None and str(p) not in ("", "-")]
    for n, out in enumerate(wanted):
        check_output(
            out.path, sources, out.name, make_folder, outputs=[o for i, o in enumerate(wanted) if i != n], kind=out.kind
        )


def check_output(path, inputs=(), name: str = "out", make_folder: bool = True, outputs=(), kind: str = "file") -> Path:
    """`path` as a Path, once checked against the rule (module docstring). `inputs`: paths the
    run reads; `outputs`: its other outputs (Output or paths), compared by name since they may
    not exist yet. A missing folder above it is created, or with make_folder=False refused."""
    text = str(path) if path is not None else ""
    flag = option(name)
    if not isinstance(path, str | os.PathLike) or not text.strip():
        raise NlpkitError(f"{flag}: give a {'folder' if kind != 'file' else 'file'} name to write")
    if "\0" in text or len(text) > 4096:
        raise NlpkitError(f"{flag}: not a usable path ({len(text):,} characters)")
    target = Path(text)
    if kind == "file":
        if text.endswith(("/", os.sep)) or target.name in ("", ".", ".."):
            raise NlpkitError(f"{flag}: {text} names a folder; give a file name to write")
        if _exists(target) and not target.is_file():
            raise NlpkitError(f"{flag}: {target} exists and is not a regular file (a folder, a device or a FIFO)")
    elif _exists(target) and not target.is_dir():
        raise NlpkitError(f"{flag}: {target} exists and is not a folder")
    real = _real(target)
    for source in inputs:
        _not_an_input(flag, target, real, source, kind)
    for other in outputs:
        other = other if isinstance(other, Output) else Output("", other)
        if other.path in (None, ""):
            continue
        theirs = _real(Path(other.path))
        if theirs == real:
            raise NlpkitError(f"{flag}: {target} is also another output of this run; give each its own file")
        if other.kind == "export" and real.is_relative_to(theirs):
            raise NlpkitError(f"{flag}: {target} lies in {other.path}, which this run replaces whole")
    folder = real if kind == "folder" else real.parent  # where the files go: a folder output itself
    if not make_folder and not _exists(real.parent):
        raise NlpkitError(f"{flag}: no folder {target.parent}")
    try:  # a real write, not os.access: root passes every permission check, and /proc still refuses it
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise NlpkitError(f"{flag}: cannot write to {folder} ({exc.strerror or exc})") from None
    return target


def _not_an_input(flag: str, target: Path, real: Path, source: str, kind: str) -> None:
    source_path = Path(source)
    if not _exists(source_path):
        return
    theirs = _real(source_path)
    same = theirs == real or (_exists(target) and _samefile(target, source_path))
    if same:
        raise NlpkitError(f"{flag}: {target} is an input of this run ({source}); writing it would destroy it")
    if source_path.is_dir() and _exists(target) and real.is_relative_to(theirs):
        raise NlpkitError(f"{flag}: {target} lies in {source}, an input of this run; write it elsewhere")
    if kind != "file" and theirs.is_relative_to(real):
        raise NlpkitError(f"{flag}: {target} holds {source}, an input of this run; give a folder of its own")


def _exists(path) -> bool:
    try:
        return os.path.lexists(path)
    except (OSError, ValueError):
        return False


def _samefile(a, b) -> bool:
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def _real(path: Path) -> Path:
    """The path with every symlink and `..` resolved (what a write would really touch)."""
    return Path(os.path.realpath(path))


@contextmanager
def atomic_open(path, mode: str = "w", encoding: str | None = "utf-8"):
    """A file object for writing `path` whole or not at all: it writes a temporary file beside
    the target, which replaces the target (fsync, rename) only when the block ends without an
    error; a symlink's target is written, the link kept. The earlier file stays until then."""
    target = Path(path)
    if _exists(target) and not target.is_file():
        raise NlpkitError(
            f"{target}: exists and is not a regular file (a folder, a device or a FIFO); give a file name"
        )
    target = _real(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        binary = "b" in mode
        with os.fdopen(fd, mode, encoding=None if binary else encoding) as f:
            yield f
            f.flush()
            os.fchmod(f.fileno(), 0o666 & ~umask())  # mkstemp makes 0600; a written file honours the umask
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomically(path, payload: bytes) -> None:
    """`payload` written to `path` whole or not at all (atomic_open)."""
    with atomic_open(path, "wb") as f:
        f.write(payload)


def umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
