"""The cache of runtime conversions: a .nlpk converted once for CTranslate2 or onnxruntime, kept
under the model file's content hash so that every later run (of any copy of the file) finds it.

    $NLPKIT_CACHE (default $XDG_CACHE_HOME/nlpkit, else ~/.cache/nlpkit)
        conversions/<sha256>-<form>/      one conversion: the export's files and manifest.json
        hashes/<sha1 of the path>.json    a file's hash, reused while its size, mtime and inode hold
        choices/<sha256>.json             what was measured once for a model on this CPU (int8 form)

A conversion is built in a private folder beside its place and renamed into it whole, under a
lock, so two processes converting one model at once build it once and neither sees half of it.
Its manifest records the source's hash and every file's; a conversion is used only when they
all match (read before each use), so a damaged or foreign one is refused, removed and rebuilt,
never run. Nothing here is ever executed or unpickled.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from nlpkit.errors import NlpkitError

MANIFEST = "manifest.json"
LAYOUT = 1  # the manifest's version: a conversion written by another layout is rebuilt


class CacheUnavailable(NlpkitError):
    """The cache folder cannot be made or written (read-only, full): the caller runs without it."""


def root() -> Path:
    if os.environ.get("NLPKIT_CACHE"):
        return Path(os.environ["NLPKIT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nlpkit"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def content_hash(path) -> str:
    """The sha256 of the file at `path`, remembered beside the cache while the file's size,
    modification time and inode stay the same (a 1 GB model is hashed once, not per run)."""
    path = Path(path)
    st = path.stat()
    stamp = [st.st_size, st.st_mtime_ns, st.st_ino]
    memo = root() / "hashes" / (hashlib.sha1(os.fsencode(path.resolve())).hexdigest() + ".json")
    try:
        known = json.loads(memo.read_text(encoding="utf-8"))
        if known.get("stamp") == stamp and isinstance(known.get("sha256"), str) and len(known["sha256"]) == 64:
            return known["sha256"]
    except (OSError, ValueError, AttributeError):
        pass
    digest = _sha256(path)
    try:
        _write_json(memo, {"stamp": stamp, "sha256": digest})
    except OSError:
        pass  # a read-only cache only costs the hashing again next time
    return digest


def _write_json(path: Path, value) -> None:
    """`value` as JSON at `path`, whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(value, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def folder(digest: str, form: str) -> Path:
    return root() / "conversions" / f"{digest}-{form}"


def valid(place: Path, digest: str) -> str | None:
    """Why the conversion at `place` may not be used (None: it may): a missing or unreadable
    manifest, another source, another layout, a file missing, changed or added."""
    try:
        manifest = json.loads((place / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "it has no manifest"
    except (OSError, ValueError) as exc:
        return f"its manifest cannot be read ({exc})"
    if not isinstance(manifest, dict) or manifest.get("layout") != LAYOUT:
        return "it was written by another nlpkit"
    if manifest.get("source") != digest:
        return "it is the conversion of another model"
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        return "its manifest lists no files"
    present = {p.name for p in place.iterdir()} - {MANIFEST}
    if present != set(files):
        return "its files are not those its manifest lists"
    for name, wanted in files.items():
        if _sha256(place / name) != wanted:
            return f"its {name} has changed since it was written"
    return None


def find(digest: str, form: str, on_refused: Callable[[str], None] | None = None) -> Path | None:
    """The valid conversion of `digest` into `form`, or None; one that fails its check is
    removed (reported to `on_refused`) so the next build replaces it."""
    place = folder(digest, form)
    if not place.is_dir():
        return None
    why = valid(place, digest)
    if why is None:
        return place
    if on_refused is not None:
        on_refused(f"{place}: refused the cached conversion ({why}); converting again")
    _remove(place)
    return None


def build(digest: str, form: str, write: Callable[[Path], dict], on_refused=None) -> Path:
    """The conversion of `digest` into `form`, built by `write(staging)` (which fills an empty
    folder and returns what to record) unless a valid one is there; raises CacheUnavailable
    when the cache cannot hold it. One process builds at a time; the others wait and use it."""
    import fcntl

    place = folder(digest, form)
    try:
        place.parent.mkdir(parents=True, exist_ok=True)
        lock = open(place.parent / f".{place.name}.lock", "a+")  # noqa: SIM115 - held across the build
    except OSError as exc:
        raise CacheUnavailable(f"{root()}: the conversion cache cannot be written ({_why(exc)})") from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = find(digest, form, on_refused)
        if found is not None:
            return found
        staging = Path(tempfile.mkdtemp(prefix=f".{place.name}.", dir=place.parent))
        try:
            about = write(staging)
            files = {p.name: _sha256(p) for p in staging.iterdir() if p.is_file()}
            manifest = {"layout": LAYOUT, "source": digest, "form": form, "files": files, **about}
            _write_json(staging / MANIFEST, manifest)
            os.chmod(staging, 0o755)
            os.rename(staging, place)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise CacheUnavailable(f"{root()}: the conversion cache cannot be written ({_why(exc)})") from None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return place


def _remove(place: Path) -> None:
    """Take a conversion out of its place first (a rename), then delete it: a reader never sees
    half of one."""
    gone = place.with_name(f".{place.name}.gone-{os.getpid()}")
    try:
        os.rename(place, gone)
    except OSError:
        return
    shutil.rmtree(gone, ignore_errors=True)


def _why(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied" if exc.errno != errno.EROFS else "a read-only file system"
    return exc.strerror or str(exc)


def recalled(digest: str, key: str):
    """What was remembered for this model under `key` (remember), or None."""
    try:
        found = json.loads((root() / "choices" / f"{digest}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found.get(key) if isinstance(found, dict) else None


def remember(digest: str, key: str, value) -> None:
    """Keep `value` for this model under `key`; a cache that cannot be written forgets it."""
    place = root() / "choices" / f"{digest}.json"
    try:
        known = json.loads(place.read_text(encoding="utf-8"))
        known = known if isinstance(known, dict) else {}
    except (OSError, ValueError):
        known = {}
    try:
        _write_json(place, {**known, key: value})
    except OSError:
        pass
