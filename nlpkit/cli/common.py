"""What every command group shares: the stderr console, option spellings, errors, output.

Kept free of torch so that `--help` stays fast; library modules are imported inside commands.
"""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated

import typer

from nlpkit.errors import NlpkitError

_console = None


def console():
    """Rich console on stderr: progress, tables and warnings never mix with results on stdout."""
    global _console
    if _console is None:
        from rich.console import Console

        _console = Console(stderr=True, highlight=False)
    return _console


def warn(message: str) -> None:
    from rich.markup import escape

    console().print(f"[yellow]warning:[/yellow] {escape(message)}", soft_wrap=True)


def info(message: str, quiet: bool = False) -> None:
    if not quiet:
        console().print(message, soft_wrap=True)


def fail(message: str) -> NlpkitError:
    return NlpkitError(message)


def library_call(fn, *args, **kwargs):
    """Turn a library ValueError (bad option values) into a one-line user error."""
    try:
        return fn(*args, **kwargs)
    except ValueError as exc:
        raise NlpkitError(str(exc)) from None


class EncodingErrors(str, Enum):
    strict = "strict"
    replace = "replace"


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


# Option spellings shared by every task (DESIGN.md section 1).
EncoderOpt = Annotated[str, typer.Option("--encoder", help="rnn | lstm | gru | transformer.", rich_help_panel="Model")]
LayersOpt = Annotated[int, typer.Option("--layers", min=1, help="Encoder layers.", rich_help_panel="Model")]
HiddenOpt = Annotated[
    int, typer.Option("--hidden", min=1, help="Hidden size (Transformer: model width).", rich_help_panel="Model")
]
EmbedOpt = Annotated[
    int, typer.Option("--embed", min=0, help="Embedding size; 0 = same as --hidden.", rich_help_panel="Model")
]
DropoutOpt = Annotated[float, typer.Option("--dropout", min=0.0, max=0.95, help="Dropout.", rich_help_panel="Model")]
HeadsOpt = Annotated[
    int, typer.Option("--heads", min=1, help="Attention heads (Transformer).", rich_help_panel="Model")
]
PositionsOpt = Annotated[
    str, typer.Option("--positions", help="sinusoidal | learned (Transformer).", rich_help_panel="Model")
]
TokenizerOpt = Annotated[
    str, typer.Option("--tokenizer", help="char | word[:MAX] | bpe:SIZE | unigram:SIZE.", rich_help_panel="Model")
]
MinFreqOpt = Annotated[
    int, typer.Option("--min-freq", min=1, help="Word tokenizer: drop rarer words to <unk>.", rich_help_panel="Model")
]

DatasetOpt = Annotated[
    str | None,
    typer.Option(
        "--dataset",
        help="A `datasets` source: hub name, data folder or data file (.txt/.json/.jsonl/.csv/.tsv/.parquet).",
        rich_help_panel="Data",
    ),
]
DatasetConfigOpt = Annotated[
    str | None, typer.Option("--dataset-config", help="The dataset's configuration name.", rich_help_panel="Data")
]
SplitOpt = Annotated[str, typer.Option("--split", help="Dataset split to train on.", rich_help_panel="Data")]
ValidSplitOpt = Annotated[
    str | None, typer.Option("--valid-split", help="Dataset split to validate on.", rich_help_panel="Data")
]

EpochsOpt = Annotated[
    int,
    typer.Option(
        "--epochs",
        min=0,
        help="Epochs; 0 = 10, or unlimited under --max-steps/--time-budget.",
        rich_help_panel="Training",
    ),
]
MaxStepsOpt = Annotated[
    int,
    typer.Option(
        "--max-steps", min=0, help="Stop after this many optimizer steps (0 = no limit).", rich_help_panel="Training"
    ),
]
TimeBudgetOpt = Annotated[
    str,
    typer.Option(
        "--time-budget",
        help="Stop after this wall time, e.g. 90s, 10m, 1h (evaluation included); the schedule anneals to it.",
        rich_help_panel="Training",
    ),
]
BatchOpt = Annotated[int, typer.Option("--batch-size", min=1, help="Sequences per batch.", rich_help_panel="Training")]
LrOpt = Annotated[
    float,
    typer.Option(
        "--lr",
        min=0.0,
        help="Peak learning rate; 0 = the optimizer's default (AdamW 2e-3, SGD 20).",
        rich_help_panel="Training",
    ),
]
OptimizerOpt = Annotated[str, typer.Option("--optimizer", help="adamw | sgd.", rich_help_panel="Training")]
ScheduleOpt = Annotated[
    str,
    typer.Option("--schedule", help="cosine | linear | constant | plateau (after warmup).", rich_help_panel="Training"),
]
WarmupOpt = Annotated[int, typer.Option("--warmup", min=0, help="Warmup steps.", rich_help_panel="Training")]
WeightDecayOpt = Annotated[
    float | None,
    typer.Option(
        "--weight-decay",
        min=0.0,
        help="Weight decay (default: 0.01 with AdamW, 0 with SGD).",
        rich_help_panel="Training",
    ),
]
ClipOpt = Annotated[
    float,
    typer.Option(
        "--clip",
        min=0.0,
        help="Clip the global gradient norm to this (0 = off); the share of clipped steps is reported.",
        rich_help_panel="Training",
    ),
]
EvalEveryOpt = Annotated[
    int,
    typer.Option("--eval-every", min=0, help="Validate every N steps (0 = every epoch).", rich_help_panel="Training"),
]
PatienceOpt = Annotated[
    int,
    typer.Option(
        "--patience",
        min=0,
        help="Stop after N validations without improvement (0 = never).",
        rich_help_panel="Training",
    ),
]
SeedOpt = Annotated[
    int,
    typer.Option(
        "--seed", help="Random seed; CPU runs without --time-budget repeat exactly.", rich_help_panel="Training"
    ),
]
DeviceOpt = Annotated[Device, typer.Option("--device", help="auto | cpu | cuda (bf16 autocast on CUDA).")]
ResumeOpt = Annotated[
    bool,
    typer.Option(
        "--resume",
        help="Continue from OUT.ckpt: weights, optimizer, schedule, RNG and data position.",
        rich_help_panel="Training",
    ),
]
MetricsOutOpt = Annotated[
    str | None,
    typer.Option(
        "--metrics-out", help="Also write the training metrics to this JSON file.", rich_help_panel="Training"
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr.")]
EncodingErrorsOpt = Annotated[
    EncodingErrors,
    typer.Option("--encoding-errors", help="strict: invalid UTF-8 is an error; replace: substitute U+FFFD."),
]


def parse_budget(text: str) -> float:
    if not text:
        return 0.0
    from nlpkit.training import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise NlpkitError(f"--time-budget: {exc}") from None


class Output:
    """Line-oriented stdout that flushes per chunk, so `| head` and pipelines see results early."""

    def __init__(self):
        self.stream = sys.stdout

    def write_lines(self, lines) -> None:
        self.stream.write("".join(f"{line}\n" for line in lines))
        self.stream.flush()
