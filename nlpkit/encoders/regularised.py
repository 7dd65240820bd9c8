"""Training-time regularisation of a stacked recurrent module, on torch's fused kernels.

Two things a stacked nn.LSTM/GRU/RNN call cannot do: DropConnect on the hidden-to-hidden
weights (Wan et al. 2013; AWD-LSTM's "weight drop") and one dropout mask per sequence between
layers, the same at every time step ("locked" or variational dropout, Gal & Ghahramani 2016).
So the layers run one at a time, each through the same fused kernel nn.LSTM calls (torch._VF),
given the module's own weights with its recurrent matrix dropped. The parameters stay the
module's: evaluation, export and quantization see a plain nn.LSTM, and the dropped weights are
scaled by 1/(1-p), so the raw weights are the right ones at inference.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

_KERNELS = {
    "LSTM": torch._VF.lstm,
    "GRU": torch._VF.gru,
    "RNN_TANH": torch._VF.rnn_tanh,
    "RNN_RELU": torch._VF.rnn_relu,
}


def locked_mask(x: torch.Tensor, p: float) -> torch.Tensor:
    """A dropout mask for x [batch, time, dim] that is the same at every time step."""
    keep = 1.0 - p
    return x.new_empty(x.size(0), 1, x.size(2)).bernoulli_(keep).div_(keep)


def locked_dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    if not training or p == 0.0:
        return x
    return x * locked_mask(x, p)


def run_layers(rnn: nn.RNNBase, x: torch.Tensor, state, weight_drop: float, layer_dropout: float, dropout: float):
    """rnn(x, state) for a unidirectional, batch-first module in training, layer by layer:
    DropConnect `weight_drop` on each weight_hh, locked `layer_dropout` and plain `dropout`
    between layers. Returns (outputs, state) shaped as the module's own."""
    kernel = _KERNELS[rnn.mode]
    is_lstm = rnn.mode == "LSTM"
    if state is None:
        zeros = x.new_zeros(rnn.num_layers, x.size(0), rnn.hidden_size)
        state = (zeros, zeros) if is_lstm else zeros
    finals_h, finals_c = [], []
    for layer in range(rnn.num_layers):
        w_hh = F.dropout(getattr(rnn, f"weight_hh_l{layer}"), weight_drop, True)
        weights = [getattr(rnn, f"weight_ih_l{layer}"), w_hh]
        if rnn.bias:
            weights += [getattr(rnn, f"bias_ih_l{layer}"), getattr(rnn, f"bias_hh_l{layer}")]
        if layer > 0:
            x = locked_dropout(F.dropout(x, dropout, True) if dropout else x, layer_dropout, True)
        if is_lstm:
            hx = (state[0][layer : layer + 1], state[1][layer : layer + 1])
            x, h, c = kernel(x, hx, weights, rnn.bias, 1, 0.0, True, False, True)
            finals_h.append(h)
            finals_c.append(c)
        else:
            x, h = kernel(x, state[layer : layer + 1], weights, rnn.bias, 1, 0.0, True, False, True)
            finals_h.append(h)
    h = torch.cat(finals_h)
    return x, ((h, torch.cat(finals_c)) if is_lstm else h)
