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


def window_count(data: torch.Tensor, length: int, offset: int = 0) -> int:
    return max(0, -(-(data.size(1) - 1 - offset) // length))
