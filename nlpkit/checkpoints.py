"""A training run's checkpoint file: the Trainer's state_dict() (tensors and JSON, no pickles)
in a model file beside the model being trained, with the model file's own metadata (so a
checkpoint also says what model it holds)."""

from __future__ import annotations

from pathlib import Path

from nlpkit import modelfile
from nlpkit.errors import NlpkitError


def path_for(out: str) -> Path:
    """Where the run writing the model `out` keeps its checkpoint: beside it."""
    return Path(out + ".ckpt")


def write(path, task_name: str, meta: dict, tensors: dict, state: dict) -> None:
    """Write a trainer's state to `path`: `meta` (the model file's metadata; its "tensors" entry,
    the tokenizer's, go in beside the trainer's), under "checkpoint" the JSON state."""
    extra = meta.get("tensors", {})
    described = {k: v for k, v in meta.items() if k != "tensors"}
    modelfile.save(path, modelfile.ModelFile(task_name, {**described, "checkpoint": state}, {**tensors, **extra}))


def read(saved: modelfile.ModelFile) -> tuple[dict, dict]:
    """(tensors, JSON state) of a checkpoint read by modelfile.load, for Trainer.load_state_dict."""
    state = saved.meta.get("checkpoint")
    if not isinstance(state, dict):
        raise NlpkitError("the checkpoint has no training state to resume from")
    return saved.tensors, state
