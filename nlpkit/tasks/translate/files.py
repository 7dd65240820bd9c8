"""Translation model files: the seq2seq model with one joint tokenizer, or a source and a
target tokenizer."""

from __future__ import annotations

from dataclasses import dataclass

from nlpkit.tasks.translate.model import TASK, Seq2Seq, Seq2SeqConfig

TARGET_PREFIX = "tokenizer.target."


@dataclass
class Tokenizers:
    src: object
    tgt: object

    @property
    def shared(self) -> bool:
        return self.src is self.tgt


def to_modelfile(model: Seq2Seq, toks: Tokenizers, extra_meta: dict):
    from nlpkit.modelfile import ModelFile
    from nlpkit.text.tokenizers import tokenizer_to_file

    meta, tensors = tokenizer_to_file(toks.src)
    file_meta = {"model": model.config.to_dict(), "tokenizer": meta, **extra_meta}
    if not toks.shared:
        tgt_meta, tgt_tensors = tokenizer_to_file(toks.tgt)
        file_meta["target_tokenizer"] = tgt_meta
        tensors.update({TARGET_PREFIX + k.split(".", 1)[1]: v for k, v in tgt_tensors.items()})
    weights = {f"model.{k}": v for k, v in model.state_dict().items()}
    return ModelFile(TASK, file_meta, {**weights, **tensors})


def from_modelfile(saved, device=None) -> tuple[Seq2Seq, Tokenizers]:
    """The model (eval mode, on `device`) and its tokenizers from a loaded model file."""
    from nlpkit.tasks.files import load_weights
    from nlpkit.tasks.translate.model import build_model

    model, src = load_weights(lambda: build_model(Seq2SeqConfig.from_dict(saved.meta["model"])), saved, device)
    return model, Tokenizers(src, target_tokenizer(saved, src))


def target_tokenizer(saved, src):
    """The target side's tokenizer of a loaded model file: its own, or `src` where the vocabulary is joint."""
    from nlpkit.tasks.files import read_tokenizer

    if "target_tokenizer" not in saved.meta:
        return src
    blob = {"tokenizer." + k[len(TARGET_PREFIX) :]: v for k, v in saved.tensors.items() if k.startswith(TARGET_PREFIX)}
    return read_tokenizer(saved, "target_tokenizer", blob)
