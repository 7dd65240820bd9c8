"""Model files of the tasks: weights, the model's config and its tokenizer (see modelfile)."""

from __future__ import annotations


def to_modelfile(task: str, model, tokenizer, extra_meta: dict):
    from nlpkit.modelfile import ModelFile
    from nlpkit.text.tokenizers import tokenizer_to_file

    tok_meta, tok_tensors = tokenizer_to_file(tokenizer)
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    meta = {"model": model.config.to_dict(), "tokenizer": tok_meta, **extra_meta}
    return ModelFile(task, meta, {**tensors, **tok_tensors})


def load_weights(model, saved, device=None):
    """Fill `model` from a model file (a checkpoint's best weights when it has them) and return
    it in eval mode on `device`, with the file's tokenizer."""
    from nlpkit.text.tokenizers import tokenizer_from_file

    prefix = "best." if any(k.startswith("best.") for k in saved.tensors) else "model."
    model.load_state_dict({k[len(prefix) :]: v for k, v in saved.tensors.items() if k.startswith(prefix)})
    tokenizer = tokenizer_from_file(saved.meta["tokenizer"], saved.tensors)
    if device is not None:
        model.to(device)
    return model.eval(), tokenizer
