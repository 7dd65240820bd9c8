"""The bag encoder: no context at all. Each position's output is its input (the word's embedding,
to which a classifier adds its hashed n-grams'), so a classifier pooling over it is a bag of
words and n-grams, as fastText's and spaCy's bag-of-words text classifiers are. On sentence
sentiment it scores as a BiLSTM does for a fraction of the work (docs/sentiment.md).

N-grams are hashed from token ids, not strings, with integer tensor operations: the same ids on
every machine and process, no Python per token, and a graph ONNX can export.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

_PRIME = 1_000_003  # ids < 2**24 times this stays far inside int64


class BagEncoder(nn.Module):
    """forward(x [B,T,D], lengths=None, state=None) -> (x, None): every position is its own."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.output_size = config.output_size

    def forward(self, x: torch.Tensor, lengths=None, state=None):
        return x, None


def ngram_ids(tokens: torch.Tensor, n: int, buckets: int) -> torch.Tensor:
    """tokens [B,T] -> [B,T,n-1]: at position t, the bucket of the k-gram ending at t for
    k = 2..n (its words and its order hashed), or `buckets` (the zero row) where t < k-1."""
    time = tokens.size(1)
    positions = torch.arange(time, device=tokens.device)
    orders = []
    for k in range(2, n + 1):
        h = torch.full_like(tokens, k)  # the order seeds the hash: (a, b) and (a, b, c) land apart
        for back in range(k - 1, -1, -1):  # the oldest word first
            word = F.pad(tokens, (back, 0))[:, :time] if back else tokens
            h = (h * _PRIME + word) % buckets
        orders.append(torch.where(positions >= k - 1, h, torch.full_like(h, buckets)))
    return torch.stack(orders, dim=-1)
