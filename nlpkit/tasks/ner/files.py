"""Tagger files: the model and its word vocabulary in a .nlpk (nlpkit.modelfile)."""

from __future__ import annotations

from nlpkit.tasks.ner.config import TASK, TaggerConfig
from nlpkit.tasks.ner.model import Tagger


def to_modelfile(model: Tagger, tokenizer, extra_meta: dict):
    from nlpkit.tasks.files import to_modelfile as pack

    return pack(TASK, model, tokenizer, extra_meta)


def from_modelfile(saved, device=None) -> tuple[Tagger, object]:
    """The model (in eval mode, on `device`) and word vocabulary stored in a loaded model file."""
    from nlpkit.tasks.files import load_weights

    return load_weights(lambda: Tagger(TaggerConfig.from_dict(saved.meta["model"])), saved, device)
