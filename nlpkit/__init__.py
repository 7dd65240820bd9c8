"""nlpkit: train, evaluate and run neural sequence models from the shell and from Python.

    import nlpkit
    model = nlpkit.load("sst2.nlpk")                  # the task comes from the file
    for result in model.predict(["a fine film", "dull"]):
        print(result["label"], result["prob"])
    nlpkit.train("ner", train="train.conll", valid="dev.conll", crf=True, time_budget="20m", out="m.nlpk")

Importing the package is cheap on purpose: torch and datasets are imported by the modules
that need them, so `nlpkit --help` answers without loading either.
"""

import os

from nlpkit.errors import NlpkitError

__version__ = "0.1.0"


def load(
    path,
    device: str = "auto",
    threads: int | None = None,
    task: str | None = None,
    quantize: str = "auto",
    runtime: str = "auto",
):
    """The model in a model file, as its task's object (nlpkit.tasks.contract.Task): an
    nlpkit.tasks.lm.task.LanguageModelTask, sentiment.SentimentTask, ner.NERTask or
    translate.TranslationTask, on `device` (auto | cpu | cuda). `threads` sets torch's CPU
    threads (0: $NLPKIT_THREADS, else the cores free now); None leaves them as they are. With
    `task` (lm | sentiment | ner | translate), a model of another task is refused. `quantize`:
    int8 runs the linear and recurrent layers in int8 on the CPU (an error elsewhere), auto does
    so for a file written by `nlpkit quantize` when on the CPU, none runs float32. `runtime`
    (auto | torch | ct2 | onnx) picks what runs a .nlpk file: auto, the fastest runtime that gives
    its results (nlpkit.export.auto; `model.runtime` says which ran). A .onnx file written by
    `nlpkit export` (sentiment, ner, translate) runs in onnxruntime on the CPU; a directory
    written by `nlpkit export --format ctranslate2` (Transformer translation models and language
    models) runs in CTranslate2, where `quantize` int8 / none picks its compute type."""
    from nlpkit import tasks
    from nlpkit.modelfile import read_header
    from nlpkit.options import LoadOptions

    path = _model_path(path)
    given = {
        "device": device,
        "quantize": quantize,
        "runtime": runtime,
        **({"threads": threads} if threads is not None else {}),
    }
    checked = LoadOptions.create(given)
    device, quantize = checked.device, checked.quantize
    expected = tasks.get(task) if task is not None else None  # an unknown name fails before any reading
    kind = "ct2" if os.path.isdir(path) else "onnx" if str(path).endswith(".onnx") else None
    if kind is not None and checked.runtime not in ("auto", kind):  # an export runs on its own runtime
        raise NlpkitError(f"{path}: an export for {kind}; runtime={checked.runtime!r} applies to .nlpk files")
    if kind == "ct2":  # a directory written by `nlpkit export --format ctranslate2`
        from nlpkit.export.ct2_runtime import load_ct2

        return _from(path, load_ct2(path, task=task, device=device, quantize=quantize, threads=threads))
    if kind == "onnx":  # a graph written by `nlpkit export`, run by onnxruntime
        from nlpkit.export.runtime import load_onnx

        return _from(path, load_onnx(path, task=task, device=device, quantize=quantize, threads=threads))
    meta = read_header(path)
    found = tasks.FILE_TASKS.get(meta.get("task"), meta.get("task"))
    if expected is not None and meta.get("task") != expected.file_task:  # named the way the commands name it
        raise NlpkitError(f"{path}: a model for 'nlpkit {found}', not for 'nlpkit {expected.name}'")

    def in_torch(quantize: str):
        return _from(path, _load_torch(path, device, threads, quantize))

    if checked.runtime == "torch" or found not in tasks.FILE_TASKS.values():
        return in_torch(quantize)
    from nlpkit.export.auto import load as on_runtime

    return _from(path, on_runtime(str(path), found, meta, checked.runtime, device, quantize, threads, in_torch))


def _load_torch(path, device: str, threads, quantize: str):
    """The .nlpk at `path` in PyTorch: float32, or int8 as `quantize` says (nlpkit.quantize)."""
    from nlpkit import tasks
    from nlpkit import threads as cpu_threads
    from nlpkit.device import resolve_device
    from nlpkit.modelfile import load as read
    from nlpkit.quantize import wanted

    if threads is not None:
        cpu_threads.apply(threads)
    saved = read(path)
    where = resolve_device(device)
    int8 = wanted(quantize, where, bool(saved.meta.get("quantized")))
    model = tasks.get(saved.task).from_file(saved, where)
    return model.quantize() if int8 else model


def _from(path, model):
    model.source = os.fspath(path)
    return model


def train(task: str, recipe: str | None = None, **options):
    """Train a model of `task` (lm | sentiment | ner | translate), write it to `out` and return
    it (`out` defaults to TASK.nlpk in the current folder; the start-up line names the file).
    Options are the `train` command's, as keyword arguments (time_budget="20m", crf=True);
    `recipe` names a TOML recipe file whose options the keyword arguments override. With a
    time budget and no model-size option, training starts from the recipe measured for the
    budget (`budget_recipe`, nlpkit.budget_recipes)."""
    from nlpkit import tasks
    from nlpkit.budget_recipes import resolve
    from nlpkit.option_parsing import read_recipe
    from nlpkit.tasks.lifecycle import train as run

    cls = tasks.get(task)
    values = {}
    if recipe is not None:
        raw = read_recipe(recipe)
        cls.Options.create(raw, where=recipe)  # a bad key is named with the recipe's path
        values = {str(k).replace("-", "_"): v for k, v in raw.items()}  # so that keywords override them
    given = {**values, **{str(k).replace("-", "_"): v for k, v in options.items()}}
    cls.Options.create(given)  # a bad option is named before the budget's recipe is chosen by it
    given, _ = resolve(cls, given)  # the budget's measured recipe beneath what was given
    return run(cls, cls.Options.create(given), str(recipe) if recipe is not None else None)


def tune(task: str, recipe: str | None = None, **options) -> dict:
    """Search the recipe of `task` for a budget with Optuna (nlpkit.tuning.tune; needs
    nlpkit[tune]): `nlpkit tune TASK`'s options as keyword arguments, e.g.
    tune("lm", train="input.txt", valid_fraction=0.1, trial_budget="2m", budget="1h")."""
    from nlpkit.tuning import tune as search

    return search(task, recipe, **options)


def serve(models, **options) -> None:
    """Serve `models` (paths, or "NAME=PATH") over HTTP until SIGTERM or Ctrl-C (nlpkit.serve;
    needs nlpkit[serve]): `nlpkit serve`'s options as keyword arguments (host, port, ...)."""
    from nlpkit.serve import serve as run

    run(models, **options)


def ensemble(models, out=None, device: str = "auto"):
    """A sentiment model that predicts the average class probabilities of `models` (paths of
    .nlpk sentiment models, or loaded ones; an ensemble among them brings its members), written
    to `out` when given, on `device`. The members must share labels and tokenizer (train them
    on the same data with the same tokenizer options, e.g. from different seeds)."""
    from collections.abc import Iterable
    from pathlib import Path

    from nlpkit.device import resolve_device
    from nlpkit.options import LoadOptions
    from nlpkit.outputs import Output, claim
    from nlpkit.tasks.sentiment.ensemble_members import combine

    if isinstance(models, str | Path) or not isinstance(models, Iterable):
        raise NlpkitError(f"expected a list of sentiment models (paths or loaded ones), got {models!r}")
    device = LoadOptions.create({"device": device}).device  # a bad device fails before any member is read
    models = list(models)
    names = [str(m) if isinstance(m, str | Path) else f"model {n}" for n, m in enumerate(models, start=1)]
    if out is not None:  # a member or a folder is refused before any member is read
        if not isinstance(out, str | os.PathLike):
            raise NlpkitError(f"out: expected the path of the model file to write, got {out!r}")
        members = [m if isinstance(m, str | Path) else getattr(m, "source", "") for m in models]
        claim(inputs=members, outputs=[Output("out", os.fspath(out), required=True)])
    loaded = [
        load(m, device="cpu", task="sentiment", quantize="none", runtime="torch") if isinstance(m, str | Path) else m
        for m in models
    ]
    task = combine(loaded, names)
    if out is not None:
        task.save(out)
    where = resolve_device(device)
    task.model.to(where)
    task.device = where
    return task


def info(path) -> dict:
    """The metadata a model file (.nlpk) or exported graph (.onnx) holds, read from its header
    alone: task, config, tokenizer, training data, metrics, recipe and versions (what `nlpkit
    info --format json` prints, with the whole vocabulary), and for a .nlpk what `runtime="auto"`
    runs it on here ("runtime")."""
    from nlpkit.model_info import header

    return header(_model_path(path), runtime=True)


def _model_path(path) -> str:
    """`path` as a str, refused in one line unless it is a usable path name."""
    if not isinstance(path, str | os.PathLike):
        raise NlpkitError(f"expected the path of a model file, got {path!r}")
    text = os.fspath(path)
    if not isinstance(text, str) or not text or "\0" in text or len(text) > 4096:
        shown = repr(text[:60]) + ("..." if len(text) > 60 else "")
        raise NlpkitError(f"{shown}: not a usable model file name ({len(text):,} characters)")
    return text


__all__ = ["NlpkitError", "__version__", "ensemble", "info", "load", "serve", "train", "tune"]
