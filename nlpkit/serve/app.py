"""The HTTP face of `nlpkit serve` (Starlette): POST /v1/NAME with a JSON list of texts answers
the records the predict commands print, in order; GET /health and GET /v1/models. Every error
is a status and a one-line JSON {"error": ...}: 400 bad JSON or types, 404 an unknown model,
408 a body sent too slowly, 413 too large, 503 (with Retry-After) a full queue."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from nlpkit.serve.batching import Batcher, Busy


class Refused(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.headers = status, headers or {}


def error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


class Served:
    """One model behind the server: its name, task, what `nlpkit info` says of it, its batcher."""

    def __init__(self, name: str, path: str, model, info: dict, o):
        self.name, self.path, self.model, self.info = name, path, model, info
        self.task = model.name
        self.batcher = Batcher(self.predict, o.queue, o.batch_tokens, o.max_wait_ms / 1000, name)

    def predict(self, items: list) -> list[dict]:
        """The model's records for `items`, in order (run in the batcher's worker thread)."""
        return [self.model.record(r) for r in self.model.predict(items)]


def read_items(body: bytes, task: str, o) -> list:
    """The texts of a request body: a JSON list of texts, or {"texts": [...]}; a tagger also
    takes token lists. Each refused with what is wrong and where."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused(400, f"the body is not UTF-8 (byte {exc.start})") from None
    try:
        found = json.loads(text)
    except RecursionError:
        raise Refused(400, "the JSON is nested too deeply") from None
    except ValueError as exc:
        raise Refused(400, f"the body is not JSON: {str(exc).splitlines()[0]}") from None
    if isinstance(found, dict):
        unknown = set(found) - {"texts"}
        if unknown:
            raise Refused(400, f'unknown field {sorted(unknown)[0]!r}; send {{"texts": [...]}} or a list')
        found = found.get("texts")
    if not isinstance(found, list):
        raise Refused(400, 'expected a JSON list of texts, or {"texts": [...]}')
    if len(found) > o.max_texts:
        raise Refused(413, f"{len(found):,} texts in one request; at most {o.max_texts:,}")
    for n, item in enumerate(found):
        tokens = task == "ner" and isinstance(item, list) and all(isinstance(t, str) for t in item)
        if not isinstance(item, str) and not tokens:
            kind = "a text or a list of token strings" if task == "ner" else "a text"
            raise Refused(400, f"item {n}: expected {kind}, got {type(item).__name__}")
        length = len(item) if isinstance(item, str) else sum(len(t) + 1 for t in item)
        if length > o.max_text_chars:
            raise Refused(413, f"item {n}: {length:,} characters; at most {o.max_text_chars:,}")
        if isinstance(item, str) and not _encodable(item):
            raise Refused(400, f"item {n}: holds a lone surrogate (not a Unicode text)")
    return found


def _encodable(text: str) -> bool:
    """Whether `text` is Unicode text (JSON's \\ud800 escapes can make lone surrogates), checked in C."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def read_body(request: Request, o) -> bytes:
    """The body, refused past `max_request_bytes` (before reading it when its length is declared)
    and when the client takes longer than `read_timeout` to send it."""
    declared = request.headers.get("content-length")
    if declared is not None and not declared.isdigit():
        raise Refused(400, f"Content-Length {declared[:40]!r} is not a byte count")
    if declared is not None and int(declared) > o.max_request_bytes:
        raise Refused(413, f"the request declares {int(declared):,} bytes; at most {o.max_request_bytes:,}")

    async def gather() -> bytes:
        parts, size = [], 0
        async for part in request.stream():
            size += len(part)
            if size > o.max_request_bytes:
                raise Refused(413, f"the request is over {o.max_request_bytes:,} bytes")
            parts.append(part)
        return b"".join(parts)

    try:
        return await asyncio.wait_for(gather(), o.read_timeout)
    except TimeoutError:
        raise Refused(408, f"the request body took longer than {o.read_timeout:g} s to arrive") from None


def make_app(served: dict[str, Served], o, log=None) -> Starlette:
    """The application serving `served` (name -> Served) with the options `o` (ServeOptions)."""
    by_task: dict[str, list[Served]] = {}
    for s in served.values():
        by_task.setdefault(s.task, []).append(s)

    def find(name: str) -> Served:
        if name in served:
            return served[name]
        if len(by_task.get(name, [])) == 1:  # a task with one model answers by the task's name too
            return by_task[name][0]
        known = ", ".join(sorted(served))
        hint = f" (several {name} models: name one)" if name in by_task else ""
        raise Refused(404, f"no model {name!r}{hint}; serving: {known}")

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "models": sorted(served)})

    async def models(request: Request) -> Response:
        return JSONResponse(
            {"models": [{"name": s.name, "task": s.task, "path": s.path, "info": s.info} for s in served.values()]}
        )

    async def predict(request: Request) -> Response:
        try:
            target = find(request.path_params["name"])
            body = await read_body(request, o)
            items = read_items(body, target.task, o)
            request.scope.setdefault("state", {})["texts"] = len(items)
            if not items:
                return JSONResponse([])
            words = sum(len(i.split()) + 1 if isinstance(i, str) else len(i) + 1 for i in items)
            try:
                answer = target.batcher.submit(items, words)
            except Busy:
                raise Refused(
                    503, f"model {target.name}: the queue is full; retry shortly", {"Retry-After": "1"}
                ) from None
            gone = asyncio.ensure_future(_disconnected(request))
            done, _ = await asyncio.wait({answer, gone}, return_when=asyncio.FIRST_COMPLETED)
            if answer not in done:  # the client went away: its share of the batch is dropped
                answer.cancel()
                return Response(status_code=499)
            gone.cancel()
            return JSONResponse(answer.result())
        except Refused as exc:
            return error(exc.status, str(exc), exc.headers)
        except ClientDisconnect:
            return Response(status_code=499)
        except Busy:
            return error(503, "the server is shutting down", {"Retry-After": "1"})
        except Exception as exc:  # noqa: BLE001 - a model's failure is this request's, not the server's
            return error(500, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        for s in served.values():
            s.batcher.start()
        yield
        for s in served.values():
            await s.batcher.stop()

    async def not_found(request: Request, exc) -> Response:
        return error(getattr(exc, "status_code", 404), f"no such route: {request.method} {request.url.path}")

    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/v1/{name}", predict, methods=["POST"]),
        ],
        lifespan=lifespan,
        exception_handlers={404: not_found, 405: not_found},
    )
    return AccessLog(app, log) if log is not None else app


async def _disconnected(request: Request) -> None:
    """Returns when the client closes its connection (what an ASGI server says after the body)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


class AccessLog:
    """ASGI middleware: one line per request to `write` (a JSON object, or text on a terminal)."""

    def __init__(self, app, write):
        self.app, self.write = app, write

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, status = time.perf_counter(), {"code": 0}

        async def sending(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            client = scope.get("client") or ("", 0)
            self.write(
                {
                    "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "client": client[0],
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status["code"] or 499,
                    "ms": round(1000 * (time.perf_counter() - start), 2),
                    "texts": scope.get("state", {}).get("texts"),
                }
            )


def json_log(record: dict) -> None:
    sys.stderr.write(json.dumps(record) + "\n")
    sys.stderr.flush()


def text_log(record: dict) -> None:
    texts = f" {record['texts']} texts" if record.get("texts") is not None else ""
    sys.stderr.write(f"{record['method']} {record['path']} {record['status']} {record['ms']:.1f} ms{texts}\n")
    sys.stderr.flush()
