"""The task contract: what every task implements, and the loaded-model object users hold.

A task is one class. Its class side trains (read the data, build a new model from it, or take one
back from a checkpoint); its instances are trained models: `nlpkit.load(path)` returns one, and
`predict`, `evaluate` and `save` work on it. nlpkit.tasks.lifecycle runs the training of every
task through these methods, and nlpkit.training's Trainer drives the training adapter that
`training()` returns.
"""

from __future__ import annotations

import importlib
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from nlpkit.data.readers import chunks  # noqa: F401 - the tasks' import of it
from nlpkit.errors import NlpkitError
from nlpkit.options import TrainOptions

if TYPE_CHECKING:  # the engine imports torch; the contract is read without it
    from nlpkit.training_adapter import TrainingAdapter


class Task(ABC):
    """A trained model of one task, and the recipe for training one."""

    name: ClassVar[str]  # the task's name in the registry and the CLI group: "ner"
    file_task: ClassVar[str]  # the task a model file records: "tagger"
    Options: ClassVar[type[TrainOptions]]  # its training options
    title: ClassVar[str]  # what the training summary is called: "tagger training"
    files_module: ClassVar[str]  # its files module, with from_modelfile() and to_modelfile()

    def __init__(self, model, tokenizer, meta: dict | None = None, device=None):
        self.model = model  # the torch module, in eval mode
        self.tokenizer = tokenizer
        self.meta = meta or {}  # the model file's metadata: data, metrics, recipe, versions
        self.device = device if device is not None else next(model.parameters()).device
        self.result = None  # the TrainResult, on a model that was just trained
        self.quantized = False  # running int8 (nlpkit.quantize): for inference only
        self.vectors = None  # the word vectors the embedding started from, while training
        self.source = ""  # the file or folder nlpkit.load read it from: no output of its may go there
        self._runtime = ""  # set by nlpkit.export.auto on what it converted: "CTranslate2 float32"
        self.fallback = None  # with runtime "auto": loads the .nlpk in PyTorch, for what the runtime cannot do

    @property
    def runtime(self) -> str:
        """What runs the model: "PyTorch float32", "PyTorch int8", "CTranslate2 float32", ..."""
        if self._runtime:
            return self._runtime
        if not hasattr(self.model, "state_dict"):  # an export, loaded as one (nlpkit.export)
            return "CTranslate2" if getattr(self.model, "runtime", None) == "ctranslate2" else "onnxruntime"
        return f"PyTorch {'int8' if self.quantized else 'float32'}"

    @runtime.setter
    def runtime(self, value: str) -> None:
        self._runtime = value

    def exact_model(self, o):
        """The module that runs options `o` exactly: the runtime's, or, where `auto` chose a
        runtime that cannot honour one of them (nlpkit.export.auto), the .nlpk's own module in
        PyTorch from now on (said in one line). With the runtime named, its refusal is the error."""
        why = self.model.refuses(o) if hasattr(self.model, "refuses") else None
        if why is not None and self.fallback is None:
            raise NlpkitError(why)
        if why is not None:
            why = f"{why.split(': ', 1)[0]} is not run exactly by {self.runtime}"
        elif self.fallback is not None and hasattr(self.model, "slower"):  # auto: measured slower there
            why = self.model.slower(o)
        if why is None:
            return self.model
        from nlpkit.console import note

        self.in_torch()
        note(f"{self.source or 'the model'}: {why}; running it in PyTorch")
        return self.model

    def in_torch(self) -> bool:
        """Whether a torch module runs the model: true of a .nlpk, made true by loading its .nlpk
        in PyTorch where `runtime="auto"` chose another runtime; false of an export loaded as one."""
        if hasattr(self.model, "state_dict"):
            return True
        if self.fallback is None:
            return False
        torch_task = self.fallback()
        self.model, self.quantized, self.fallback, self.runtime = torch_task.model, torch_task.quantized, None, ""
        return True

    # ----- training: the class side ---------------------------------------------------------
    @classmethod
    @abstractmethod
    def read_data(cls, options) -> Any:
        """The training and validation data the options name, read and checked."""

    @classmethod
    @abstractmethod
    def build(cls, options, data) -> Task:
        """A new, untrained model (tokenizer included) sized for `data`."""

    @classmethod
    def resume(cls, saved, options) -> Task:
        """The model of a checkpoint being resumed; options the data position depends on (the
        batch size) are taken from the checkpoint."""
        task = cls.from_file(saved)
        task.model.train()
        options.batch = saved.meta.get("batch_size", options.batch)
        task.resume_embeddings(options)
        return task

    @abstractmethod
    def training(self, data, options) -> TrainingAdapter:
        """The training adapter over `data` (the model is already on self.device)."""

    def extra_meta(self) -> dict:
        """What this task's model files record beyond the model, tokenizer and training run."""
        return {"embeddings": self.meta["embeddings"]} if "embeddings" in self.meta else {}

    # ----- pretrained word vectors (nlpkit.vectors.pretrained) --------------------------------------
    def word_table(self):
        """(word tokenizer, nn.Embedding) that `embeddings` starts; the source side in translation."""
        return self.tokenizer, self.model.embedding

    def set_word_table(self, tokenizer, embedding) -> None:
        """Take a grown vocabulary and embedding (after training, nlpkit.vectors.pretrained.extend)."""
        self.tokenizer, self.model.embedding = tokenizer, embedding
        self.model.config.vocab_size = tokenizer.vocab_size

    def start_embeddings(self, vectors, options, texts=None, lowercase: bool = False, grow: bool = True) -> None:
        """Copy `vectors` into the word embedding (and freeze it if asked); record source, fingerprint
        and coverage for `nlpkit info`. `texts`: the training token lists, for token coverage;
        `grow`: whether the vocabulary takes the file's unseen words after training."""
        from nlpkit.vectors import pretrained as pv

        tokenizer, embedding = self.word_table()
        report = pv.initialise(embedding, tokenizer, vectors, texts)
        max_words = options.embeddings_max_words if grow else 0
        report.update(frozen=options.freeze_embeddings, max_words=max_words, lowercase=lowercase)
        if options.freeze_embeddings:
            pv.freeze(embedding)
        self.meta["embeddings"] = report
        self.vectors = vectors

    def resume_embeddings(self, options) -> None:
        """On resume: freeze again, and read the vectors again for the vocabulary growth at the end."""
        from nlpkit.console import warn
        from nlpkit.vectors import pretrained as pv

        report = self.meta.get("embeddings")
        if not report:
            return
        pv.mark_pretrained(self.word_table()[1])
        if report.get("frozen"):
            pv.freeze(self.word_table()[1])
        if report.get("max_words"):
            path = options.embeddings or report["source"]
            try:
                vectors = pv.read_for(path, self.word_table()[0], report["max_words"])
            except NlpkitError as exc:
                warn(f"the vocabulary will not grow by the vectors file's words: {exc}")
                return
            if vectors.sha256 != report["sha256"]:
                raise NlpkitError(f"{path}: not the vectors file this training started from (its sha256 differs)")
            self.vectors = vectors

    def finish_embeddings(self) -> None:
        """After training: add the vectors file's commonest unseen words to the vocabulary."""
        from nlpkit.vectors import pretrained as pv

        report = self.meta.get("embeddings")
        if self.vectors is None or not report or not report.get("max_words"):
            return
        tokenizer, embedding = self.word_table()
        grown = pv.extend(tokenizer, embedding, self.vectors, report, report["max_words"], report["lowercase"])
        self.set_word_table(*grown)
        self.vectors = None

    @property
    def parameter_count(self) -> int:
        """Trainable numbers in the model, a tied weight counted once."""
        return sum(p.numel() for p in self.model.parameters())  # parameters() yields a shared one once

    def describe(self, data, adapter) -> str:
        """One line on what is about to be trained."""
        return f"training {self.model.config.encoder.kind} {self.name} model: {self.parameter_count:,} parameters"

    def summary(self, result) -> list[tuple[str, str]]:
        """Task rows added to the training summary."""
        return []

    # ----- model files -------------------------------------------------------------------------
    @classmethod
    def from_file(cls, saved, device=None) -> Task:
        """The model stored in a loaded model file (nlpkit.modelfile.ModelFile), on `device`."""
        model, tokenizer = importlib.import_module(cls.files_module).from_modelfile(saved, device)
        return cls(model, tokenizer, saved.meta)

    def to_file(self, meta: dict):
        """A ModelFile of this model with `meta` added."""
        return importlib.import_module(self.files_module).to_modelfile(self.model, self.tokenizer, meta)

    def save(self, path, int8: bool = False) -> None:
        """Write the model file; with int8, its weight matrices as int8 rows (nlpkit.quantize)."""
        from nlpkit import quantize as q
        from nlpkit.modelfile import save
        from nlpkit.outputs import Output, claim

        if not isinstance(path, str | os.PathLike):
            raise NlpkitError(f"save: expected the path of the model file to write, got {path!r}")
        claim(outputs=[Output("out", os.fspath(path), required=True)])
        if not self.in_torch():  # an export run by onnxruntime or CTranslate2 (nlpkit.export)
            raise NlpkitError(
                "an exported model (ONNX graph or CTranslate2 directory) cannot be written as a model file: "
                "use the .nlpk it came from"
            )
        if self.quantized:
            raise NlpkitError("a model quantized for inference cannot be saved: save the float model (quantize='none')")
        if int8 and "quantized" in self.meta:  # quantizing again would round its rounded weights once more
            raise NlpkitError("this model was read from an int8 file (nlpkit quantize): its weights are int8 already")
        model_file = self.to_file({k: v for k, v in self.meta.items() if k != "quantized"})
        if int8:
            names = q.weight_matrices(self.model)
            model_file.tensors = q.to_int8(model_file.tensors, names)
            model_file.meta = {
                **model_file.meta,
                "quantized": {"scheme": q.SCHEME, "matrices": len(names)},
                "format_version": q.FORMAT_VERSION,
            }
        try:
            save(path, model_file)
        except OSError as exc:
            raise NlpkitError(f"{path}: cannot write the model file ({exc.strerror or exc})") from None

    def quantize(self) -> Task:
        """Run the linear and recurrent layers in int8 on the CPU from now on (dynamic quantization)."""
        from nlpkit.quantize import quantize_model

        if not self.in_torch():
            raise NlpkitError(
                "an exported ONNX graph runs as exported: quantize the .nlpk it came from, or export it with --int8"
            )
        self.model = quantize_model(self.model)
        self.quantized = True
        return self

    @property
    def recipe(self) -> dict:
        """The options this model was trained with (empty for files from before recipes)."""
        return dict(self.meta.get("recipe", {}))

    @property
    def metrics(self) -> dict:
        return self.meta.get("metrics", {})

    # ----- use -----------------------------------------------------------------------------------
    @abstractmethod
    def predict(self, items: Iterable, **options) -> Iterator:
        """One result per item, lazily, in input order; batched by length inside."""

    @abstractmethod
    def evaluate(self, data, **options) -> dict:
        """The metrics `nlpkit <task> eval --format json` prints, on files or records."""

    def __repr__(self) -> str:
        return f"<nlpkit {self.name} model: {self.model.config.encoder.kind} encoder on {self.device}>"


def checked(fn, *args, **kwargs):
    """Call fn, turning a ValueError (an impossible option value) into a one-line user error."""
    try:
        return fn(*args, **kwargs)
    except ValueError as exc:
        raise NlpkitError(str(exc)) from None


def records(items) -> Iterable:
    """`items` checked to be an iterable of records. A single text is refused, not read as its
    characters: `predict("some text")` would otherwise give one result per character."""
    if isinstance(items, str | bytes):
        raise NlpkitError(
            f"expected an iterable of texts, got a single {type(items).__name__}; give a list: predict([text])"
        )
    if not isinstance(items, Iterable):
        raise NlpkitError(f"expected an iterable of texts (a list, a file object, a generator), got {items!r}")
    return items


def texts(items: Iterable) -> Iterator[str]:
    """The items, each checked to be a text (what predict reads for most tasks)."""
    for number, item in enumerate(records(items), start=1):
        if not isinstance(item, str):
            raise NlpkitError(f"item {number}: expected a text (str), got {type(item).__name__}")
        yield item


def as_paths(data) -> list[str] | None:
    """A file name or a list of file names as a list of strings; None for in-memory records."""
    from pathlib import Path

    if isinstance(data, str | Path):
        return [str(data)]
    if isinstance(data, list | tuple) and data and all(isinstance(d, str | Path) for d in data):
        return [str(d) for d in data]
    return None
