"""Training a tagger: the adapter the Trainer drives (batches of encoded sentences, the CRF or
softmax loss, validation F1)."""

from __future__ import annotations

import math

import torch

from nlpkit.data.batching import length_batches
from nlpkit.tasks.ner.model import Tagger, make_batch
from nlpkit.tasks.ner.options import NEROptions
from nlpkit.tasks.ner.scores import entity_scores
from nlpkit.tasks.ner.tagging import predict


class TaggerTraining:
    """The tagger side of the training engine (see nlpkit.training)."""

    metric, higher_is_better = NEROptions.SELECTED_BY

    def __init__(self, model: Tagger, train: tuple[list, list], valid, batch_size: int, device, *, seed: int = 0):
        self.model = model
        self.device = device
        self.seed = seed
        self.encoded, self.tags = train
        self.valid = valid  # (encoded, gold BIOES tag strings) or None
        self.batch_size = batch_size
        self._lengths = [len(e[0]) for e in self.encoded]

    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.encoded) / self.batch_size)

    def batches(self, epoch: int, start: int):
        g = torch.Generator().manual_seed(self.seed * 1000 + epoch)
        for i, group in enumerate(length_batches(self._lengths, self.batch_size, g)):
            if i >= start:
                yield tuple(t.to(self.device) for t in make_batch(self.encoded, group, self.tags))

    def loss(self, batch):
        words, chars, lengths, gold = batch
        return self.model.loss(words, chars, lengths, gold), int(lengths.sum())

    def evaluate(self) -> dict:
        if self.valid is None:
            return {}
        encoded, gold = self.valid
        tags = self.model.config.tags
        predicted = [[tags[k] for k in path] for path, _ in predict(self.model, encoded, with_probs=False)]
        scores = entity_scores(gold, predicted)
        return {
            "valid_f1": round(scores["f1"], 5),
            "valid_precision": round(scores["precision"], 5),
            "valid_recall": round(scores["recall"], 5),
        }
