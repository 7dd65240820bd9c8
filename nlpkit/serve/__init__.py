"""`nlpkit serve` and nlpkit.serve(): models behind HTTP for applications (needs nlpkit[serve]:
Starlette on uvicorn). options.py declares the options, batching.py gathers requests into
batches, app.py answers them; this module loads the models, binds the port and runs the server
until SIGTERM or Ctrl-C, answering the requests in flight before it stops."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading

from nlpkit.errors import NlpkitError, option


def require():
    try:
        import starlette  # noqa: F401
        import uvicorn
    except ImportError:
        raise NlpkitError("nlpkit serve needs Starlette and uvicorn: pip install 'nlpkit[serve]'") from None
    return uvicorn


def named(specs: list[str]) -> dict[str, str]:
    """NAME -> path of each MODEL argument (PATH, named by its file name, or NAME=PATH)."""
    found = {}
    for spec in specs:
        name, path = spec.split("=", 1) if "=" in spec and not os.path.exists(spec) else ("", spec)
        name = name or os.path.splitext(os.path.basename(os.path.normpath(path)))[0]
        if not name or not all(c.isalnum() or c in "-_." for c in name):
            raise NlpkitError(f"{spec}: a model name may hold letters, digits, - _ and . (give NAME=PATH)")
        if name in found:
            raise NlpkitError(f"{spec}: two models named {name!r}; give one of them another (NAME=PATH)")
        found[name] = path
    return found


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound now so that a port in use is one line before any model loads."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        raise NlpkitError(f"{option('host')} {host} {option('port')} {port}: cannot listen ({exc.strerror})") from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def serve(models, **options) -> None:
    """Serve `models` (paths, or NAME=PATH strings) over HTTP until SIGTERM or Ctrl-C: the options
    of `nlpkit serve` as keyword arguments (host, port, batch_tokens, ...)."""
    import sys

    import nlpkit
    from nlpkit.console import console, info
    from nlpkit.model_info import header
    from nlpkit.serve.options import ServeOptions

    o = ServeOptions.create({"models": [models] if isinstance(models, str | os.PathLike) else list(models), **options})
    uvicorn = require()
    from nlpkit.serve.app import Served, json_log, make_app, text_log  # Starlette: after the check that names the extra

    paths = named([os.fspath(m) for m in o.models])
    sock = bind(o.host, o.port)
    served = {}
    for name, path in paths.items():
        model = nlpkit.load(path, device=o.device, threads=o.threads, quantize=o.quantize, runtime=o.runtime)
        if not hasattr(model, "record"):
            raise NlpkitError(f"{path}: a model nlpkit serve cannot answer for")
        served[name] = Served(name, path, model, header(path, brief=True), o)
    fmt = o.log_format if o.log_format != "auto" else ("text" if console().is_terminal else "json")
    log = {"json": json_log, "text": text_log}.get(fmt) if not o.quiet else None
    app = make_app(served, o, log)
    host, port = sock.getsockname()[:2]
    shown = ", ".join(f"{n} ({s.task}, {s.path})" for n, s in served.items())
    info(f"serving {shown} on http://{host}:{port}; POST /v1/NAME with a JSON list of texts", o.quiet)
    sys.stderr.flush()
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_keep_alive=5,
        timeout_graceful_shutdown=30,
        limit_concurrency=4096,
        h11_max_incomplete_event_size=64 * 1024,
    )
    server = uvicorn.Server(config)
    with _sigterm_ends_cleanly():
        server.run(sockets=[sock])
    info("stopped: every request received was answered", o.quiet)


@contextlib.contextmanager
def _sigterm_ends_cleanly():
    """uvicorn answers SIGTERM by shutting down gracefully, then raises the signal again for the
    handler it found: a no-op one here, so that a stop asked for ends with status 0."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only: nothing to arrange
        return
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
