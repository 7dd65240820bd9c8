"""The named-entity tagging options: training (`nlpkit ner train`, `nlpkit.train("ner", ...)`) and
use (`tag`, `eval`). Torch-free: the CLI builds its flags from these at start-up.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

from nlpkit.options import (
    BatchOptions,
    InputOptions,
    ModelOptions,
    Options,
    ReadOptions,
    backward_lm_option,
    holdout_option,
    opt,
    reuse,
    same,
)


@dataclass
class NEROptions(ModelOptions):
    SELECTED_BY: typing.ClassVar[tuple[str, bool]] = (
        "valid_f1",
        True,
    )  # the validation metric that picks the kept model, and whether higher is better
    out: str = same("out", "ner.nlpk")
    valid_fraction: float = holdout_option("sentences")
    input_format: str = opt(
        "auto", "auto (JSONL for *.jsonl, else CoNLL columns) | conll | jsonl.", panel="Data",
        choices=("auto", "conll", "jsonl"),
    )  # fmt: skip
    token_column: str = opt(
        "",
        "CoNLL: 1-based column of the token (negative counts from the end); datasets: column name (default tokens).",
        panel="Data",
    )
    tag_column: str = opt(
        "",
        "CoNLL: 1-based column of the tag, default the last (-1); datasets: column name (default ner_tags).",
        panel="Data",
    )
    scheme: str = opt(
        "auto", "Tag scheme of the data: auto (detected) | iob1 | iob2 | bioes.", panel="Data",
        choices=("auto", "iob1", "iob2", "bioes"),
    )  # fmt: skip
    strict: bool = opt(
        False, "An I- tag that continues nothing is an error (default: repaired and counted).", panel="Data"
    )
    hidden: int = same("hidden", 200)
    embed: int = opt(
        0, "Word embedding size; 0 = 100, or the dimension of `embeddings`.", panel="Model", min=0, max=16384
    )
    char_features: str = opt(
        "cnn", "cnn | lstm | none: a vector per word from its characters.", panel="Model",
        choices=("cnn", "lstm", "none"),
    )  # fmt: skip
    char_size: int = opt(50, "Character CNN filters or LSTM units.", panel="Model", min=1, max=4096)
    crf: bool = opt(False, "Decode with a linear-chain CRF (else per-token softmax).", panel="Model")
    bidirectional: bool = opt(
        True, "Read both ways (recurrent encoders).", panel="Model", flags=("--bidirectional/--unidirectional",)
    )
    dropout: float = same("dropout", 0.5)
    word_dropout: float = opt(0.05, "Share of training words replaced by <unk>.", panel="Model", min=0.0, max=0.9)
    init_from: str | None = opt(
        None,
        "Start the word embedding and encoder from a word-level language model (nlpkit lm train); its "
        "vocabulary and sizes are used and character features are off.",
        panel="Model",
        metavar="LM.nlpk",
    )
    init_from_backward: str | None = backward_lm_option()
    batch_size: int = same("batch_size", 16)
    clip: float = same("clip", 5.0)

    def default_lr(self) -> float:
        return 2e-3


@dataclass
class TagOptions(Options):
    """NERTask.predict and `nlpkit ner tag`."""

    batch_tokens: int = reuse(BatchOptions, "batch_tokens", 8192)
    chunk_size: int = reuse(BatchOptions, "chunk_size", 2048)
    scores: bool = opt(True, "Give each entity a score, the mean probability of its tags (slower).")
    window: int = opt(
        256, "Tag a longer record in windows of this many words (each word is tagged once, in order).", min=2
    )


@dataclass
class EvalOptions(ReadOptions):
    """NERTask.evaluate and `nlpkit ner eval`: the test files are read as for training."""

    input_format: str = reuse(NEROptions, "input_format")
    token_column: str = reuse(NEROptions, "token_column")
    tag_column: str = reuse(NEROptions, "tag_column")
    scheme: str = reuse(NEROptions, "scheme")
    strict: bool = reuse(NEROptions, "strict")
    predictions: str | None = opt(
        None, "Also write token, gold and predicted tag columns (CoNLL) to this file.", metavar="FILE", writes="file"
    )
    log_every: str = reuse(InputOptions, "log_every")
