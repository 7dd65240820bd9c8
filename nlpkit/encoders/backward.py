"""The right-to-left half of an ELMo-style pair: an embedding and a left-to-right encoder (taken
from a backward language model, `lm train --direction backward`) run over every sequence
reversed within its length, its outputs put back in reading order. Beside the forward language
model's encoder it gives each position context from both sides, which a unidirectional
language model alone cannot (Peters et al., 2018)."""

from __future__ import annotations

import copy

import torch
from torch import nn

from nlpkit.encoders import EncoderConfig, build_encoder
from nlpkit.encoders.groups import layer_groups
from nlpkit.encoders.unpacked import reverse_index, reverse_within
from nlpkit.text.tokenizers import PAD_ID


class BackwardReader(nn.Module):
    def __init__(self, vocab_size: int, embed_size: int, encoder: EncoderConfig):
        super().__init__()
        config = copy.deepcopy(encoder)
        config.input_size = embed_size
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=PAD_ID)
        self.encoder = build_encoder(config)

    @property
    def output_size(self) -> int:
        return self.encoder.output_size

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor, drop: nn.Module) -> torch.Tensor:
        """tokens [B, T] -> outputs [B, T, H]; position t has read the tokens from t to the end."""
        index = reverse_index(lengths.to(tokens.device), tokens.size(1))
        h, _ = self.encoder(drop(self.embedding(tokens.gather(1, index))), lengths)
        return reverse_within(h, index)

    def depth_groups(self) -> list[list]:
        groups = layer_groups(self.encoder)
        groups[0] = [self.embedding.weight, *groups[0]]
        return groups

    def load_language_model(self, lm_model) -> None:
        self.embedding.weight.data.copy_(lm_model.embedding.weight.data)
        self.encoder.load_state_dict(lm_model.encoder.state_dict())
