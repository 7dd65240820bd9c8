"""Language modeling: an embedding, a causal shared encoder and a softmax over the vocabulary.

Recurrent models train with truncated back-propagation through time, carrying the hidden state
from one window to the next; the Transformer trains on context windows. Scoring and generation
both go through `LanguageModel.forward(tokens, state)`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from nlpkit.encoders import EncoderConfig, build_encoder
from nlpkit.encoders.regularised import locked_dropout
from nlpkit.errors import option
from nlpkit.losses import linear_cross_entropy

TASK = "lm"


@dataclass
class LMConfig:
    vocab_size: int
    embed_size: int = 256
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    dropout: float = 0.1  # on embeddings and encoder outputs
    tie_weights: bool = False
    context: int = 128  # BPTT length (recurrent) or context window (Transformer)
    adaptive_cutoffs: list[int] = field(default_factory=list)  # empty: a full softmax
    # Training-time regularisers (AWD-LSTM, Merity et al. 2018); all off by default. Locked
    # dropout keeps one mask per sequence across time steps; embedding dropout drops whole words.
    input_dropout: float = 0.0  # locked, on the embedded input
    output_dropout: float = 0.0  # locked, on the encoder's output
    embedding_dropout: float = 0.0  # rows of the embedding matrix (words), on the input side

    def __post_init__(self) -> None:
        for name in ("input_dropout", "output_dropout", "embedding_dropout"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 <= value < 1.0:
                raise ValueError(f"{option(name)} must lie in [0, 1), got {value!r}")

    def to_dict(self) -> dict:
        return {**asdict(self), "encoder": self.encoder.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> LMConfig:
        return cls(**{**data, "encoder": EncoderConfig.from_dict(data["encoder"])})


class LanguageModel(nn.Module):
    def __init__(self, config: LMConfig):
        super().__init__()
        if config.encoder.bidirectional:
            raise ValueError(f"a language model reads left to right: {option('bidirectional')} does not apply")
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embed_size)
        self.encoder = build_encoder(config.encoder)
        self.drop = nn.Dropout(config.dropout)
        hidden = self.encoder.output_size
        # Tying needs the decoder's input to be embedding-sized; project if the encoder is not.
        self.project = (
            nn.Linear(hidden, config.embed_size) if config.tie_weights and hidden != config.embed_size else None
        )
        out_dim = config.embed_size if self.project is not None else hidden
        nn.init.normal_(self.embedding.weight, std=0.02 if not config.encoder.is_recurrent else 0.1)
        self.decoder, self.adaptive = None, None
        if config.adaptive_cutoffs:
            # Grave et al. 2017: frequent words in a full-width head, rare ones in narrower
            # clusters; most tokens never touch the tail, so the output layer costs far less.
            self.adaptive = nn.AdaptiveLogSoftmaxWithLoss(
                out_dim, config.vocab_size, config.adaptive_cutoffs, div_value=4.0
            )
            return
        self.decoder = nn.Linear(out_dim, config.vocab_size)
        if config.tie_weights:
            self.decoder.weight = self.embedding.weight
        nn.init.zeros_(self.decoder.bias)

    @property
    def is_recurrent(self) -> bool:
        return self.config.encoder.is_recurrent

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """The input embedding; in training, embedding dropout removes whole words (every
        occurrence of a dropped word in the batch reads zeros), scaling the rest up."""
        p = self.config.embedding_dropout
        if not self.training or p == 0.0:
            return self.embedding(tokens)
        weight = self.embedding.weight
        keep = weight.new_empty(weight.size(0), 1).bernoulli_(1.0 - p).div_(1.0 - p)
        return F.embedding(tokens, weight * keep, padding_idx=self.embedding.padding_idx)

    def features(self, tokens: torch.Tensor, state=None, lengths: torch.Tensor | None = None, activations=None):
        """tokens [batch, time] -> the decoder's input [batch, time, dim], new state. A dict
        given as `activations` receives the encoder's last-layer output before ("raw") and after
        ("dropped") the output dropout, for activation regularisation."""
        cfg, training = self.config, self.training
        x = locked_dropout(self.drop(self.embed(tokens)), cfg.input_dropout, training)
        h, state = self.encoder(x, lengths, state)
        if activations is not None:
            activations["raw"] = h
        h = locked_dropout(self.drop(h), cfg.output_dropout, training)
        if activations is not None:
            activations["dropped"] = h
        if self.project is not None:
            h = self.project(h)
        return h, state

    def forward(self, tokens: torch.Tensor, state=None, lengths: torch.Tensor | None = None):
        """tokens [batch, time] -> logits [batch, time, vocab], new state. (With an adaptive
        softmax the "logits" are normalised log-probabilities, which every caller can treat
        as logits: softmax and cross-entropy give the same results.)"""
        h, state = self.features(tokens, state, lengths)
        if self.adaptive is not None:
            batch, time, dim = h.shape
            return self.adaptive.log_prob(h.reshape(-1, dim)).view(batch, time, -1), state
        return self.decoder(h), state

    def untie_for_inference(self) -> None:
        """Give a tied output layer its own copy of the weights, so int8 quantization can take it."""
        if self.config.tie_weights:
            self.decoder.weight = nn.Parameter(self.decoder.weight.detach().clone())

    def loss(self, h: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy of features h [N, dim] against targets [N], by the fastest route."""
        if self.adaptive is not None:
            return self.adaptive(h, targets).loss
        if not isinstance(self.decoder, nn.Linear):  # quantized for inference (nlpkit.quantize)
            return F.cross_entropy(self.decoder(h).float(), targets)
        return linear_cross_entropy(h, self.decoder.weight, self.decoder.bias, targets)


def build_model(config: LMConfig) -> LanguageModel:
    cutoffs = config.adaptive_cutoffs
    if cutoffs:
        if config.tie_weights:
            raise ValueError(f"{option('tie_weights')} does not combine with {option('adaptive_softmax')}")
        if cutoffs != sorted(set(cutoffs)) or cutoffs[0] < 1 or cutoffs[-1] >= config.vocab_size - 1:
            raise ValueError(
                f"adaptive softmax cutoffs must increase and stay below the vocabulary size "
                f"({config.vocab_size}); got {','.join(map(str, cutoffs))}"
            )
    config.encoder.causal = True
    config.encoder.input_size = config.embed_size
    if not config.encoder.is_recurrent:
        config.encoder.max_len = max(config.encoder.max_len, config.context)
    return LanguageModel(config)


# ----- scoring ------------------------------------------------------------------------------


# ----- training -----------------------------------------------------------------------------


# ----- generation ---------------------------------------------------------------------------


# ----- model files --------------------------------------------------------------------------
