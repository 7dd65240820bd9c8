"""Example inputs the exporters trace their graphs with and check them on."""

from __future__ import annotations

import torch


def example_tokens(vocab: int, batch: int, time: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A padded batch of random ids whose lengths run from `time` down to 1."""
    lengths = torch.linspace(time, 1, batch).round().long()
    tokens = torch.randint(3, vocab, (batch, time))
    tokens[torch.arange(time)[None, :] >= lengths[:, None]] = 0
    return tokens, lengths
