"""A translation model as two ONNX graphs: the encoder (once a batch) and one decoder step (once
a token), with beam search left outside, in nlpkit.decoding, where it already is.

The step graph is the file's main graph; the encoder graph travels in its metadata (base64,
ENCODER_KEY), so one .onnx file holds the model as a .nlpk file does. The decoder's state goes in
and out of the step graph as plain tensors, each with the batch first so that beam search can
pick rows of it (index_select on dimension 0):

- Transformer: past self-attention keys and values [N, layers, heads, T, d] in, the same with
  T + 1 out (the cache grows by concatenation, as ONNX's own decoders do); the cross-attention
  keys and values [N, layers, heads, S, d] come once from the encoder graph.
- recurrent: hidden [N, layers, H] (and the LSTM's cell), and the attentional vector fed back.

Both graphs run the PyTorch model's own code (Seq2Seq.encode and .step) on wrappers that turn
those tensors into its Memory and state objects, so the graphs cannot drift from the model.
"""

from __future__ import annotations

import torch
from torch import nn

from nlpkit.errors import NlpkitError
from nlpkit.tasks.translate.model import Memory

ENCODER_KEY = "nlpkit.encoder_graph"  # the encoder graph's bytes, base64, in the step graph's metadata


class _ConcatCache:
    """The KVCache interface (length, append) over tensors that grow by concatenation: what a
    traced graph can express (KVCache writes into preallocated blocks in place)."""

    def __init__(self, keys: torch.Tensor, values: torch.Tensor):
        self.keys, self.values = list(keys.unbind(1)), list(values.unbind(1))
        self.length = keys.size(3)

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor):
        self.keys[layer] = torch.cat([self.keys[layer], k], 2)
        self.values[layer] = torch.cat([self.values[layer], v], 2)
        return self.keys[layer], self.values[layer]


def _layer_states(state) -> list[torch.Tensor]:
    return [s[0] if isinstance(s, tuple) else s for s in state]


def _feeds_back(config) -> bool:
    """Luong decoders read their previous attentional vector (input feeding); Bahdanau ones do not."""
    return config.recurrent and config.attention != "bahdanau"


def encoder_outputs(config) -> tuple[str, ...]:
    """The encoder graph's outputs for a model of `config`."""
    if config.recurrent:
        return ("mask", "memory", *(("keys",) if config.attention == "bahdanau" else ()), "hidden")
    return ("mask", "cross_keys", "cross_values")


def step_names(config) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The step graph's inputs after `tokens`: what it reads of the encoder's outputs, and its state."""
    if not config.recurrent:
        return encoder_outputs(config), ("past_keys", "past_values")
    cell = ("cell",) if config.encoder.kind == "lstm" else ()
    return encoder_outputs(config)[:-1], ("hidden", *cell, *(("feed",) if _feeds_back(config) else ()))


def first_state(config, hidden: torch.Tensor, rows: int, past: int = 0) -> tuple[torch.Tensor, ...]:
    """The step graph's state before the first token: the encoder graph's `hidden` with a zero
    cell (LSTM) and a zero attentional vector (Luong), or an empty cache (Transformer; `past`
    positions of zeros for checks)."""
    if config.recurrent:
        cell = (torch.zeros_like(hidden),) if config.encoder.kind == "lstm" else ()
        feed = (hidden.new_zeros(rows, config.embed_size),) if _feeds_back(config) else ()
        return hidden, *cell, *feed
    enc = config.encoder
    empty = torch.zeros(rows, config.decoder_layers, enc.heads, past, enc.hidden_size // enc.heads)
    return empty, empty


class EncoderGraph(nn.Module):
    """src, lengths -> what every decoder step reads, and the decoder's first state."""

    inputs = ("src", "lengths")
    padded_outputs = False

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.outputs = encoder_outputs(model.config)
        source_axis = {"mask": 1, "memory": 1, "keys": 1, "cross_keys": 3, "cross_values": 3}
        self.axes = {"src": {0: "batch", 1: "source"}, "lengths": {0: "batch"}}
        for name in self.outputs:
            self.axes[name] = {0: "batch", source_axis[name]: "source"} if name in source_axis else {0: "batch"}

    def forward(self, src, lengths):
        memory = self.model.encode(src, lengths)
        if self.model.config.recurrent:
            layers, _ = self.model.decoder.start(memory.raw, memory.mask)
            keys = (memory.keys,) if memory.keys is not None else ()
            return memory.mask, memory.outputs, *keys, torch.stack(_layer_states(layers), 1)
        return memory.mask, torch.stack([k for k, _ in memory.keys], 1), torch.stack([v for _, v in memory.keys], 1)

    def example(self, batch: int, time: int) -> tuple:
        from nlpkit.export.examples import example_tokens

        return example_tokens(self.model.config.src_vocab, batch, time)


class StepGraph(nn.Module):
    """One decoder step: the previous tokens, the encoder's outputs and the state -> the
    log-probabilities of the next token, the attention over the source, and the new state."""

    padded_outputs = False
    kept = ()  # every weight is in the two graphs

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.encoder = EncoderGraph(model)
        self.memory_names, self.state_names = step_names(model.config)
        past = {0: "batch", 3: "past"}
        state_axes = {name: past if name.startswith("past_") else {0: "batch"} for name in self.state_names}
        self.inputs = ("tokens", *self.memory_names, *self.state_names)
        new_state = tuple("next_" + name.replace("past_", "") for name in self.state_names)
        self.outputs = ("log_probs", "attention", *new_state)
        self.axes = {
            "tokens": {0: "batch"},
            **{name: self.encoder.axes[name] for name in self.memory_names},
            **state_axes,
            "log_probs": {0: "batch"},
            "attention": {0: "batch", 1: "source"},
        }
        for old, new in zip(self.state_names, new_state, strict=True):
            self.axes[new] = {0: "batch", 3: "next"} if old.startswith("past_") else {0: "batch"}

    def forward(self, tokens, *tensors):
        named = dict(zip(self.inputs[1:], tensors, strict=True))
        mask = named["mask"]
        if self.model.config.recurrent:
            memory = Memory(named["memory"], mask, named.get("keys"))
            hidden = named["hidden"].unbind(1)
            layers = list(zip(hidden, named["cell"].unbind(1), strict=True)) if "cell" in named else list(hidden)
            feed = named.get("feed")  # Bahdanau attention reads no attentional vector back
            log_probs, weights, (layers, feed) = self.model.step(tokens, (layers, feed), memory, True)
            cells = [torch.stack([c for _, c in layers], 1)] if "cell" in named else []
            feeds = [feed] if "feed" in named else []
            return log_probs, weights, torch.stack(_layer_states(layers), 1), *cells, *feeds
        keys = list(zip(named["cross_keys"].unbind(1), named["cross_values"].unbind(1), strict=True))
        cache = _ConcatCache(named["past_keys"], named["past_values"])
        log_probs, weights, cache = self.model.step(tokens, cache, Memory(mask, mask, keys), True)
        return log_probs, weights, torch.stack(cache.keys, 1), torch.stack(cache.values, 1)

    def example(self, batch: int, time: int) -> tuple:
        """A step with a random source of length up to `time` and, for the Transformer, a
        random past of time // 3 positions."""
        with torch.no_grad():
            encoded = self.encoder(*self.encoder.example(batch, time))
        memory = encoded[:-1] if self.model.config.recurrent else encoded
        state = first_state(self.model.config, encoded[-1], batch, past=time // 3)
        state = tuple(torch.randn_like(t) * 0.5 for t in state)
        tokens = torch.randint(3, self.model.config.tgt_vocab, (batch,))
        return tokens, *memory, *state


class GraphSeq2Seq:
    """What nlpkit.tasks.translate.search.translate asks of a Seq2Seq model (config, parameters() for
    its device, encode, start, step, reorder), answered by the two graphs in onnxruntime. Beam
    search stays torch's: tensors cross to numpy and back without copies."""

    def __init__(self, encoder_session, step_session, config, where: str = "the graph"):
        self.encoder, self.session, self.config = encoder_session, step_session, config
        self.encoder_outputs = encoder_outputs(config)
        self.memory_names, self.state_names = step_names(config)
        found = ([o.name for o in encoder_session.get_outputs()], [i.name for i in step_session.get_inputs()])
        if found != (list(self.encoder_outputs), ["tokens", *self.memory_names, *self.state_names]):
            raise NlpkitError(f"{where}: the encoder and step graphs do not fit the model's configuration")

    def parameters(self):
        return iter([torch.empty(0)])  # the CPU: where prediction code puts its batches

    def encode(self, src: torch.Tensor, lengths: torch.Tensor) -> Memory:
        feed = {"src": src.cpu().numpy(), "lengths": lengths.cpu().numpy()}
        out = dict(zip(self.encoder_outputs, map(torch.from_numpy, self.encoder.run(None, feed)), strict=True))
        if self.config.recurrent:  # raw: the decoder's first hidden state, expanded and selected with the rows
            return Memory(out["memory"], out["mask"], out.get("keys"), raw=out["hidden"])
        return Memory(None, out["mask"], [(out["cross_keys"], out["cross_values"])])

    def start(self, memory: Memory) -> tuple[torch.Tensor, ...]:
        return first_state(self.config, memory.raw, memory.mask.size(0))

    def step(self, tokens: torch.Tensor, state, memory: Memory, need_weights: bool = False):
        if self.config.recurrent:
            known = {"mask": memory.mask, "memory": memory.outputs, "keys": memory.keys}
        else:
            known = {"mask": memory.mask, "cross_keys": memory.keys[0][0], "cross_values": memory.keys[0][1]}
        feed = {"tokens": tokens.numpy(), **{n: known[n].numpy() for n in self.memory_names}}
        feed.update({n: t.numpy() for n, t in zip(self.state_names, state, strict=True)})
        log_probs, weights, *new_state = map(torch.from_numpy, self.session.run(None, feed))
        return log_probs, weights if need_weights else None, tuple(new_state)

    @staticmethod
    def reorder(state, index: torch.Tensor):
        return tuple(t.index_select(0, index) for t in state)
