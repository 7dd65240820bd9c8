"""Sequence tagging (named entities): word embeddings plus character features, a shared
encoder, and per-token scores decoded by a linear-chain CRF or by constrained Viterbi over
softmax outputs. Tags are BIOES inside the model; files in IOB1/IOB2 are converted on the way
in and written back in their own scheme on the way out.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nlpkit.crf import CRF, constraint_scores, viterbi
from nlpkit.data.batching import pad
from nlpkit.encoders import build_encoder
from nlpkit.encoders.unpacked import exporting, run_unpacked
from nlpkit.tasks.ner.config import TaggerConfig
from nlpkit.text.schemes import allowed_transitions
from nlpkit.text.tokenizers import PAD_ID, UNK_ID


class CharFeatures(nn.Module):
    """One vector per word from its characters: a CNN with max-pooling, or a BiLSTM's final states."""

    def __init__(self, config: TaggerConfig):
        super().__init__()
        self.kind = config.char_features
        self.embedding = nn.Embedding(len(config.chars) + 2, config.char_embed, padding_idx=0)
        if self.kind == "cnn":
            self.conv = nn.Conv1d(config.char_embed, config.char_size, kernel_size=3, padding=1)
        else:
            self.lstm = nn.LSTM(config.char_embed, config.char_size, batch_first=True, bidirectional=True)

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        """chars [B, T, L] -> [B, T, char_output]."""
        b, t, length = chars.shape
        flat = chars.view(b * t, length)
        x = self.embedding(flat)
        if self.kind == "cnn":
            h = self.conv(x.transpose(1, 2))  # [N, size, L]
            h = h.masked_fill((flat == 0)[:, None, :], float("-inf")).amax(-1)
            return torch.nan_to_num(h, neginf=0.0).view(b, t, -1)  # padding words have no characters
        lengths = (flat != 0).sum(1).clamp(min=1)
        if exporting():  # the final states are the outputs at each end (nlpkit.encoders.unpacked)
            out = run_unpacked(self.lstm, x, lengths)
            half = out.size(-1) // 2
            last = out[torch.arange(out.size(0), device=out.device), lengths - 1, :half]
            return torch.cat([last, out[:, 0, half:]], dim=-1).view(b, t, -1)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, (h, _) = self.lstm(packed)
        return torch.cat([h[0], h[1]], dim=-1).view(b, t, -1)


class Tagger(nn.Module):
    def __init__(self, config: TaggerConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embed_size, padding_idx=PAD_ID)
        nn.init.normal_(self.embedding.weight, std=0.1)
        self.chars = CharFeatures(config) if config.char_features != "none" else None
        self.encoder = build_encoder(config.encoder)
        self.drop = nn.Dropout(config.dropout)
        self.backward = None
        if config.backward:
            from nlpkit.encoders.backward import BackwardReader

            self.backward = BackwardReader(config.vocab_size, config.embed_size, config.encoder)
        self.out = nn.Linear(self.encoder.output_size * (2 if config.backward else 1), len(config.tags))
        allowed, may_start, may_end = allowed_transitions(config.tags)
        self.crf = CRF(allowed, may_start, may_end) if config.crf else None
        self._constraints = (allowed, may_start, may_end)

    def emissions(self, words: torch.Tensor, chars: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if self.training and self.config.word_dropout:
            drop = torch.rand(words.shape, device=words.device) < self.config.word_dropout
            words = words.masked_fill(drop & (words != PAD_ID), UNK_ID)
        x = self.embedding(words)
        if self.chars is not None:
            x = torch.cat([x, self.chars(chars)], dim=-1)
        h, _ = self.encoder(self.drop(x), lengths.to(words.device))
        if self.backward is not None:  # reads the words alone, as its language model did
            h = torch.cat([h, self.backward(words, lengths, self.drop)], dim=-1)
        return self.out(self.drop(h))

    def loss(self, words, chars, lengths, tags) -> torch.Tensor:
        e = self.emissions(words, chars, lengths)
        mask = torch.arange(words.size(1), device=words.device)[None] < lengths.to(words.device)[:, None]
        if self.crf is not None:
            return self.crf.nll(e, tags, mask).mean()
        return F.cross_entropy(e.float()[mask], tags[mask])

    @torch.no_grad()
    def decode(self, words, chars, lengths, with_probs: bool = True) -> tuple[list[list[int]], torch.Tensor | None]:
        """Best tag ids per sentence and (with_probs) each token's probability for every tag
        [B, T, N]: CRF marginals, or the softmax."""
        return decode_emissions(self.emissions(words, chars, lengths), lengths, self.crf, self._constraints, with_probs)


def decode_emissions(emissions, lengths, crf, constraints, with_probs: bool = True):
    """Tagger.decode from emissions [B, T, N] (also of an exported graph, nlpkit.export): the
    CRF's best path and marginals, or constrained Viterbi over the softmax."""
    e = emissions.float()
    mask = torch.arange(e.size(1), device=e.device)[None] < lengths.to(e.device)[:, None]
    if crf is not None:
        return crf.decode(e, mask), (crf.marginals(e, mask) if with_probs else None)
    log_probs = torch.log_softmax(e, dim=-1)
    trans, start, end = constraint_scores(*constraints, device=e.device)
    return viterbi(log_probs, mask, trans, start, end), log_probs.exp()


def build_model(config: TaggerConfig) -> Tagger:
    config.encoder.input_size = config.embed_size + config.char_output
    return Tagger(config)


# ----- encoding ----------------------------------------------------------------------------------


def pad_chars(batch_chars: list[list[list[int]]], time: int) -> torch.Tensor:
    """[B, time, longest word] character ids, 0-padded; built as nested lists and converted once."""
    longest = max(1, max((len(w) for sent in batch_chars for w in sent), default=1))
    empty = [0] * longest
    rows = [[w + [0] * (longest - len(w)) for w in sent] + [empty] * (time - len(sent)) for sent in batch_chars]
    return torch.tensor(rows, dtype=torch.long)


def make_batch(encoded: list, indices: list[int], tags: list[list[int]] | None = None):
    words, lengths = pad([encoded[i][0] for i in indices])
    chars = pad_chars([encoded[i][1] for i in indices], words.size(1))
    if tags is None:
        return words, chars, lengths
    gold, _ = pad([tags[i] for i in indices], value=0)
    return words, chars, lengths, gold


# ----- training ----------------------------------------------------------------------------------


# ----- model files -------------------------------------------------------------------------------


# ----- scores ------------------------------------------------------------------------------------
