"""Text classification: an embedding, a shared encoder, pooling over time and a linear layer.

Every text is read as it would follow a line end (the tokenizer's end-of-line token comes
first), so an empty text is still one token long and a language model's encoder (which saw
text that way while pretraining) starts the classifier in familiar territory.
"""

from __future__ import annotations

import torch
from torch import nn

from nlpkit.encoders import build_encoder
from nlpkit.encoders.bag import ngram_ids
from nlpkit.encoders.groups import layer_groups
from nlpkit.tasks.sentiment.config import ClassifierConfig
from nlpkit.text.tokenizers import PAD_ID, UNK_ID


class AttentionPool(nn.Module):
    """A learned query scores every position; the output is the score-weighted average."""

    def __init__(self, dim: int):
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        self.query = nn.Linear(dim, 1, bias=False)

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scores = self.query(torch.tanh(self.proj(h))).squeeze(-1).masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores.float(), dim=1).to(h.dtype)
        return torch.bmm(weights.unsqueeze(1), h).squeeze(1), weights


class Classifier(nn.Module):
    def __init__(self, config: ClassifierConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embed_size, padding_idx=PAD_ID)
        self.ngrams = None
        if config.ngrams > 1:  # the last row (index ngram_buckets) stands for "no n-gram here"
            buckets = config.ngram_buckets
            self.ngrams = nn.Embedding(buckets + 1, config.embed_size, padding_idx=buckets)
        self.encoder = build_encoder(config.encoder)
        self.drop = nn.Dropout(config.dropout)
        self.backward = None
        if config.backward:
            from nlpkit.encoders.backward import BackwardReader

            self.backward = BackwardReader(config.vocab_size, config.embed_size, config.encoder)
        dim = self.encoder.output_size * (2 if config.backward else 1)
        self.attention = AttentionPool(dim) if "attention" in config.pooling else None
        self.head = nn.Linear(dim * len(config.pooling), len(config.labels))
        nn.init.normal_(self.embedding.weight, std=0.1 if config.encoder.is_recurrent else 0.02)
        with torch.no_grad():
            self.embedding.weight[PAD_ID].zero_()
        if self.ngrams is not None:
            nn.init.normal_(self.ngrams.weight, std=0.02)
            with torch.no_grad():
                self.ngrams.weight[-1].zero_()

    def pool(self, h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Outputs h [batch, time, dim] of sequences of the given lengths -> [batch, pooled]."""
        time = h.size(1)
        mask = torch.arange(time, device=h.device)[None, :] < lengths[:, None]
        parts = []
        for kind in self.config.pooling:
            if kind == "mean":
                parts.append((h * mask[..., None]).sum(1) / lengths[:, None].clamp(min=1).to(h.dtype))
            elif kind == "max":
                parts.append(h.masked_fill(~mask[..., None], float("-inf")).amax(1))
            elif kind == "attention":
                parts.append(self.attention(h, mask)[0])
            else:
                parts.append(self._last(h, lengths))
        return torch.cat(parts, dim=-1)

    def _last(self, h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        # A left-to-right reader has seen everything at its last real position; a
        # bidirectional recurrent encoder's backward half has at the first.
        rows = torch.arange(h.size(0), device=h.device)
        last = h[rows, (lengths - 1).clamp(min=0)]
        if self.config.encoder.bidirectional or self.config.backward:
            half = self.encoder.output_size // (1 if self.config.backward else 2)
            return torch.cat([last[:, :half], h[:, 0, half:]], dim=-1)
        return last

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """tokens [batch, time] (padded with <pad>), lengths [batch] -> logits [batch, labels]."""
        if self.training and self.config.word_dropout:
            drop = torch.rand(tokens.shape, device=tokens.device) < self.config.word_dropout
            tokens = tokens.masked_fill(drop & (tokens != PAD_ID), UNK_ID)
        lengths = lengths.to(tokens.device)
        x = self.embedding(tokens)
        if self.ngrams is not None:  # each position also holds the n-grams that end there
            x = x + self.ngrams(ngram_ids(tokens, self.config.ngrams, self.config.ngram_buckets)).sum(2)
        h, _ = self.encoder(self.drop(x), lengths)
        if self.backward is not None:
            h = torch.cat([h, self.backward(tokens, lengths, self.drop)], dim=-1)
        return self.head(self.drop(self.pool(h, lengths)))

    def depth_groups(self) -> list[list]:
        """Parameters bottom to top: embedding (with the encoder's input side), each encoder
        layer, then pooling and output layer."""
        groups = layer_groups(self.encoder)
        groups[0] = [self.embedding.weight, *([self.ngrams.weight] if self.ngrams is not None else []), *groups[0]]
        if self.backward is not None:  # each backward layer learns at the rate of its forward twin
            groups = [a + b for a, b in zip(groups, self.backward.depth_groups(), strict=True)]
        top = list(self.head.parameters()) + (list(self.attention.parameters()) if self.attention else [])
        return [*groups, top]


def build_model(config: ClassifierConfig) -> Classifier:
    config.encoder.input_size = config.embed_size
    if not config.encoder.is_recurrent:
        config.encoder.max_len = max(config.encoder.max_len, config.max_len + 1)
    return Classifier(config)


def init_from_lm(model: Classifier, lm_model, backward_lm=None) -> None:
    """Copy a language model's embedding and encoder into the classifier (and a backward one's
    into its right-to-left reader)."""
    model.embedding.weight.data.copy_(lm_model.embedding.weight.data)
    missing = model.encoder.load_state_dict(lm_model.encoder.state_dict(), strict=False)
    if missing.missing_keys or missing.unexpected_keys:  # same config by construction
        raise ValueError(f"language model encoder does not fit: {missing}")
    if backward_lm is not None:
        model.backward.load_language_model(backward_lm)


# ----- batching -------------------------------------------------------------------------------


# ----- training ---------------------------------------------------------------------------------


# ----- scores ------------------------------------------------------------------------------------
