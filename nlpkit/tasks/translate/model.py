"""Sequence-to-sequence models (translation): a shared encoder and an attentive decoder.

Two families behind one interface:
- recurrent: a (bidirectional) GRU/LSTM encoder from the shared set and a GRU/LSTM decoder with
  Bahdanau (additive) or Luong (dot / general) attention. Luong decoders feed the previous
  attentional vector back in (input feeding); Bahdanau decoders attend with the previous state
  before stepping, as in the original paper.
- transformer: the shared Transformer encoder and a Transformer decoder with cross-attention.

Decoding goes one step at a time through `encode` -> `start` -> `step`, which the search in
nlpkit.decoding drives; training runs the whole target at once through `forward`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from nlpkit.encoders import EncoderConfig, build_encoder
from nlpkit.errors import option
from nlpkit.text.tokenizers import BOS_ID, PAD_ID

TASK = "translation"
ATTENTIONS = ("bahdanau", "luong-dot", "luong-general")


@dataclass
class Seq2SeqConfig:
    src_vocab: int
    tgt_vocab: int
    shared_vocab: bool = True  # one tokenizer for both sides: one embedding table for all three uses
    embed_size: int = 256
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    decoder_layers: int = 1
    decoder_hidden: int = 512  # recurrent decoders; a Transformer decoder has the encoder's width
    attention: str = "bahdanau"  # recurrent decoders only
    dropout: float = 0.3
    scale_embeddings: bool = False  # Transformer: embeddings x sqrt(width), started at 1/sqrt(width)

    def __post_init__(self) -> None:
        if self.scale_embeddings and self.recurrent:
            raise ValueError(f"{option('scale_embeddings')} is for Transformer models")
        if self.attention not in ATTENTIONS:
            raise ValueError(f"unknown {option('attention')} {self.attention!r}; use {', '.join(ATTENTIONS)}")
        if self.encoder.kind == "rnn":
            raise ValueError("translation encoders are gru, lstm or transformer")
        if self.shared_vocab and self.src_vocab != self.tgt_vocab:
            raise ValueError("a shared vocabulary has one size")

    @property
    def recurrent(self) -> bool:
        return self.encoder.is_recurrent

    def to_dict(self) -> dict:
        return {**asdict(self), "encoder": self.encoder.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> Seq2SeqConfig:
        return cls(**{**data, "encoder": EncoderConfig.from_dict(data["encoder"])})


@dataclass
class Memory:
    """What the decoder reads from the encoder, expanded to the rows being decoded."""

    outputs: torch.Tensor  # [N, S, H] (recurrent: projected to the decoder size)
    mask: torch.Tensor  # [N, S] True at real source positions
    keys: object = None  # precomputed attention keys (recurrent) or per-layer K/V (Transformer)
    raw: torch.Tensor | None = None  # the encoder outputs themselves (recurrent: the first state)

    def expand(self, times: int) -> Memory:
        """Each row repeated `times` times in place (a beam per sentence)."""
        return self._map(lambda t: t.repeat_interleave(times, dim=0))

    def select(self, index: torch.Tensor) -> Memory:
        """The rows `index` (beam search drops the rows of finished sentences)."""
        return self._map(lambda t: t.index_select(0, index))

    def _map(self, fn) -> Memory:
        def apply(t):
            if isinstance(t, torch.Tensor):
                return fn(t)
            if isinstance(t, list):  # a Transformer's per-layer (keys, values)
                return [(fn(k), fn(v)) for k, v in t]
            return t

        return Memory(apply(self.outputs), apply(self.mask), apply(self.keys), apply(self.raw))


class Attention(nn.Module):
    """Scores a decoder state against the source positions and returns the context vector."""

    def __init__(self, kind: str, size: int):
        super().__init__()
        self.kind = kind
        if kind == "bahdanau":
            self.key = nn.Linear(size, size, bias=False)
            self.query = nn.Linear(size, size)
            self.v = nn.Linear(size, 1, bias=False)
        elif kind == "luong-general":
            self.w = nn.Linear(size, size, bias=False)

    def keys(self, memory: torch.Tensor):
        return self.key(memory) if self.kind == "bahdanau" else None

    def forward(self, query: torch.Tensor, memory: Memory) -> tuple[torch.Tensor, torch.Tensor]:
        """query [N, H] -> (context [N, H], weights [N, S])."""
        if self.kind == "bahdanau":
            scores = self.v(torch.tanh(memory.keys + self.query(query)[:, None, :])).squeeze(-1)
        else:
            q = self.w(query) if self.kind == "luong-general" else query
            scores = torch.bmm(memory.outputs, q[:, :, None]).squeeze(-1)
        weights = scores.masked_fill(~memory.mask, float("-inf")).softmax(-1)
        return torch.bmm(weights[:, None, :], memory.outputs).squeeze(1), weights


class RecurrentDecoder(nn.Module):
    def __init__(self, config: Seq2SeqConfig):
        super().__init__()
        h, e = config.decoder_hidden, config.embed_size
        self.kind = config.encoder.kind
        self.attention_kind = config.attention
        self.layers = config.decoder_layers
        cell = nn.LSTMCell if self.kind == "lstm" else nn.GRUCell
        # Luong: [embedding; previous attentional vector]; Bahdanau: [embedding; context]
        first_input = e + (e if config.attention != "bahdanau" else h)
        self.cells = nn.ModuleList(cell(first_input if i == 0 else h, h) for i in range(self.layers))
        self.memory_proj = nn.Linear(config.encoder.output_size, h)
        self.bridge = nn.Linear(config.encoder.output_size, h * self.layers)
        self.attention = Attention(config.attention, h)
        self.combine = nn.Linear(2 * h, e)  # [state; context] -> the attentional vector (embedding size)
        self.drop = nn.Dropout(config.dropout)
        self.hidden = h
        self.embed_size = e

    def memory(self, enc: torch.Tensor, mask: torch.Tensor) -> Memory:
        outputs = self.memory_proj(enc)
        return Memory(outputs, mask, self.attention.keys(outputs), raw=enc)

    def start(self, enc: torch.Tensor, mask: torch.Tensor):
        """The first decoder state from the mean of the encoder outputs."""
        mean = (enc * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
        h0 = torch.tanh(self.bridge(mean)).view(-1, self.layers, self.hidden).unbind(1)
        zeros = enc.new_zeros(enc.size(0), self.embed_size)
        if self.kind == "lstm":
            return [(h, torch.zeros_like(h)) for h in h0], zeros
        return list(h0), zeros

    def step(self, emb: torch.Tensor, state, memory: Memory):
        """emb [N, E] -> (attentional vector [N, E], attention [N, S], state)."""
        layers, feed = state
        top = lambda s: s[0] if isinstance(s, tuple) else s  # noqa: E731
        if self.attention_kind == "bahdanau":
            context, weights = self.attention(top(layers[-1]), memory)
            x = torch.cat([emb, context], -1)
        else:
            x = torch.cat([emb, feed], -1)
        new_layers = []
        for i, cell in enumerate(self.cells):
            s = cell(x, layers[i])
            new_layers.append(s)
            x = self.drop(top(s)) if i < self.layers - 1 else top(s)
        if self.attention_kind != "bahdanau":
            context, weights = self.attention(x, memory)
        vector = torch.tanh(self.combine(torch.cat([x, context], -1)))
        return vector, weights, (new_layers, vector)

    @staticmethod
    def reorder(state, index: torch.Tensor):
        layers, feed = state
        pick = lambda t: t.index_select(0, index)  # noqa: E731
        layers = [tuple(pick(t) for t in s) if isinstance(s, tuple) else pick(s) for s in layers]
        return layers, pick(feed)


class Seq2Seq(nn.Module):
    def __init__(self, config: Seq2SeqConfig):
        super().__init__()
        self.config = config
        e = config.embed_size
        self.tgt_embedding = nn.Embedding(config.tgt_vocab, e, padding_idx=PAD_ID)
        self.src_embedding = (
            self.tgt_embedding if config.shared_vocab else nn.Embedding(config.src_vocab, e, padding_idx=PAD_ID)
        )
        # Recurrent models see unit-sized embeddings; Transformers start small, as learned
        # positions do (see nlpkit.encoders.transformer), unless scaled by sqrt(width) (Vaswani et
        # al. 2017), which makes words as loud as the sinusoidal positions added to them.
        std = e**-0.5 if config.recurrent or config.scale_embeddings else 0.02
        self.embed_scale = math.sqrt(e) if config.scale_embeddings else 1.0
        for table in {id(self.src_embedding): self.src_embedding, id(self.tgt_embedding): self.tgt_embedding}.values():
            nn.init.normal_(table.weight, std=std)
            table.weight.data[PAD_ID].zero_()
        self.encoder = build_encoder(config.encoder)
        self.drop = nn.Dropout(config.dropout)
        if config.recurrent:
            self.decoder = RecurrentDecoder(config)
        else:
            from nlpkit.encoders.transformer_decoder import TransformerDecoder

            enc = config.encoder
            self.decoder = TransformerDecoder(
                enc.hidden_size, config.decoder_layers, enc.heads, enc.ff_size, enc.dropout
            )
            self.final_proj = nn.Identity() if enc.hidden_size == e else nn.Linear(enc.hidden_size, e)
            self.tgt_in = nn.Identity() if enc.hidden_size == e else nn.Linear(e, enc.hidden_size)
        # The output layer shares the target embedding (Press & Wolf 2017): fewer parameters, and
        # better on small corpora such as Multi30k.
        self.out_bias = nn.Parameter(torch.zeros(config.tgt_vocab))
        self.output: nn.Module | None = None  # an untied copy of the output layer (int8 inference)

    def untie_for_inference(self) -> None:
        """Give the output layer its own copy of the weights, so int8 quantization can take it."""
        self.output = nn.Linear(self.tgt_embedding.embedding_dim, self.config.tgt_vocab)
        self.output.weight = nn.Parameter(self.tgt_embedding.weight.detach().clone())
        self.output.bias = nn.Parameter(self.out_bias.detach().clone())

    # ----- encoder -------------------------------------------------------------------------------
    def encode(self, src: torch.Tensor, lengths: torch.Tensor) -> Memory:
        mask = torch.arange(src.size(1), device=src.device)[None, :] < lengths.to(src.device)[:, None]
        x = self.drop(self.src_embedding(src) * self.embed_scale)
        enc, _ = self.encoder(x, lengths.clamp(min=1))
        if self.config.recurrent:
            return self.decoder.memory(enc, mask)
        return Memory(enc, mask, self.decoder.memory(enc))

    def logits(self, vector: torch.Tensor) -> torch.Tensor:
        if self.output is not None:
            return self.output(self.drop(vector))
        return F.linear(self.drop(vector), self.tgt_embedding.weight, self.out_bias)

    # ----- training: the whole target at once ----------------------------------------------------
    def vectors(self, src, src_lengths, tgt_in) -> torch.Tensor:
        """The decoder's output vectors [B, T, E] for every target position (teacher forcing)."""
        memory = self.encode(src, src_lengths)
        if self.config.recurrent:
            state = self.decoder.start(memory.raw, memory.mask)
            emb = self.drop(self.tgt_embedding(tgt_in))
            vectors = []
            for t in range(tgt_in.size(1)):
                vector, _, state = self.decoder.step(emb[:, t], state, memory)
                vectors.append(vector)
            return torch.stack(vectors, 1)
        x = self.tgt_in(self.tgt_embedding(tgt_in) * self.embed_scale)
        h, _ = self.decoder(x, memory.keys, memory.mask[:, None, None, :])
        return self.final_proj(h)

    def forward(self, src, src_lengths, tgt_in) -> torch.Tensor:
        """Logits [B, T, V] for every target position (teacher forcing)."""
        return self.logits(self.vectors(src, src_lengths, tgt_in))

    def loss(self, src, src_lengths, tgt_in, tgt_out, label_smoothing: float = 0.0) -> tuple[torch.Tensor, int]:
        """Mean cross-entropy over the real target tokens, and their count. The output layer
        runs on those tokens only: padding would cost a vocabulary-sized row each."""
        real = tgt_out != PAD_ID
        logits = self.logits(self.vectors(src, src_lengths, tgt_in)[real])
        loss = F.cross_entropy(logits.float(), tgt_out[real], label_smoothing=label_smoothing)
        return loss, int(real.sum())

    # ----- decoding: one step at a time ----------------------------------------------------------
    def start(self, memory: Memory):
        """The decoder state before the first target token, for `memory`'s rows."""
        if self.config.recurrent:
            return self.decoder.start(memory.raw, memory.mask)
        from nlpkit.encoders.transformer import KVCache

        return KVCache(len(self.decoder.blocks))

    def step(self, tokens: torch.Tensor, state, memory: Memory, need_weights: bool = False):
        """tokens [N] (the previous target tokens) -> (log-probabilities [N, V], attention
        [N, S] or None, new state)."""
        if self.config.recurrent:
            vector, weights, state = self.decoder.step(self.tgt_embedding(tokens), state, memory)
        else:
            x = self.tgt_in(self.tgt_embedding(tokens[:, None]) * self.embed_scale)
            h, weights = self.decoder(x, memory.keys, memory.mask[:, None, None, :], state, need_weights)
            vector = self.final_proj(h[:, 0])
            weights = weights[:, 0] if weights is not None else None
        return torch.log_softmax(self.logits(vector).float(), -1), weights, state

    def reorder(self, state, index: torch.Tensor):
        if self.config.recurrent:
            return RecurrentDecoder.reorder(state, index)
        return state.select(index)


def build_model(config: Seq2SeqConfig) -> Seq2Seq:
    config.encoder.input_size = config.embed_size
    return Seq2Seq(config)


def bos_tokens(n: int, device) -> torch.Tensor:
    return torch.full((n,), BOS_ID, dtype=torch.long, device=device)
