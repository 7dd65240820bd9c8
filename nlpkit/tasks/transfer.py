"""Starting another task's model from trained language models (`init_from`,
`init_from_backward`): the one place where sentiment and ner reach the lm task.
"""

from __future__ import annotations

from nlpkit.errors import NlpkitError, option
from nlpkit.tasks.lm.task import LanguageModelTask, load_lm


def load_lm_pair(forward: str, backward: str | None) -> tuple[LanguageModelTask, LanguageModelTask | None]:
    """The language models a classifier or tagger starts from: a forward one (`init_from`) and
    optionally a backward one (`init_from_backward`) with the same vocabulary and sizes."""
    from nlpkit.text.tokenizers import tokenizer_to_file

    fwd = load_lm(forward)
    if fwd.direction != "forward":
        raise NlpkitError(
            f"{option('init_from')} {forward}: a backward language model; give it as "
            f"{option('init_from_backward')} beside a forward one"
        )
    if backward is None:
        return fwd, None
    bwd = load_lm(backward)
    if bwd.direction != "backward":
        raise NlpkitError(
            f"{option('init_from_backward')} {backward}: reads left to right; train it with "
            f"{option('direction')} backward"
        )

    def vocabulary(task):
        meta, tensors = tokenizer_to_file(task.tokenizer.inner if task.direction == "backward" else task.tokenizer)
        return meta, {k: bytes(v.numpy().tobytes()) for k, v in tensors.items()}

    if vocabulary(fwd) != vocabulary(bwd):
        raise NlpkitError(
            f"{forward} and {backward} have different vocabularies; train both on the same text with the "
            f"same {option('tokenizer')} and {option('min_freq')}"
        )
    sizes = lambda t: (t.model.config.embed_size, t.model.config.encoder.to_dict())  # noqa: E731
    if sizes(fwd) != sizes(bwd):
        raise NlpkitError(
            f"{forward} and {backward} differ in encoder or embedding size; train both with the same sizes"
        )
    return fwd, bwd
