"""Training a classifier: the adapter the Trainer drives (length-sorted batches, class weights,
layer-wise rates and gradual unfreezing after a language model)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from nlpkit.data.batching import length_batches, pad
from nlpkit.tasks.sentiment.model import Classifier
from nlpkit.tasks.sentiment.options import SentimentOptions
from nlpkit.tasks.sentiment.prediction import predict_proba
from nlpkit.tasks.sentiment.scores import classification_scores


class ClassifierTraining:
    """The classifier side of the training engine (see nlpkit.training)."""

    metric, higher_is_better = SentimentOptions.SELECTED_BY

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
