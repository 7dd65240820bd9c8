"""Elman RNN, LSTM and GRU encoders on torch's fused modules.

Padded batches go through packed sequences, so a sequence's outputs and final state never
depend on how much padding sits beside it, in either direction.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from nlpkit.encoders.config import EncoderConfig
from nlpkit.encoders.regularised import run_layers
from nlpkit.encoders.unpacked import exporting, run_unpacked

_MODULES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class RecurrentEncoder(nn.Module):
    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.config = config
        kwargs = dict(
            input_size=config.input_size,
            hidden_size=config.hidden_size,
            num_layers=config.layers,
            batch_first=True,
            bidirectional=config.bidirectional,
            dropout=config.dropout if config.layers > 1 else 0.0,
        )
        if config.kind == "rnn":
            kwargs["nonlinearity"] = "tanh"
        self.rnn = _MODULES[config.kind](**kwargs)
        self.reset_parameters()

    @property
    def output_size(self) -> int:
        return self.config.output_size

    def reset_parameters(self) -> None:
        # Orthogonal recurrent weights keep the singular values of the step Jacobian near 1 at
        # the start (neither vanishing nor exploding); a forget-gate bias of 1 lets an LSTM
        # remember by default.
        hidden = self.config.hidden_size
        for name, param in self.rnn.named_parameters():
            if name.startswith("weight_hh"):
                for gate in param.data.split(hidden, dim=0):
                    nn.init.orthogonal_(gate)
            elif name.startswith("weight_ih"):
                nn.init.xavier_uniform_(param.data)
            elif name.startswith("bias"):
                param.data.zero_()
                if self.config.kind == "lstm":
                    param.data[hidden : 2 * hidden] = 0.5  # two biases add up to 1
        self.rnn.flatten_parameters()

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None, state=None):
        """x: [batch, time, input]; lengths: [batch] real lengths or None for no padding.

        Returns outputs [batch, time, output_size] (zero at padded steps) and the final state,
        which can be passed back in to continue the sequences.
        """
        config = self.config
        if self.training and (config.weight_drop or config.layer_dropout):
            if lengths is not None:
                raise ValueError("weight drop and locked dropout between layers train on unpadded streams only")
            dropout = config.dropout if config.layers > 1 else 0.0
            return run_layers(self.rnn, x, state, config.weight_drop, config.layer_dropout, dropout)
        if lengths is None:
            if x.size(0) == 1 and x.size(1) <= 16 and not torch.is_grad_enabled():
                return _without_onednn(self.rnn, x, state)
            return self.rnn(x, state)
        if exporting():  # a graph cannot hold a packed sequence (see nlpkit.encoders.unpacked)
            return run_unpacked(self.rnn, x, lengths), None
        total = x.size(1)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, state = self.rnn(packed, state)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=total)
        return out, state


def _without_onednn(rnn, x, state):
    """oneDNN's RNN kernels re-pack the weights on every call: the best choice for training,
    batches and long sequences, about 4x slower than torch's own kernel for a few steps of one
    sequence (generation at batch 1: 2x512 LSTM, 8 ms vs 2 ms a step, measured on 2 cores).
    Past about 16 steps the re-packing pays for itself again (bench/results/generation.md)."""
    previous = torch._C._get_mkldnn_enabled()
    torch._C._set_mkldnn_enabled(False)
    try:
        return rnn(x, state)
    finally:
        torch._C._set_mkldnn_enabled(previous)
