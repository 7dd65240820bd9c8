"""What a task hands the Trainer (nlpkit.training): one typed protocol listing every hook once,
the optional ones with the default a task that lacks them gets."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Protocol

import torch


class TrainingAdapter(Protocol):
    """What a task hands the Trainer. The first block is required; each hook after it is
    optional: a task without it gets the default written here (hooks() below)."""

    model: torch.nn.Module  # the module to train
    metric: str  # the validation metric that picks the kept model
    higher_is_better: bool

    def steps_per_epoch(self) -> int:
        """Batches in one epoch."""
        ...

    def batches(self, epoch: int, start: int) -> Iterator:
        """That epoch's batches, the first `start` skipped (a resumed run's data position)."""
        ...

    def loss(self, batch) -> tuple[torch.Tensor, int]:
        """(mean loss tensor, tokens in the batch)."""
        ...

    def evaluate(self) -> dict:
        """{metric: value, ...} on the validation data; {} without any."""
        ...

    def carry_state(self) -> dict:
        """Tensors carried from batch to batch (BPTT), for the checkpoint."""
        return {}

    def restore_carry(self, tensors: dict) -> None:
        """Take back what carry_state() gave ({} on a process that saved none)."""

    def param_groups(self) -> list | None:
        """[(parameters, lr scale), ...] for layer-wise learning rates; None: one group."""
        return None

    def before_step(self, progress: float) -> None:
        """Called before each step with the run's progress 0..1 (gradual unfreezing)."""

    def lr_scale(self, batches: list) -> float:
        """This step's learning-rate factor from its batches (variable BPTT lengths)."""
        return 1.0

    def shard(self, rank: int, size: int) -> bool:
        """Keep only this process's share of the data under torchrun and say so (True); False:
        the processes take turns at the batches of each step."""
        return False


HOOKS = ("carry_state", "restore_carry", "param_groups", "before_step", "lr_scale", "shard")


def hooks(task) -> dict:
    """The task's optional hooks by name: its own, or TrainingAdapter's defaults."""
    return {name: getattr(task, name, None) or partial(getattr(TrainingAdapter, name), task) for name in HOOKS}
