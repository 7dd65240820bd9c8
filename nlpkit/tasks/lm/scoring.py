"""Scoring text with a language model: the loss of a token stream read in windows (evaluate,
lm eval), and each line's log-likelihood (score_lines, lm score)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from nlpkit.data.batching import token_budget_groups
from nlpkit.data.streams import batchify, windows
from nlpkit.tasks.lm.model import LanguageModel


@torch.no_grad()
def stream_nll(model: LanguageModel, data: torch.Tensor, window: int) -> torch.Tensor:
    """Summed negative log-likelihood of data[:, 1:] given what precedes it, per row.

    Recurrent models read the rows in windows carrying their state, so every token is scored
    with its whole history; the Transformer uses overlapping windows (stride half the context)
    and scores each token once, with at least half a context before it.
    """
    device = next(model.parameters()).device
    data = data.to(device)
    total = torch.zeros(data.size(0), device=device)
    if model.is_recurrent:
        state = None
        for x, y in windows(data, window):
            logits, state = model(x, state)
            total += F.cross_entropy(logits.float().transpose(1, 2), y, reduction="none").sum(1)
        return total
    for begin, end, skip in window_plan(data.size(1), window):
        logits, _ = model(data[:, begin:end])
        nll = F.cross_entropy(logits.float().transpose(1, 2), data[:, begin + 1 : end + 1], reduction="none")
        total += nll[:, skip:].sum(1)
    return total


def window_plan(length: int, window: int):
    """How a Transformer scores tokens 1 .. length-1 of a sequence: (begin, end, skip) triples,
    each reading tokens[begin:end] to score tokens begin+1 .. end, of which the first `skip` were
    scored already. Windows overlap by half, so every token is scored once, with at least half a
    context before it (the first ones with what there is)."""
    last, stride = length - 1, max(1, window // 2)
    begin, scored = 0, 0
    while scored < last:
        end = min(begin + window, last)
        yield begin, end, scored - begin
        scored = end
        begin = max(0, end + stride - window)


def evaluate(model: LanguageModel, ids: torch.Tensor, batch_size: int = 10) -> dict:
    """Mean loss (nats per token) and perplexity of a token stream."""
    batch_size = max(1, min(batch_size, ids.numel() // 2))
    data = batchify(ids, batch_size)
    nll = stream_nll(model, data, model.config.context).sum().item()
    count = batch_size * (data.size(1) - 1)
    loss = nll / count
    return {"loss": loss, "ppl": math.exp(min(loss, 50)), "tokens": count}


@torch.no_grad()
def score_lines(model: LanguageModel, tokenizer, lines: list[str], batch_tokens: int = 8192) -> list[tuple[float, int]]:
    """(log-likelihood in nats, token count) of each line, its line end included, in order.

    Each line is scored as if it followed a line end. Lines are sorted by length into padded
    batches; a line longer than the context is scored alone through `stream_nll`.
    """
    eos = tokenizer.eos_id
    device = next(model.parameters()).device
    encoded = [[eos, *tokenizer.encode(line), eos] for line in lines]
    results: list[tuple[float, int] | None] = [None] * len(lines)
    limit = model.config.context if not model.is_recurrent else 4 * model.config.context
    short = []
    for i, seq in enumerate(encoded):
        if len(seq) - 1 > limit:
            nll = stream_nll(model, torch.tensor([seq]), model.config.context).item()
            results[i] = (-nll, len(seq) - 1)
        else:
            short.append(i)
    for members in token_budget_groups([len(encoded[i]) for i in short], batch_tokens):
        group = [short[m] for m in members]
        longest = max(len(encoded[i]) for i in group)
        batch = torch.zeros(len(group), longest, dtype=torch.long)
        lengths = torch.tensor([len(encoded[i]) - 1 for i in group])
        for row, i in enumerate(group):
            batch[row, : len(encoded[i])] = torch.tensor(encoded[i])
        batch = batch.to(device)
        logits, _ = model(batch[:, :-1], None, lengths)
        nll = F.cross_entropy(logits.float().transpose(1, 2), batch[:, 1:], reduction="none")
        mask = torch.arange(longest - 1, device=device)[None, :] < lengths.to(device)[:, None]
        sums = (nll * mask).sum(1).tolist()
        for row, i in enumerate(group):
            results[i] = (-sums[row], int(lengths[row]))
    return results  # type: ignore[return-value]
