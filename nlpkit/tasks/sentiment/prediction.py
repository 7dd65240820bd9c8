"""Classifying encoded texts (nlpkit.tasks.sentiment.task.encode) in batches of a token budget,
to class probabilities."""

from __future__ import annotations

import torch

from nlpkit.data.batching import pad, token_budget_groups
from nlpkit.tasks.sentiment.model import Classifier


@torch.no_grad()
def predict_proba(model: Classifier, encoded: list[list[int]], batch_tokens: int = 16384) -> torch.Tensor:
    """Class probabilities [n, labels] of already encoded texts, in their order."""
    device = next(model.parameters()).device
    probs = torch.empty(len(encoded), len(model.config.labels))
    for group in token_budget_groups([len(e) for e in encoded], batch_tokens):
        tokens, lengths = pad([encoded[i] for i in group])
        logits = model(tokens.to(device), lengths)
        probs[group] = torch.softmax(logits.float(), dim=-1).cpu()
    return probs
