"""Text classification: an embedding, a shared encoder, pooling over time and a linear layer.

Every text is read as it would follow a line end (the tokenizer's end-of-line token comes
first), so an empty text is still one token long and a language model's encoder (which saw
text that way while pretraining) starts the classifier in familiar territory.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from nlpkit.data.batching import length_batches, pad, token_budget_groups
from nlpkit.encoders import EncoderConfig, build_encoder
from nlpkit.encoders.groups import layer_groups
from nlpkit.text.tokenizers import PAD_ID, UNK_ID

TASK = "classifier"
POOLINGS = ("last", "mean", "max", "attention")


@dataclass
class ClassifierConfig:
    vocab_size: int
    labels: list[str]
    embed_size: int = 256
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    pooling: list[str] = field(default_factory=lambda: ["max"])  # several are concatenated
    dropout: float = 0.3  # on embeddings and on the pooled vector
    word_dropout: float = 0.0  # share of tokens replaced by <unk> while training
    max_len: int = 512  # tokens read per text; the rest is cut
    backward: bool = False  # a second embedding + encoder reading right to left (init_from_backward)

    def __post_init__(self) -> None:
        unknown = [p for p in self.pooling if p not in POOLINGS]
        if unknown or not self.pooling:
            raise ValueError(
                f"unknown pooling {','.join(unknown) or '(none)'}; use {', '.join(POOLINGS)} or a comma list"
            )
        if len(self.labels) < 2:
            raise ValueError(f"a classifier needs at least 2 labels; the training data has {len(self.labels)}")

    def to_dict(self) -> dict:
        return {**asdict(self), "encoder": self.encoder.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> ClassifierConfig:
        return cls(**{**data, "encoder": EncoderConfig.from_dict(data["encoder"])})


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
        h, _ = self.encoder(self.drop(self.embedding(tokens)), lengths)
        if self.backward is not None:
            h = torch.cat([h, self.backward(tokens, lengths, self.drop)], dim=-1)
        return self.head(self.drop(self.pool(h, lengths)))

    def depth_groups(self) -> list[list]:
        """Parameters bottom to top: embedding (with the encoder's input side), each encoder
        layer, then pooling and output layer."""
        groups = layer_groups(self.encoder)
        groups[0] = [self.embedding.weight, *groups[0]]
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


def encode(tokenizer, text: str, max_len: int) -> tuple[list[int], bool]:
    """Token ids as the classifier reads them, and whether the text was cut."""
    ids = [tokenizer.eos_id, *tokenizer.encode(text)]
    return (ids[:max_len], True) if len(ids) > max_len else (ids, False)


@torch.no_grad()
def predict_proba(model: Classifier, encoded: list[list[int]], batch_tokens: int = 16384) -> torch.Tensor:
    """Class probabilities [n, labels] of already encoded texts, in their order."""
    device = next(model.parameters()).device
    probs = torch.empty(len(encoded), len(model.config.labels))
    for group in token_budget_groups([len(e) for e in encoded], batch_tokens):
        tokens, lengths = pad([encoded[i] for i in group])
        logits = model(tokens.to(device), lengths)
        probs[group] = torch.softmax(logits.float(), dim=-1).cpu()
    return probs


# ----- training ---------------------------------------------------------------------------------


class ClassifierTraining:
    """The classifier side of the training engine (see nlpkit.training)."""

    metric = "valid_accuracy"
    higher_is_better = True

    def __init__(
        self,
        model: Classifier,
        train: tuple[list[list[int]], list[int]],
        valid: tuple[list[list[int]], list[int]] | None,
        batch_size: int,
        device,
        *,
        seed: int = 0,
        class_weights: torch.Tensor | None = None,
        lr_decay: float = 1.0,
        gradual_unfreeze: bool = False,
    ):
        self.model = model
        self.device = device
        self.seed = seed
        self.train_ids, self.train_labels = train
        self.valid = valid
        self.batch_size = batch_size
        self.class_weights = class_weights.to(device) if class_weights is not None else None
        self.lr_decay = lr_decay
        self.gradual_unfreeze = gradual_unfreeze
        self.groups = model.depth_groups()
        self._lengths = [len(s) for s in self.train_ids]

    def param_groups(self) -> list[tuple[list, float]]:
        """(parameters, learning-rate scale) from the bottom up: each group below the top one
        learns lr_decay times as fast as the group above it (discriminative fine-tuning)."""
        top = len(self.groups) - 1
        return [(params, self.lr_decay ** (top - depth)) for depth, params in enumerate(self.groups)]

    def before_step(self, progress: float) -> None:
        """Gradual unfreezing: the top group trains from the start and the groups below join
        one by one over the first half of training, so pretrained layers are not disturbed by
        the large early gradients of a random output layer."""
        if not self.gradual_unfreeze:
            return
        top = len(self.groups) - 1
        open_from = top - min(top, int(progress / 0.5 * top))
        for depth, params in enumerate(self.groups):
            for p in params:
                p.requires_grad_(depth >= open_from and not getattr(p, "frozen", False))

    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.train_ids) / self.batch_size)

    def batches(self, epoch: int, start: int):
        g = torch.Generator().manual_seed(self.seed * 1000 + epoch)
        for i, group in enumerate(length_batches(self._lengths, self.batch_size, g)):
            if i >= start:
                tokens, lengths = pad([self.train_ids[j] for j in group])
                labels = torch.tensor([self.train_labels[j] for j in group])
                yield tokens.to(self.device), lengths, labels.to(self.device)

    def loss(self, batch):
        tokens, lengths, labels = batch
        logits = self.model(tokens, lengths)
        loss = F.cross_entropy(logits.float(), labels, weight=self.class_weights)
        return loss, int(lengths.sum())

    def evaluate(self) -> dict:
        if self.valid is None:
            return {}
        ids, labels = self.valid
        predicted = predict_proba(self.model, ids).argmax(-1).tolist()
        scores = classification_scores(labels, predicted, len(self.model.config.labels))
        return {"valid_accuracy": round(scores["accuracy"], 5), "valid_macro_f1": round(scores["macro_f1"], 5)}


def balanced_weights(labels: list[int], n_classes: int) -> torch.Tensor:
    """n / (classes * count): every class weighs the same in the loss in total."""
    counts = torch.bincount(torch.tensor(labels), minlength=n_classes).float()
    return len(labels) / (n_classes * counts.clamp(min=1))


# ----- scores ------------------------------------------------------------------------------------


def classification_scores(gold: list[int], predicted: list[int], n_classes: int) -> dict:
    """Accuracy, per-class precision/recall/F1/support, macro averages and the confusion matrix
    (rows gold, columns predicted)."""
    matrix = torch.zeros(n_classes, n_classes, dtype=torch.long)
    for g, p in zip(gold, predicted, strict=True):
        matrix[g, p] += 1
    tp = matrix.diag().double()
    support = matrix.sum(1).double()
    predicted_count = matrix.sum(0).double()
    precision = torch.where(predicted_count > 0, tp / predicted_count.clamp(min=1), torch.zeros_like(tp))
    recall = torch.where(support > 0, tp / support.clamp(min=1), torch.zeros_like(tp))
    f1 = torch.where(
        precision + recall > 0, 2 * precision * recall / (precision + recall).clamp(min=1e-12), torch.zeros_like(tp)
    )
    present = support > 0  # classes absent from the gold data do not enter macro averages
    n = max(1, int(present.sum()))
    return {
        "accuracy": float(tp.sum() / max(1, len(gold))),
        "macro_precision": float(precision[present].sum() / n),
        "macro_recall": float(recall[present].sum() / n),
        "macro_f1": float(f1[present].sum() / n),
        "per_class": [
            {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i in range(n_classes)
        ],
        "confusion": matrix.tolist(),
        "count": len(gold),
    }
