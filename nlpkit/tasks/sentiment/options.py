"""The sentiment (text classification) options: training (`nlpkit sentiment train`,
`nlpkit.train("sentiment", ...)`) and use (`predict`, `eval`). Torch-free: the CLI builds its flags
from these at start-up.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

from nlpkit.data.labeled import FORMATS as INPUT_FORMATS
from nlpkit.encoders.config import BAG, ENCODER_KINDS
from nlpkit.errors import option
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
from nlpkit.tasks.sentiment.config import MAX_BUCKETS, MAX_NGRAMS

BAG_DEFAULTS = {"ngrams": 1, "buckets": 1 << 16}  # what encoder bag uses where they are not given


@dataclass
class SentimentOptions(ModelOptions):
    SELECTED_BY: typing.ClassVar[tuple[str, bool]] = (
        "valid_accuracy",
        True,
    )  # the validation metric that picks the kept model, and whether higher is better
    out: str = same("out", "sentiment.nlpk")
    valid_fraction: float = holdout_option("examples")
    input_format: str = opt(
        "auto",
        "auto: by extension (.tsv .csv .jsonl), else FastText if lines start with __label__, "
        "else TSV if they hold a tab, else 'label text' lines (label-first, as in SST-2).",
        panel="Data",
        choices=INPUT_FORMATS,
    )
    text_column: str = opt(
        "text",
        "Column (TSV/CSV header name or JSON field) holding the text; a 1-based number for a file without a header.",
        panel="Data",
    )
    label_column: str = opt(
        "label", "Column holding the label; a 1-based number for a file without a header.", panel="Data"
    )
    skip_bad: bool = opt(False, "Skip rows with no label or no text (counted) instead of stopping.", panel="Data")
    tokenizer: str = opt("word", "char | word[:MAX] | bpe:SIZE | unigram:SIZE.", panel="Model")
    encoder: str = opt(
        "lstm",
        " | ".join(ENCODER_KINDS) + " | bag (no context: the words and their hashed n-grams pooled; many times "
        "faster, as fastText's or spaCy's bag-of-words classifiers).",
        panel="Model",
    )
    ngrams: int | None = opt(
        None,
        f"Encoder bag: word n-grams up to this length join the words (default {BAG_DEFAULTS['ngrams']}: words "
        "alone, as fastText's default; 2 adds bigrams).",
        panel="Model",
        min=1,
        max=MAX_NGRAMS,
        show_default=False,
    )
    buckets: int | None = opt(
        None,
        "Encoder bag with `ngrams` 2 or more: embedding rows the hashed n-grams share "
        f"(default {BAG_DEFAULTS['buckets']}).",
        panel="Model",
        min=1,
        max=MAX_BUCKETS,
        show_default=False,
    )
    layers: int = same("layers", 1)
    bidirectional: bool | None = opt(
        None,
        "Read both ways (recurrent encoders; default: bidirectional, except with `init_from`).",
        panel="Model",
        flags=("--bidirectional/--unidirectional",),
        show_default=False,
    )
    dropout: float = same("dropout", 0.3)
    word_dropout: float = opt(0.1, "Share of training tokens replaced by <unk>.", panel="Model", min=0.0, max=0.9)
    pooling: str = opt(
        "max", "last | mean | max | attention, or a comma list to concatenate (e.g. last,max,mean).", panel="Model"
    )
    max_len: int = opt(512, "Tokens read per text; longer texts are cut (counted).", panel="Model", min=2)
    class_weights: str = opt(
        "none", "balanced: weigh classes inversely to their frequency.", panel="Model", choices=("none", "balanced")
    )
    init_from: str | None = opt(
        None,
        "Start the embedding, encoder and tokenizer from a language model (nlpkit lm train); model options "
        "other than `dropout`, `word_dropout`, `pooling` and `max_len` come from it.",
        panel="Transfer",
        metavar="LM.nlpk",
    )
    init_from_backward: str | None = backward_lm_option()
    lr_decay: float | None = opt(
        None,
        "Layer-wise learning rates: each layer below the output layer learns this much slower than the one "
        "above (default 0.5 with `init_from`, else 1: one rate).",
        panel="Transfer",
        min=0.0,
        max=1.0,
        show_default=False,
    )
    gradual_unfreeze: bool = opt(
        False,
        "Train only the output layer at first; the layers below join one by one over the first half of training.",
        panel="Transfer",
    )

    ENCODER_KINDS: typing.ClassVar[tuple[str, ...]] = (*ENCODER_KINDS, BAG)

    def check(self) -> None:
        super().check()
        if self.encoder != BAG:
            given = [name for name in BAG_DEFAULTS if getattr(self, name) is not None]
            if given:
                raise ValueError(f"{option(given[0])} goes with {option('encoder')} bag, not {self.encoder}")

    def bag_value(self, name: str) -> int:
        """`ngrams` or `buckets` as encoder bag uses it (its default when not given)."""
        value = getattr(self, name)
        return BAG_DEFAULTS[name] if value is None else value


@dataclass
class PredictOptions(Options):
    """SentimentTask.predict and `nlpkit sentiment predict`."""

    batch_tokens: int = reuse(BatchOptions, "batch_tokens", 16384)
    chunk_size: int = reuse(BatchOptions, "chunk_size", 4096)


@dataclass
class EvalOptions(ReadOptions):
    """SentimentTask.evaluate and `nlpkit sentiment eval`: the test files are read as for training."""

    input_format: str = reuse(SentimentOptions, "input_format")
    text_column: str = reuse(SentimentOptions, "text_column")
    label_column: str = reuse(SentimentOptions, "label_column")
    skip_bad: bool = reuse(SentimentOptions, "skip_bad")
    log_every: str = reuse(InputOptions, "log_every")
