"""Language-model files: the model and its tokenizer in a .nlpk (nlpkit.modelfile)."""

from __future__ import annotations

from nlpkit.tasks.lm.model import TASK, LanguageModel, LMConfig


def to_modelfile(model: LanguageModel, tokenizer, extra_meta: dict):
    from nlpkit.tasks.files import to_modelfile as pack

    return pack(TASK, model, tokenizer, extra_meta)


def from_modelfile(saved, device=None) -> tuple[LanguageModel, object]:
    """The model (in eval mode, on `device`) and tokenizer stored in a loaded model file."""
    from nlpkit.tasks.files import load_weights

    return load_weights(lambda: LanguageModel(LMConfig.from_dict(saved.meta["model"])), saved, device)
