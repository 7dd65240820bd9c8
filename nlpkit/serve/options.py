"""The options of `nlpkit serve` and nlpkit.serve(), declared once (torch-free)."""

from __future__ import annotations

from dataclasses import dataclass

from nlpkit.options import LoadOptions, opt

MAX_REQUEST_BYTES = 1 << 30


@dataclass
class ServeOptions(LoadOptions):
    models: list[str] = opt(
        list,
        "Model files to serve, each PATH (named by its file name without .nlpk) or NAME=PATH; a .onnx graph or "
        "CTranslate2 folder too.",
        argument=1,
        required=True,
        metavar="MODEL",
    )
    host: str = opt("127.0.0.1", "Address to listen on (loopback by default: put a TLS proxy in front for others).")
    port: int = opt(8080, "Port to listen on (0: any free one; the start-up line names it).", min=0, max=65535)
    batch_tokens: int = opt(
        4096, "Gather requests into batches of about this many words, or what came within `max_wait_ms`.", min=1
    )
    max_wait_ms: float = opt(
        0.0,
        "How long an idle model waits for more requests before it runs a batch (0: at once; requests that arrive "
        "while a batch runs form the next one).",
        min=0.0,
        max=10_000.0,
    )
    queue: int = opt(
        4096, "Texts waiting per model; a request past it is answered 503 with Retry-After.", min=1, max=10_000_000
    )
    max_request_bytes: int = opt(
        1 << 20, "Largest request body (bytes); larger: 413.", min=64, max=MAX_REQUEST_BYTES, metavar="BYTES"
    )
    max_texts: int = opt(1000, "Most texts in one request; more: 413.", min=1, max=1_000_000)
    max_text_chars: int = opt(100_000, "Longest text (characters); longer: 413.", min=1, max=100_000_000)
    read_timeout: float = opt(
        30.0, "Seconds a client may take to send its request body; slower: 408.", min=0.1, max=3600.0
    )
    log_format: str = opt(
        "auto",
        "auto: a JSON access line per request off a terminal, a short one on it | json | text | none.",
        choices=("auto", "json", "text", "none"),
    )
