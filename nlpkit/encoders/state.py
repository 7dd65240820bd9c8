"""Operations on encoder state, whatever its shape.

Recurrent state is a tensor [layers*directions, batch, hidden] (RNN, GRU) or a pair of them
(LSTM); the Transformer's is a KVCache. Decoding code calls these and never asks which.
"""

from __future__ import annotations

import torch


def detach_state(state):
    """Cut the graph between truncated-BPTT windows while keeping the values."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    if isinstance(state, torch.Tensor):
        return state.detach()
    return state  # a KV cache holds no graph worth cutting (it is built under no_grad)


def select_state(state, index: torch.Tensor):
    """Keep (or repeat) the batch rows `index` of a state: for sampling and beam search."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.index_select(1, index) for s in state)
    if isinstance(state, torch.Tensor):
        return state.index_select(1, index)
    return state.select(index)
