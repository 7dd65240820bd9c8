"""How much of its history a trained language model uses: the loss at the same text positions
when the model may read only the last k tokens before each, for growing k (Khandelwal et al.
2018 measured LSTM LMs this way). Where the curve flattens, longer history stops helping.

Every position is predicted from a fresh start (zero state, empty cache) reading exactly k
tokens, so a recurrent model and a Transformer are measured alike; the loss with the model's
whole history (`lm eval`'s way of reading: carried state, or overlapping windows) is the
reference the curve climbs down to.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from nlpkit.errors import NlpkitError, option


def token_losses(model, ids: torch.Tensor) -> torch.Tensor:
    """nll[t] of ids[t + 1] given everything before it, read as `lm eval` reads one stream."""
    from nlpkit.tasks.lm.scoring import window_plan

    data = ids[None]
    out = torch.empty(ids.numel() - 1)
    with torch.no_grad():
        if model.is_recurrent:
            state = None
            for begin in range(0, ids.numel() - 1, model.config.context):
                end = min(begin + model.config.context, ids.numel() - 1)
                logits, state = model(data[:, begin:end], state)
                out[begin:end] = F.cross_entropy(logits[0].float(), ids[begin + 1 : end + 1], reduction="none")
        else:
            for begin, end, skip in window_plan(ids.numel(), model.config.context):
                logits, _ = model(data[:, begin:end])
                nll = F.cross_entropy(logits[0].float(), ids[begin + 1 : end + 1], reduction="none")
                out[begin + skip : end] = nll[skip:]
    return out


def last_step_nll(model, h: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The loss of each row's last-step features [rows, dim]: the output layer runs on those rows
    only, not on every step of every window."""
    if model.adaptive is not None:
        return -model.adaptive.log_prob(h).gather(1, targets[:, None])[:, 0]
    return F.cross_entropy(model.decoder(h).float(), targets, reduction="none")


def context_curve(model, ids: torch.Tensor, lengths: list[int], positions: int, batch_tokens: int = 16384) -> dict:
    """Mean loss (nats/token) at `positions` evenly spread target positions, each predicted from
    its last k tokens for every k in `lengths`, and from its whole history ("full")."""
    longest = max(lengths)
    if ids.numel() <= longest + 1:
        raise NlpkitError(f"the text has {ids.numel():,} tokens: too few for a context of {longest}")
    targets = torch.linspace(longest, ids.numel() - 1, min(positions, ids.numel() - longest)).long().unique()
    full = token_losses(model, ids)[targets - 1]
    rows = []
    with torch.no_grad():
        for k in lengths:
            if not model.is_recurrent and k > model.config.context:
                continue  # a Transformer reads at most its context
            starts = targets[:, None] - k + torch.arange(k)[None, :]
            nll = torch.empty(len(targets))
            per_batch = max(1, batch_tokens // k)
            for i in range(0, len(targets), per_batch):
                h, _ = model.features(ids[starts[i : i + per_batch]])
                nll[i : i + per_batch] = last_step_nll(model, h[:, -1], ids[targets[i : i + per_batch]])
            rows.append({"context": k, "loss": round(nll.mean().item(), 4)})
    loss = full.mean().item()
    return {"positions": len(targets), "full_loss": round(loss, 4), "full_ppl": round(math.exp(loss), 2), "rows": rows}


def sweep(o) -> dict:
    """context_curve for each model file of the options (nlpkit.diagnostics.options.ContextOptions)."""
    from nlpkit.data.readers import iter_lines
    from nlpkit.data.streams import token_stream
    from nlpkit.device import resolve_device
    from nlpkit.modelfile import load
    from nlpkit.option_parsing import comma_numbers
    from nlpkit.tasks.lm import model as lm
    from nlpkit.tasks.lm.files import from_modelfile

    lengths = sorted(set(comma_numbers(o.lengths, "lengths")))
    if lengths[0] < 1:
        raise NlpkitError(f"{option('lengths')}: a context holds at least 1 token")
    lines = list(iter_lines(o.text))
    results = {}
    for path in o.model:
        model, tok = from_modelfile(load(path, task=lm.TASK), resolve_device(o.device))
        ids = token_stream(tok, lines).to(next(model.parameters()).device)
        curve = context_curve(model, ids, lengths, o.positions)
        curve["encoder"] = model.config.encoder.kind
        results[path] = curve
    return {"text": o.text, "lengths": lengths, "results": results}


def table(found: dict) -> tuple[str, list[str], list[list[str]]]:
    """The sweep as a table: loss by context length per model, and with the whole history."""
    lengths = found["lengths"]
    rows = []
    for path, r in found["results"].items():
        by_k = {row["context"]: row["loss"] for row in r["rows"]}
        cells = [f"{by_k[k]:.3f}" if k in by_k else "-" for k in lengths]
        rows.append([f"{path} ({r['encoder']})", *cells, f"{r['full_loss']:.3f}"])
    positions = next(iter(found["results"].values()))["positions"] if found["results"] else 0
    title = f"loss (nats/token) at {positions:,} positions of {found['text']}, reading only the last k tokens"
    return title, ["model", *map(str, lengths), "whole history"], rows


def curves(found: dict) -> dict:
    """{label: (context lengths, losses)} for a plot."""
    return {
        f"{path} ({r['encoder']})": ([row["context"] for row in r["rows"]], [row["loss"] for row in r["rows"]])
        for path, r in found["results"].items()
    }
