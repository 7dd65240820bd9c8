"""A seeded random share of the training examples held out for validation (`valid_fraction`)."""

from __future__ import annotations

from nlpkit.errors import NlpkitError, option


def held_out(n: int, fraction: float, seed: int) -> set[int]:
    """The indices of the examples to validate on: at least one, never all."""
    import torch

    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    held = set(order[: max(1, int(n * fraction))])
    if len(held) >= n:
        raise NlpkitError(f"{option('valid_fraction')} leaves no training examples ({n} in all)")
    return held


def split(rows: list[tuple], fraction: float, seed: int, train, valid):
    """Add each row to `train` or, for a seeded random share, to `valid` (containers with add())."""
    held = held_out(len(rows), fraction, seed)
    for i, row in enumerate(rows):
        (valid if i in held else train).add(*row)
    return train, valid
