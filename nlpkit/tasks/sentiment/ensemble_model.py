"""Ensembles of text classifiers: several trained classifiers in one model file, predicting the
average of their class probabilities (`nlpkit sentiment ensemble`, `nlpkit.ensemble`).

Classifiers trained from different seeds disagree on the examples none of them is sure of;
averaging their probabilities cancels much of that noise (on SST-2, nine from-scratch members
score 79.9-82.3% alone and 83.25% averaged, see docs/benchmarks.md). The members share one tokenizer
(trained on the same data with the same tokenizer options), so a text is encoded once and the
file exports to one ONNX graph like a single classifier; their architectures may differ.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from nlpkit.tasks.sentiment.config import ClassifierConfig, EnsembleConfig
from nlpkit.tasks.sentiment.model import Classifier


class ClassifierEnsemble(nn.Module):
    """Members' logits -> log of their average class probabilities, so that a softmax over the
    output (what every caller of a classifier applies) gives the average itself."""

    def __init__(self, config: EnsembleConfig):
        super().__init__()
        self.config = config
        self.members = nn.ModuleList(Classifier(c) for c in config.members)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        log_probs = torch.stack([torch.log_softmax(m(tokens, lengths).float(), dim=-1) for m in self.members])
        return torch.logsumexp(log_probs, dim=0) - math.log(len(self.members))


def build(config: ClassifierConfig | EnsembleConfig) -> nn.Module:
    return ClassifierEnsemble(config) if isinstance(config, EnsembleConfig) else Classifier(config)


# ----- combining trained classifiers ----------------------------------------------------------------
