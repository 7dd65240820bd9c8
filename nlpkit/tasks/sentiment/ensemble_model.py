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
from dataclasses import dataclass

import torch
from torch import nn

from nlpkit.tasks.sentiment.model import Classifier, ClassifierConfig

MAX_MEMBERS = 64  # a bound on what an untrusted file can make us build


@dataclass
class EnsembleConfig:
    members: list[ClassifierConfig]

    def __post_init__(self) -> None:
        if not isinstance(self.members, list) or not 2 <= len(self.members) <= MAX_MEMBERS:
            raise ValueError(f"an ensemble has 2 to {MAX_MEMBERS} members")
        first = self.members[0]
        for n, member in enumerate(self.members[1:], start=2):
            if member.labels != first.labels:
                raise ValueError(f"member {n} has labels {member.labels}, member 1 {first.labels}")
            if member.vocab_size != first.vocab_size:
                raise ValueError(f"member {n} has {member.vocab_size} tokens, member 1 {first.vocab_size}")

    # what the sentiment task and the exporter read from a classifier's config
    @property
    def labels(self) -> list[str]:
        return self.members[0].labels

    @property
    def vocab_size(self) -> int:
        return self.members[0].vocab_size

    @property
    def max_len(self) -> int:  # every member reads the same tokens: as many as the shortest reader takes
        return min(m.max_len for m in self.members)

    def describe(self) -> str:
        """Members by encoder kind, like '3 members: lstm x2, gru'."""
        kinds: dict[str, int] = {}
        for member in self.members:
            kinds[member.encoder.kind] = kinds.get(member.encoder.kind, 0) + 1
        return f"{len(self.members)} members: " + ", ".join(k + (f" x{n}" if n > 1 else "") for k, n in kinds.items())

    def to_dict(self) -> dict:
        return {"members": [m.to_dict() for m in self.members]}

    @classmethod
    def from_dict(cls, data: dict) -> EnsembleConfig:
        members = data["members"]
        if not isinstance(members, list) or len(members) > MAX_MEMBERS:  # checked before any is read
            raise ValueError(f"an ensemble has 2 to {MAX_MEMBERS} members")
        return cls([ClassifierConfig.from_dict(m) for m in members])


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


def config_from_dict(data: dict) -> ClassifierConfig | EnsembleConfig:
    """The config a classifier model file describes: one classifier's, or an ensemble's."""
    return EnsembleConfig.from_dict(data) if "members" in data else ClassifierConfig.from_dict(data)


def build(config: ClassifierConfig | EnsembleConfig) -> nn.Module:
    return ClassifierEnsemble(config) if isinstance(config, EnsembleConfig) else Classifier(config)


# ----- combining trained classifiers ----------------------------------------------------------------
