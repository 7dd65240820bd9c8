"""The language-model options: training (`nlpkit lm train`, `nlpkit.train("lm", ...)`) and use
(`lm eval`, `lm score`, `generate`). Torch-free: the CLI builds its flags from these at start-up.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

from nlpkit.errors import option
from nlpkit.options import BatchOptions, ModelOptions, Options, ReadOptions, opt, reuse, same

MAX_NEW_TOKENS = 1_000_000  # per completion
MIN_TEMPERATURE = 1e-3

# every dropout rate of the regularisers: a probability in [0, 1), added to `dropout` (docs/language-models.md)
_RATE = {"panel": "Regularisation", "min": 0.0, "below": 1.0, "tune": {"low": 0.0, "high": 0.5}}
_RECURRENT_RATE = {**_RATE, "tune": {"low": 0.0, "high": 0.5, "recurrent": True}}  # refused with a Transformer


@dataclass
class LMOptions(ModelOptions):
    SELECTED_BY: typing.ClassVar[tuple[str, bool]] = ("valid_loss", False)  # the metric that picks the kept model
    out: str = same("out", "lm.nlpk")
    valid_fraction: float = opt(
        0.0, "Without `valid`: hold out this last share of the training tokens.", panel="Data", min=0.0, max=0.5
    )
    text_field: str = opt("text", "JSONL field or dataset column holding the text.", panel="Data")
    input_format: str = opt(
        "auto", "auto (JSONL for *.jsonl) | text | jsonl.", panel="Data", choices=("auto", "text", "jsonl")
    )
    tokenizer: str = opt("char", "char | word[:MAX] | bpe:SIZE | unigram:SIZE.", panel="Model")
    tie_weights: bool = opt(False, "Share the input embedding with the output layer.", panel="Model")
    adaptive_softmax: str = opt(
        "",
        "Adaptive softmax with these vocabulary cutoffs, e.g. 2000,6000 (word/subword models; much faster output layer).",
        panel="Model",
        metavar="CUTOFFS",
    )
    direction: str = opt(
        "forward",
        "backward: read every line right to left. Beside a forward model it gives a classifier or tagger "
        "context from both sides (their `init_from` + `init_from_backward`).",
        panel="Model",
        choices=("forward", "backward"),
    )
    init_from: str | None = opt(
        None,
        "Go on training this language model on new text (the ULMFiT middle step: adapt a general model to the "
        "task's own unlabelled text); its tokenizer, direction and sizes are kept, model options are ignored.",
        panel="Transfer",
        metavar="LM.nlpk",
    )
    context: int = opt(
        128,
        "BPTT length (recurrent) or context window (Transformer).",
        panel="Model",
        min=2,
        flags=("--context", "--bptt"),
        tune={"choices": [32, 64, 128, 256]},
    )
    variable_bptt: bool = opt(
        False,
        "Recurrent: draw each BPTT window's length around `context` (and half of it, 5% of the time), its "
        "learning rate scaled to its length, so the cut points move (AWD-LSTM).",
        panel="Regularisation",
    )
    input_dropout: float = opt(
        0.0, "Locked dropout on the embedded input: one mask per sequence for all its steps. Rate in [0, 1).", **_RATE
    )
    layer_dropout: float = opt(0.0, "Recurrent: locked dropout between layers. Rate in [0, 1).", **_RECURRENT_RATE)
    output_dropout: float = opt(
        0.0, "Locked dropout on the encoder's output, before the output layer. Rate in [0, 1).", **_RATE
    )
    embedding_dropout: float = opt(
        0.0,
        "Drop whole words from the input embedding (every occurrence in the batch), scaling the rest. Rate in [0, 1).",
        **_RATE,
    )
    weight_drop: float = opt(
        0.0,
        "Recurrent: DropConnect on the hidden-to-hidden weights, a new mask every window (torch's fused kernels). Rate in [0, 1).",
        **_RECURRENT_RATE,
    )
    ar: float = opt(
        0.0, "Activation regularisation: add AR x mean(output^2) to the loss.", panel="Regularisation", min=0.0
    )
    tar: float = opt(
        0.0,
        "Temporal activation regularisation: add TAR x mean((h[t] - h[t-1])^2) of the last layer to the loss.",
        panel="Regularisation",
        min=0.0,
    )


@dataclass
class ScoreOptions(Options):
    """LanguageModelTask.predict and `nlpkit lm score`."""

    batch_tokens: int = reuse(BatchOptions, "batch_tokens", 8192)
    chunk_size: int = reuse(BatchOptions, "chunk_size", 4096)


@dataclass
class EvalOptions(ReadOptions):
    """LanguageModelTask.evaluate and `nlpkit lm eval`."""

    batch_size: int = opt(10, "Parallel streams the text is cut into.", min=1)
    input_format: str = reuse(LMOptions, "input_format")
    text_field: str = reuse(LMOptions, "text_field")


@dataclass
class SamplingOptions(Options):
    """How each next token is chosen (nlpkit.decoding.sample)."""

    max_new_tokens: int = opt(
        200, "Tokens to generate per completion.", min=0, max=MAX_NEW_TOKENS, flags=("--max-new-tokens", "-n")
    )
    temperature: float = opt(
        1.0, f"0 = greedy; else {MIN_TEMPERATURE:g} to 100.", min=0.0, max=100.0, flags=("--temperature", "-t")
    )
    top_k: int = opt(0, "Sample among the k likeliest tokens (0 = all).", min=0)
    top_p: float = opt(1.0, "Nucleus sampling mass (1 = off, 0 = likeliest token only).", min=0.0, max=1.0)
    repetition_penalty: float = opt(
        1.0, "> 1 discourages tokens already present, < 1 favours them (1 = off).", min=0.01, max=100.0
    )
    no_repeat_ngram: int = opt(0, "Never repeat an n-gram of this size (0 = off).", min=0)

    def check(self) -> None:
        if 0 < self.temperature < MIN_TEMPERATURE:  # logits divided by less overflow float32
            raise ValueError(
                f"{option('temperature')}: {self.temperature:g} is below {MIN_TEMPERATURE:g}; use 0 for greedy choice"
            )


@dataclass
class GenerateOptions(SamplingOptions):
    """LanguageModelTask.generate and `nlpkit generate`."""

    num_samples: int = opt(1, "Completions per prompt.", min=1, max=10_000)
    stop: list[str] = opt(list, "Stop a completion at this string (repeatable); it is not printed.")
    seed: int | None = opt(None, "Random seed for sampling.", min=0, max=2**63 - 1)
    use_cache: bool = opt(
        True,
        "Keep the prefix's keys and values (Transformer) between steps; --no-cache re-reads the whole prefix "
        "every step (slow; for comparison).",
        flags=("--cache/--no-cache",),
    )

    def check(self) -> None:
        super().check()
        if any(not s for s in self.stop):
            raise ValueError(f"{option('stop')}: an empty stop string would end every completion before it starts")
        if self.num_samples * self.max_new_tokens > MAX_NEW_TOKENS * 10:  # the token buffer is allocated up front
            raise ValueError(
                f"{option('num_samples')} x {option('max_new_tokens')} = {self.num_samples * self.max_new_tokens:,} "
                f"tokens per prompt; at most {MAX_NEW_TOKENS * 10:,}"
            )
