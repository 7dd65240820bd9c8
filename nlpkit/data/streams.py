"""Token streams for language models: a corpus as one long sequence, cut into columns."""

from __future__ import annotations

import torch


def token_stream(tokenizer, lines) -> torch.Tensor:
    """Every line's tokens followed by the line-end token, as one 1-D LongTensor."""
    ids: list[int] = []
    eos = tokenizer.eos_id
    for line in lines:
        ids.extend(tokenizer.encode(line))
        ids.append(eos)
    return torch.tensor(ids, dtype=torch.long)


def batchify(ids: torch.Tensor, batch_size: int) -> torch.Tensor:
    """[N] -> [batch, N // batch]: each row a contiguous slice, so state carries along a row."""
    columns = ids.numel() // batch_size
    if columns < 2:
        raise ValueError(f"{ids.numel()} tokens are too few for batches of {batch_size} rows")
    return ids[: columns * batch_size].view(batch_size, columns)


def windows(data: torch.Tensor, length: int, offset: int = 0):
    """Consecutive (input, target) windows of `length` steps along the rows of `data`."""
    last = data.size(1) - 1
    for start in range(offset, last, length):
        end = min(start + length, last)
        yield data[:, start:end], data[:, start + 1 : end + 1]


def variable_windows(data: torch.Tensor, length: int, generator: torch.Generator):
    """Variable-length BPTT (AWD-LSTM): (input, target) windows whose lengths are drawn around
    `length` (95%) or `length / 2` (5%) with a spread of 5 steps, at least 5, so the model does
    not always see the same cut points. As many windows as `windows` gives, stretched to cover
    the rows exactly, drawn from `generator` (so a resumed epoch draws the same ones)."""
    last = data.size(1) - 1
    count = window_count(data, length)
    if count < 2:
        yield from windows(data, length)
        return
    half = torch.rand(count, generator=generator) >= 0.95
    drawn = torch.where(half, length / 2, float(length)) + 5.0 * torch.randn(count, generator=generator)
    drawn = drawn.clamp(min=5.0)
    ends = (drawn.cumsum(0) * (last / drawn.sum())).round().long().tolist()
    ends[-1] = last
    start = 0
    for end in ends:
        if end > start:
            yield data[:, start:end], data[:, start + 1 : end + 1]
            start = end


def window_count(data: torch.Tensor, length: int, offset: int = 0) -> int:
    return max(0, -(-(data.size(1) - 1 - offset) // length))
