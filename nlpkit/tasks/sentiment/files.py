"""Sentiment model files: one classifier, or an ensemble of them, with its tokenizer."""

from __future__ import annotations

from nlpkit.tasks.sentiment.config import TASK
from nlpkit.tasks.sentiment.model import Classifier


def to_modelfile(model: Classifier, tokenizer, extra_meta: dict):
    from nlpkit.tasks.files import to_modelfile as pack

    return pack(TASK, model, tokenizer, extra_meta)


def from_modelfile(saved, device=None) -> tuple[Classifier, object]:
    """The model (in eval mode, on `device`) and tokenizer stored in a loaded model file: one
    classifier, or an ensemble of them (nlpkit.tasks.sentiment.ensemble_model)."""
    from nlpkit.tasks.files import load_weights
    from nlpkit.tasks.sentiment.config import config_from_dict
    from nlpkit.tasks.sentiment.ensemble_model import build

    return load_weights(lambda: build(config_from_dict(saved.meta["model"])), saved, device)
