"""The translation options: training (`nlpkit translate train`, `nlpkit.train("translate", ...)`)
and use (`predict`, `eval`: the search settings). Torch-free: the CLI builds its flags from these
at start-up.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

from nlpkit.encoders.config import RECURRENT_KINDS
from nlpkit.errors import option
from nlpkit.options import BatchOptions, InputOptions, ModelOptions, Options, ReadOptions, opt, reuse, same
from nlpkit.tasks.translate.scores import TOKENIZERS


@dataclass
class TranslateOptions(ModelOptions):
    SELECTED_BY: typing.ClassVar[tuple[str, bool]] = (
        "valid_bleu",
        True,
    )  # the validation metric that picks the kept model, and whether higher is better
    HIDDEN = ("batch_size",)  # batches are counted in tokens: batch_tokens
    BATCH = "batch_tokens"

    train: list[str] = opt(
        list, "Pair files (TSV or JSONL); or use `src`/`tgt`, or `dataset`.", argument=True, panel="Data",
        metavar="PAIR_FILES",
    )  # fmt: skip
    src: str | None = opt(None, "Source sentences, one a line.", panel="Data")
    tgt: str | None = opt(None, "Target sentences, line-aligned with `src`.", panel="Data")
    valid_src: str | None = opt(None, "Validation source file.", panel="Data")
    valid_tgt: str | None = opt(None, "Validation target file.", panel="Data")
    valid: list[str] | None = opt(None, "Validation pair file(s).", panel="Data")
    out: str = same("out", "translate.nlpk")
    input_format: str = opt(
        "auto", "Pair files: tsv (source<TAB>target) or jsonl; auto: by extension (.jsonl/.json, else tsv).",
        panel="Data", choices=("auto", "tsv", "jsonl"),
    )  # fmt: skip
    src_field: str = opt("src", "JSONL/dataset field with the source text.", panel="Data")
    tgt_field: str = opt("tgt", "JSONL/dataset field with the target text.", panel="Data")
    src_lang: str | None = opt(None, "Source language code in {'translation': {...}} records.", panel="Data")
    tgt_lang: str | None = opt(None, "Target language code in {'translation': {...}} records.", panel="Data")
    max_src_len: int = opt(100, "Leave out pairs whose source has more tokens.", panel="Data", min=2)
    max_tgt_len: int = opt(100, "Leave out pairs whose target has more tokens.", panel="Data", min=2)
    tokenizer: str = opt("bpe:8000", "bpe:SIZE | unigram:SIZE (sentencepiece) | word[:MAX] | char.", panel="Model")
    vocab: str = opt(
        "joint", "joint: one tokenizer for both languages and one embedding table; separate: one each.",
        panel="Model", choices=("joint", "separate"),
    )  # fmt: skip
    encoder: str = opt("transformer", "gru | lstm (with attention) | transformer.", panel="Model")
    attention: str = opt("bahdanau", "bahdanau | luong-dot | luong-general (recurrent models).", panel="Model")
    layers: int = same("layers", 3)
    decoder_layers: int = opt(0, "Decoder layers; 0 = as `layers`.", panel="Model", min=0, max=256)
    ff_size: int = opt(0, "Transformer feed-forward size; 0 = 4 x `hidden`.", panel="Model", min=0, max=65536)
    positions: str = same("positions", "sinusoidal")
    label_smoothing: float = opt(0.1, "Label smoothing of the loss.", panel="Model", min=0.0, max=0.9)
    scale_embeddings: bool = opt(
        False, "Transformer: multiply embeddings by sqrt(hidden), started at 1/sqrt(hidden) (Vaswani et al. 2017).",
        panel="Model",
    )  # fmt: skip
    batch_tokens: int = opt(4096, "Tokens per batch (padded; the longer side counts).", panel="Training", min=16)
    warmup: int = same("warmup", 400)

    def default_lr(self) -> float:
        return 1e-3 if self.encoder in RECURRENT_KINDS else 7e-4


@dataclass
class SearchOptions(Options):
    """How translations are searched for (nlpkit.tasks.translate.search.translate)."""

    beam: int = opt(5, "Beam size; 1 = greedy.", panel="Search", min=1, max=256)
    length_penalty: float = opt(
        0.6, "GNMT length penalty alpha: scores are log-probability / ((5+length)/6)^alpha; 0 = none.",
        panel="Search", min=0.0, max=10.0,
    )  # fmt: skip
    coverage_penalty: float = opt(
        0.0,
        "GNMT coverage penalty beta (beam search): adds beta x the sum over source tokens of log(min(attention "
        "received, 1)), favouring translations that leave no source unread; 0 = none.",
        panel="Search",
        min=0.0,
        max=10.0,
    )
    n_best: int = opt(
        1, "Hypotheses per line, with scores (CLI: needs --format jsonl).", panel="Search", min=1, max=256
    )
    max_length_ratio: float = opt(
        2.0, "A translation stops at this many times the source tokens, plus 5.", panel="Search", min=0.1, max=100.0
    )
    max_src_len: int = opt(256, "Source tokens read per line; longer lines are cut (counted).", panel="Search", min=2)
    batch_size: int = opt(64, "Sentences per batch (grouped by length).", panel="Search", min=1)
    alignments: bool = opt(False, "Also give each line's attention and the word pairs it implies.", panel="Search")

    def check(self) -> None:
        if self.coverage_penalty and self.beam == 1:  # greedy search has no hypotheses to rank
            raise ValueError(
                f"{option('coverage_penalty')} ranks beam search hypotheses; give {option('beam')} 2 or more"
            )
        if self.n_best > self.beam:
            raise ValueError(f"{option('n_best')} {self.n_best} cannot exceed {option('beam')} {self.beam}")


@dataclass
class PredictOptions(SearchOptions):
    """TranslationTask.predict and `nlpkit translate predict`."""

    replace_unk: bool = opt(False, "Replace each unknown target word by its most-attended source word.")
    chunk_size: int = reuse(BatchOptions, "chunk_size", 1024)


@dataclass
class EvalOptions(SearchOptions, ReadOptions):
    """TranslationTask.evaluate and `nlpkit translate eval`."""

    HIDDEN = ("n_best", "alignments")  # one translation a line is scored

    hypotheses: str | None = opt(
        None, "Also write the translations, one a line, to this file.", metavar="FILE", writes="file"
    )
    lowercase: bool = opt(False, "Also a lower-cased BLEU (the variant).")
    tokenize: str | None = opt(
        None, "Also a BLEU with this sacreBLEU tokenizer (none: text tokenized already).",
        choices=TOKENIZERS,
    )  # fmt: skip
    log_every: str = reuse(InputOptions, "log_every")
