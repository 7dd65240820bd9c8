"""Recurrent layers run over a padded batch without packed sequences, for graph export (ONNX).

A packed sequence is a runtime structure whose batch sizes an exporter records as constants, so
a graph traced through one only fits the batch it was traced with. Here each layer and direction
runs as its own one-layer module over the padded batch instead. Left to right, padding on the
right never reaches a real position; right to left, each sequence is reversed within its length
first (its padding stays at the end), run, and put back. Padded positions are zeroed as the
packed run leaves them, so every output equals the packed run's.
"""

from __future__ import annotations

import torch
from torch import nn


def exporting() -> bool:
    """True while the model is traced (torch.onnx's TorchScript exporter traces it) or exported
    by torch.export. Asked on every forward pass: torch.onnx.is_in_onnx_export() would import
    torch.onnx (17 ms) into every command."""
    return torch.jit.is_tracing() or torch.compiler.is_exporting()


def reverse_index(lengths: torch.Tensor, time: int) -> torch.Tensor:
    """[B, T] positions that reverse each row's first `length` entries and leave its padding;
    applying it twice gives back the original order."""
    steps = torch.arange(time, device=lengths.device)[None, :]
    lengths = lengths[:, None]
    return torch.where(steps < lengths, lengths - 1 - steps, steps)


def reverse_within(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """x [B, T, D] with each row's real positions reversed (index from reverse_index)."""
    return x.gather(1, index[..., None].expand_as(x))


def _one_direction(rnn: nn.RNNBase, layer: int, suffix: str) -> nn.RNNBase:
    size = rnn.input_size if layer == 0 else rnn.hidden_size * (2 if rnn.bidirectional else 1)
    kwargs = {"nonlinearity": rnn.nonlinearity} if isinstance(rnn, nn.RNN) else {}
    single = type(rnn)(size, rnn.hidden_size, num_layers=1, batch_first=True, bias=rnn.bias, **kwargs)
    for name, _ in single.named_parameters():  # weight_ih_l0 <- weight_ih_l{layer}{suffix} (shared)
        getattr(single, name).data = getattr(rnn, f"{name[:-1]}{layer}{suffix}").data
    return single.eval()


def split_directions(rnn: nn.RNNBase) -> nn.ModuleList:
    """One one-layer module per layer and direction (forward, then reverse), sharing rnn's weights."""
    suffixes = ["", "_reverse"] if rnn.bidirectional else [""]
    return nn.ModuleList(_one_direction(rnn, layer, s) for layer in range(rnn.num_layers) for s in suffixes)


def prepare(model: nn.Module) -> nn.Module:
    """Attach the split modules to every recurrent layer of `model` before tracing it (a tracer
    must not see modules being made); model is changed in place and returned."""
    for module in list(model.modules()):
        if isinstance(module, nn.RNNBase) and not hasattr(module, "directions"):
            module.directions = split_directions(module)
    return model


def run_unpacked(rnn: nn.RNNBase, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Outputs [B, T, hidden * directions] of a batch_first nn.RNN/LSTM/GRU over x [B, T, D]
    of the given lengths (inference only: no dropout between layers)."""
    directions = rnn.directions if hasattr(rnn, "directions") else split_directions(rnn)
    per_layer = 2 if rnn.bidirectional else 1
    time = x.size(1)
    lengths = lengths.to(x.device)
    index = reverse_index(lengths, time)
    h = x
    for layer in range(rnn.num_layers):
        out = directions[layer * per_layer](h)[0]
        if rnn.bidirectional:
            back = directions[layer * per_layer + 1](reverse_within(h, index))[0]
            out = torch.cat([out, reverse_within(back, index)], dim=-1)
        h = out
    mask = torch.arange(time, device=x.device)[None, :] < lengths[:, None]
    return h * mask[..., None].to(h.dtype)
