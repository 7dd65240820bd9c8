"""Tagging: encoded sentences through the model in batches, decoded into tags (and their
probabilities)."""

from __future__ import annotations

import torch

from nlpkit.data.batching import token_budget_groups
from nlpkit.tasks.ner.model import Tagger, make_batch


@torch.no_grad()
def predict(
    model: Tagger, encoded: list, batch_tokens: int = 8192, with_probs: bool = True
) -> list[tuple[list[int], list[float]]]:
    """(tag ids, probability of each chosen tag) per encoded sentence, in input order; an empty
    sentence gives empty lists. Without with_probs the probabilities are left empty (faster)."""
    device = next(model.parameters()).device
    results: list = [([], [])] * len(encoded)
    nonempty = [i for i, (ids, _) in enumerate(encoded) if ids]
    for group in token_budget_groups([len(encoded[i][0]) for i in nonempty], batch_tokens):
        indices = [nonempty[g] for g in group]
        words, chars, lengths = make_batch(encoded, indices)
        paths, probs = model.decode(words.to(device), chars.to(device), lengths, with_probs)
        for row, i in enumerate(indices):
            path = paths[row]
            results[i] = (path, [float(probs[row, t, k]) for t, k in enumerate(path)] if with_probs else [])
    return results
