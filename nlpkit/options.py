"""Options, declared once: the Python API takes them as keyword arguments (checked here), recipe
files as TOML keys, and the CLI turns them into flags (nlpkit.cli.options).

Each option is a dataclass field made with `opt()`, whose metadata carries its help text, help
panel, bounds, choices and flag aliases. An option set is a dataclass of such fields; another set
that takes the same option re-uses its declaration with `reuse()` (or `same()` for the shared
training options), so help, bounds and defaults are written in one place. Here: the sets every
command shares (running a loaded model, reading input, training); each task declares its own in
its package's options.py. Kept free of torch so that `nlpkit --help` stays fast.
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

from nlpkit.encoders.config import ENCODER_KINDS
from nlpkit.errors import NlpkitError, option

# Options that say where and how a run happens rather than what is trained: accepted in recipe
# files, left out of the recipe a model file records.
RUN_OPTIONS = (
    "out",
    "resume",
    "quiet",
    "metrics_out",
    "device",
    "threads",
    "log_every",
    "log_format",
    "tensorboard",
    "mlflow",
)


def opt(default, help: str, *, panel: str = "", flags: tuple[str, ...] = (), **meta):
    """A declared option. meta: min, max, below (an exclusive bound), choices, metavar, argument
    (positional in the CLI), show_default, writes (what the run writes there: "file", "folder" or
    "export", or a function of the option set giving one; nlpkit.outputs checks it)."""
    kwargs = {"default_factory": default} if callable(default) else {"default": default}
    return field(metadata={"help": help, "panel": panel, "flags": flags, **meta}, **kwargs)


def reuse(source, name: str, default=MISSING, panel: str | None = None):
    """The option `name` as `source` (an option set) declares it: the same help, bounds and
    flags, and its default unless another is given (and its help panel, unless another is)."""
    base = {f.name: f for f in fields(source)}[name]
    if default is MISSING:
        default = base.default_factory if base.default is MISSING else base.default
    kwargs = {"default_factory": default} if callable(default) else {"default": default}
    metadata = base.metadata if panel is None else {**base.metadata, "panel": panel}
    return field(metadata=metadata, **kwargs)


def same(name: str, default):
    """Re-declare a shared option of ModelOptions with another default."""
    return reuse(ModelOptions, name, default)


def field_kind(annotation) -> tuple[type, bool]:
    """(base type, optional) of a field's annotation: int, float, bool, str or list."""
    optional = False
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional, annotation = True, args[0]
    if typing.get_origin(annotation) is list:
        return list, optional
    return annotation, optional


def _coerce(name: str, value, annotation, meta: dict):
    kind, optional = field_kind(annotation)
    if value is None:
        if optional:
            return None
        raise NlpkitError(f"{option(name)}: needs a value")
    if isinstance(value, Path):
        value = str(value)
    if kind is list:
        if isinstance(value, str | Path):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str | Path) for v in value):
            raise NlpkitError(f"{option(name)}: expected a file name or a list of them, got {value!r}")
        return [str(v) for v in value]
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, int | float) and not isinstance(value, bool),
        str: isinstance(value, str),
    }[kind]
    if not ok:
        raise NlpkitError(f"{option(name)}: expected {kind.__name__}, got {value!r}")
    value = float(value) if kind is float else value
    if kind is int and abs(value) >= 2**62:  # beyond any size, and beyond what torch can take
        raise NlpkitError(f"{option(name)}: {value} is far beyond any sensible value")
    if kind is float and value != value:
        raise NlpkitError(f"{option(name)}: expected a number, got nan")
    choices = meta.get("choices")
    if choices and value not in choices:
        raise NlpkitError(f"{option(name)}: {value!r} is not one of {', '.join(map(str, choices))}")
    if meta.get("min") is not None and value < meta["min"]:
        raise NlpkitError(f"{option(name)}: {value} is below the smallest allowed value, {meta['min']}")
    if meta.get("max") is not None and value > meta["max"]:
        raise NlpkitError(f"{option(name)}: {value} is above the largest allowed value, {meta['max']}")
    if meta.get("below") is not None and value >= meta["below"]:
        raise NlpkitError(f"{option(name)}: {value} must lie below {meta['below']}")
    return value


@dataclass
class Options:
    """Base of every option set: checked construction from a mapping, and its recipe."""

    HIDDEN: typing.ClassVar[tuple[str, ...]] = ()  # inherited options this set does not offer

    @classmethod
    def declared(cls) -> list:
        """The fields this option set offers, in declaration order."""
        return [f for f in fields(cls) if f.name not in cls.HIDDEN]

    @classmethod
    def hints(cls) -> dict:
        return typing.get_type_hints(cls)

    @classmethod
    def create(cls, values: dict, where: str = ""):
        """Options from keyword arguments or recipe keys (dashes or underscores), each checked
        against its declaration; an unknown key is an error naming the closest option."""
        by_name = {f.name: f for f in cls.declared()}
        hints = cls.hints()
        prefix = f"{where}: " if where else ""
        checked = {}
        for key, value in values.items():
            name = str(key).replace("-", "_")
            if name in checked:
                raise NlpkitError(f"{prefix}{option(name)} is given twice (as {name!r} and with dashes); keep one")
            if name not in by_name:
                close = difflib.get_close_matches(name, list(by_name), n=1)
                hint = f"; did you mean {option(close[0])}?" if close else ""
                raise NlpkitError(f"{prefix}unknown option {key!r}{hint}")
            try:
                checked[name] = _coerce(name, value, hints[name], dict(by_name[name].metadata))
            except NlpkitError as exc:
                raise NlpkitError(f"{prefix}{exc}") from None
        made = cls(**checked)
        try:
            made.check()
        except ValueError as exc:
            raise NlpkitError(f"{prefix}{exc}") from None
        return made

    def check(self) -> None:
        """Checks that involve several options: raise ValueError with a message naming them."""

    def pick(self, options_cls) -> dict:
        """The values of the options that `options_cls` offers (what a task method takes)."""
        return {f.name: getattr(self, f.name) for f in options_cls.declared()}

    def recipe(self) -> dict:
        """The options that define the run (not where its output goes), for `info --recipe`."""
        offered = {f.name for f in self.declared()}
        return {k: v for k, v in asdict(self).items() if k in offered and k not in RUN_OPTIONS and v is not None}


@dataclass
class RunOptions(Options):
    """Where and how loudly a command runs: training and every command that reads a model."""

    device: str = opt("auto", "auto | cpu | cuda (bf16 autocast on CUDA).", choices=("auto", "cpu", "cuda"))
    threads: int = opt(
        0,
        "CPU threads; 0 = $NLPKIT_THREADS, else automatic: `train` takes every core of its CPU set (a torchrun "
        "process: its share), other commands the cores free at start (jobs side by side share them).",
        min=0,
        max=4096,
    )
    quiet: bool = opt(
        False, "Nothing on stderr but errors (no progress, summary or warnings).", flags=("--quiet", "-q")
    )


@dataclass
class LoadOptions(RunOptions):
    """How a model file is loaded (nlpkit.load)."""

    quantize: str = opt(
        "auto",
        "int8: linear and recurrent layers in int8 on the CPU (an error elsewhere) | auto: int8 for a file "
        "written by `nlpkit quantize` (or exported with --int8) on the CPU, else float32 | none: float32.",
        choices=("auto", "none", "int8"),
    )
    runtime: str = opt(
        "auto",
        "What runs a .nlpk file. auto: the fastest runtime that gives the .nlpk's results (CTranslate2 for a "
        "Transformer language or translation model, onnxruntime for a classifier, when installed; "
        "converted once into $NLPKIT_CACHE), else PyTorch | torch | ct2 | onnx (docs/fast-decoding.md).",
        choices=("auto", "torch", "ct2", "onnx"),
    )


@dataclass
class ReadOptions(Options):
    """How text files are decoded."""

    encoding_errors: str = opt(
        "strict", "strict: invalid UTF-8 is an error; replace: substitute U+FFFD.", choices=("strict", "replace")
    )


@dataclass
class TableOutput(Options):
    """How a command that prints scores or facts prints them."""

    format: str = opt("table", "table (on stdout) | json.", choices=("table", "json"))


def holdout_option(what: str):
    """`valid_fraction` of the tasks that hold out a random share of their training records."""
    return opt(
        0.0,
        f"Without `valid`: hold out this share of the training {what} (a seeded random choice).",
        panel="Data",
        min=0.0,
        max=0.5,
    )


@dataclass
class ModelArgument(Options):
    """The model file a use command reads."""

    model: str = opt(
        "",
        "A model file (.nlpk) of this task; sentiment, ner and translate also run a graph from nlpkit export "
        "(.onnx), translate and generate a CTranslate2 directory (export --format ctranslate2).",
        argument=1,
        metavar="MODEL",
    )


@dataclass
class BatchOptions(Options):
    """How a predict method batches what it reads (each task re-uses these with its own defaults)."""

    batch_tokens: int = opt(16384, "Tokens per batch (memory vs speed).", min=1)
    chunk_size: int = opt(
        4096,
        "Lines read, sorted by length and processed at a time (memory stays flat on any input).",
        min=1,
        flags=("--chunk-size", "--chunk-lines"),
    )


@dataclass
class InputOptions(ReadOptions):
    """The input of a predict command: files or stdin, one record a line, optionally one shard."""

    inputs: list[str] = opt(list, "Input files, one record a line ('-' or none: stdin).", argument=2, metavar="FILES")
    shard: str = opt(
        "",
        "Only the K-th of N parts of the input files (K from 1, as split -n l/K/N); the N outputs concatenated "
        "in order are the whole output. For job arrays and torchrun ranks.",
        metavar="K/N",
    )
    log_every: str = opt(
        "60s",
        "When stderr is not a terminal (or, training, with `log_format` json): a progress line this often, "
        "e.g. 30s, 5m; 0 = none (a training run still logs each evaluation).",
    )


@dataclass
class TrainOptions(Options):
    """What every `train` command and `nlpkit.train()` accept, whatever the task."""

    BATCH: typing.ClassVar[str] = "batch_size"  # the option that sizes batches (the data position counts them)

    train: list[str] = opt(
        list, "Training files ('-' for stdin); or use `dataset`.", argument=True, panel="Data", metavar="FILES"
    )
    out: str = opt("model.nlpk", "Model file to write.", flags=("--out", "-o"), writes="file")
    valid: list[str] | None = opt(None, "Validation file(s).", panel="Data")
    dataset: str | None = opt(
        None,
        "A 'datasets' source: hub name, data folder or data file (.txt/.json/.jsonl/.csv/.tsv/.parquet).",
        panel="Data",
    )
    dataset_config: str | None = opt(None, "The dataset's configuration name.", panel="Data")
    split: str = opt("train", "Dataset split to train on.", panel="Data")
    valid_split: str | None = opt(None, "Dataset split to validate on.", panel="Data")
    encoding_errors: str = reuse(ReadOptions, "encoding_errors")
    epochs: int = opt(0, "Epochs; 0 = 10, or unlimited under `max_steps`/`time_budget`.", panel="Training", min=0)
    max_steps: int = opt(0, "Stop after this many optimizer steps (0 = no limit).", panel="Training", min=0)
    time_budget: str = opt(
        "",
        "Stop after this wall time, e.g. 90s, 10m, 1h (evaluation included); the schedule anneals to it.",
        panel="Training",
    )
    batch_size: int = opt(32, "Sequences per batch.", panel="Training", min=1, tune={"choices": [16, 32, 64]})
    accumulate: int = opt(
        1,
        "Batches whose gradients make one optimizer step (a larger batch in the same memory); "
        "under torchrun, per process.",
        panel="Training",
        min=1,
    )
    average_last: int = opt(
        0,
        "Keep the average of the weights at the last N validations instead of the best ones (checkpoint averaging; 0 = off).",
        panel="Training",
        min=0,
    )
    lr: float = opt(
        0.0,
        "Peak learning rate; 0 = the task's default (AdamW 2e-3, SGD 20).",
        panel="Training",
        min=0.0,
        tune={"low": 1e-4, "high": 1e-2, "log": True},
    )
    optimizer: str = opt("adamw", "adamw | sgd.", panel="Training", choices=("adamw", "sgd"))
    schedule: str = opt(
        "cosine",
        "cosine | linear | constant | plateau (after warmup).",
        panel="Training",
        choices=("cosine", "linear", "constant", "plateau"),
        tune={"choices": ["cosine", "linear", "constant"]},
    )
    warmup: int = opt(0, "Warmup steps.", panel="Training", min=0)
    budget_recipe: str = opt(
        "auto",
        "auto: with `time_budget` and no model-size option (encoder, layers, hidden, embed, heads), start from the "
        "recipe measured for the task, tokenizer level, data size and budget (the start-up line names it; "
        "docs/tuning.md lists them); off: the plain defaults; or a recipe's name. Options you give override it.",
        panel="Training",
        metavar="auto|off|NAME",
    )
    weight_decay: float | None = opt(
        None,
        "Weight decay (default: 0.01 with AdamW, 0 with SGD).",
        panel="Training",
        min=0.0,
        tune={"low": 1e-4, "high": 0.1, "log": True},
    )
    clip: float = opt(
        1.0,
        "Clip the global gradient norm to this (0 = off); the share of clipped steps is reported.",
        panel="Training",
        min=0.0,
    )
    eval_every: int = opt(0, "Validate every N steps (0 = every epoch).", panel="Training", min=0)
    patience: int = opt(0, "Stop after N validations without improvement (0 = never).", panel="Training", min=0)
    asgd: int = opt(
        0,
        "Averaged SGD (NT-ASGD): once a validation is worse than the best of those more than N validations "
        "before it, average the weights of every later step; the average is validated and saved (0 = off; "
        "needs `optimizer` sgd).",
        panel="Training",
        min=0,
        metavar="N",
    )
    seed: int = opt(
        0, "Random seed; CPU runs without `time_budget` repeat exactly.", panel="Training", min=0, max=2**32 - 1
    )
    device: str = reuse(RunOptions, "device")
    precision: str = opt(
        "auto",
        "auto: bf16 autocast on CUDA, float32 on the CPU | bf16: bf16 autocast on the CPU too (with AMX an LSTM "
        "language model trained 1.41x as fast, smaller models slower; without, emulated and slow) | fp32: "
        "float32 everywhere. The weights stay float32 either way (docs/cli.md).",
        panel="Training",
        choices=("auto", "bf16", "fp32"),
    )
    threads: int = reuse(RunOptions, "threads")
    resume: bool = opt(
        False, "Continue from OUT.ckpt: weights, optimizer, schedule, RNG and data position.", panel="Training"
    )
    metrics_out: str | None = opt(
        None, "Also write the training metrics to this JSON file.", panel="Training", writes="file"
    )
    quiet: bool = reuse(RunOptions, "quiet")
    log_every: str = reuse(InputOptions, "log_every", panel="Logging")
    log_format: str = opt(
        "text",
        "text | json: one JSON object a line on stderr, on a terminal too (keys: docs/training-logs.md).",
        panel="Logging",
        choices=("text", "json"),
    )
    tensorboard: str | None = opt(
        None,
        "Also write TensorBoard scalars (each logging interval and evaluation) and the recipe to this folder "
        "(nlpkit[tensorboard]).",
        panel="Logging",
        metavar="DIR",
        writes="folder",
    )
    mlflow: bool = opt(
        False,
        "Also record the run in MLflow: the recipe as params, metrics per step, the model file as an artifact; "
        "to $MLFLOW_TRACKING_URI, else ./mlruns (nlpkit[mlflow]).",
        panel="Logging",
    )

    @property
    def batch(self) -> int:
        return getattr(self, self.BATCH)

    @batch.setter
    def batch(self, value: int) -> None:
        setattr(self, self.BATCH, value)

    def default_lr(self) -> float:
        """The learning rate when lr is 0: each task may choose its own."""
        return 20.0 if self.optimizer == "sgd" else 2e-3

    def check(self) -> None:
        from nlpkit.option_parsing import every_seconds, parse_duration

        try:
            parse_duration(self.time_budget) if self.time_budget else 0.0
        except ValueError as exc:
            raise ValueError(f"{option('time_budget')}: {exc}") from None
        every_seconds(self.log_every)
        if self.asgd and self.optimizer != "sgd":
            raise ValueError(f"{option('asgd')} averages the iterates of SGD: it needs {option('optimizer')} sgd")


def backward_lm_option():
    """`init_from_backward`, declared alike by the tasks that start from language models."""
    return opt(
        None,
        "A backward language model (lm train --direction backward, same vocabulary and sizes) whose embedding "
        "and encoder read the text right to left beside `init_from`'s: context from both sides.",
        panel="Transfer",
        metavar="LM.nlpk",
    )


@dataclass
class ModelOptions(TrainOptions):
    """The encoder options every task shares (defaults differ per task)."""

    encoder: str = opt("lstm", " | ".join(ENCODER_KINDS) + ".", panel="Model")
    layers: int = opt(2, "Encoder layers.", panel="Model", min=1, max=256, tune={"low": 1, "high": 3})
    hidden: int = opt(
        256,
        "Hidden size (Transformer: model width).",
        panel="Model",
        min=1,
        max=16384,
        tune={"choices": [64, 128, 256, 512]},
    )
    embed: int = opt(0, "Embedding size; 0 = same as `hidden`.", panel="Model", min=0, max=16384)
    dropout: float = opt(0.1, "Dropout.", panel="Model", min=0.0, max=0.95, tune={"low": 0.0, "high": 0.5})
    heads: int = opt(4, "Attention heads (Transformer).", panel="Model", min=1, max=1024)
    positions: str = opt(
        "learned", "sinusoidal | learned (Transformer).", panel="Model", choices=("sinusoidal", "learned")
    )
    min_freq: int = opt(1, "Word tokenizer: drop rarer words to <unk>.", panel="Model", min=1)
    embeddings: str | None = opt(
        None,
        "Start the word embedding from a vectors file: word2vec (text or binary), GloVe or fastText .vec, "
        "gzipped or not; its dimension sets `embed`. Needs tokenizer word (`nlpkit vectors train` makes one).",
        panel="Transfer",
        metavar="VECTORS",
    )
    freeze_embeddings: bool = opt(False, "Keep the vectors of `embeddings` fixed while training.", panel="Transfer")
    embeddings_max_words: int = opt(
        50_000,
        "After training, add the words of the vectors file's first N rows that training never saw, with their "
        "vectors, so they keep a meaning at prediction time (0: none; not for lm, nor a translation target).",
        panel="Transfer",
        min=0,
    )

    def check(self) -> None:
        super().check()
        init_from = getattr(self, "init_from", None)  # declared by the tasks that can start from a language model
        if init_from and self.embeddings:
            raise ValueError(
                f"{option('embeddings')} and {option('init_from')} both start the embedding: give one of them"
            )
        if getattr(self, "init_from_backward", None) and not init_from:
            raise ValueError(f"{option('init_from_backward')} goes beside {option('init_from')} (a forward model)")
