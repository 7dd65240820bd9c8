"""Padding and length-grouped batches for tasks that read one sequence per example.

torch is imported by the functions that make tensors: the grouping alone also serves the
torch-free runner of exported graphs (nlpkit.export.tagging)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nlpkit.text.tokenizers import PAD_ID

if TYPE_CHECKING:
    import torch


def pad(seqs: list[list[int]], value: int = PAD_ID) -> tuple[torch.Tensor, torch.Tensor]:
    """Sequences of ids -> a [batch, longest] tensor padded with `value`, and their lengths."""
    import torch

    sizes = [len(s) for s in seqs]
    longest = max(1, max(sizes, default=1))
    # one tensor from padded lists: a tensor per row cost more than the model of a bag classifier
    batch = torch.tensor([[*s, *[value] * (longest - len(s))] for s in seqs], dtype=torch.long)
    return batch.view(len(seqs), longest), torch.tensor(sizes, dtype=torch.long)


def pad_arrays(seqs: list[list[int]], value: int = PAD_ID):
    """pad() for the torch-free runners of exported graphs: int64 numpy arrays [batch, longest]
    and [batch], as the graphs were traced."""
    import numpy as np

    lengths = np.fromiter(map(len, seqs), dtype=np.int64, count=len(seqs))
    batch = np.full((len(seqs), max(1, int(lengths.max(initial=1)))), value, dtype=np.int64)
    for row, seq in enumerate(seqs):
        batch[row, : len(seq)] = seq
    return batch, lengths


def length_batches(lengths: list[int], batch_size: int, generator: torch.Generator | None = None) -> list[list[int]]:
    """Indices grouped into batches of similar length (little padding). With a generator the
    order is shuffled: within pools of 50 batches before sorting, and then across batches."""
    import torch

    order = list(range(len(lengths)))
    if generator is None:
        order.sort(key=lambda i: lengths[i])
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    order = [order[i] for i in torch.randperm(len(order), generator=generator).tolist()]
    pool = 50 * batch_size
    batches = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]


def token_budget_groups(lengths: list[int], batch_tokens: int, max_batch: int = 512) -> list[list[int]]:
    """Indices sorted by length and cut into groups whose padded size (members x longest member)
    stays within `batch_tokens`, and at most `max_batch` members (prediction)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    groups: list[list[int]] = []
    group: list[int] = []
    for i in order:
        # sorted ascending, so the newcomer is the longest: it sets the padded width
        if group and ((len(group) + 1) * max(1, lengths[i]) > batch_tokens or len(group) >= max_batch):
            groups.append(group)
            group = []
        group.append(i)
    if group:
        groups.append(group)
    return groups


def shuffled_token_batches(lengths: list[int], batch_tokens: int, generator: torch.Generator) -> list[list[int]]:
    """Training batches of about `batch_tokens` padded tokens: a seeded shuffle, sorted by length
    within pools of 100 batches' worth (little padding), cut by padded size, batch order shuffled."""
    import torch

    order = [int(i) for i in torch.randperm(len(lengths), generator=generator).tolist()]
    pool = max(1, 100 * batch_tokens // max(1, sum(lengths) // max(1, len(lengths))))
    batches: list[list[int]] = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        batches.extend([chunk[i] for i in g] for g in token_budget_groups([lengths[i] for i in chunk], batch_tokens))
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
