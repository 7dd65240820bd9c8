"""`nlpkit serve MODEL...`: models behind HTTP (nlpkit.serve; needs nlpkit[serve])."""

from __future__ import annotations

from nlpkit.serve.options import ServeOptions


def serve(o: ServeOptions) -> None:
    """Serve models over HTTP until SIGTERM or Ctrl-C: POST /v1/NAME with a JSON list of texts
    (or {"texts": [...]}) answers the records the predict commands print, in order; GET /health,
    GET /v1/models. Requests from many clients are batched; a full queue answers 503 with
    Retry-After. Binds to loopback by default (docs/serving.md says what to put in front of it)."""
    from nlpkit.serve import serve as run

    run(o.models, **{k: v for k, v in vars(o).items() if k != "models"})
