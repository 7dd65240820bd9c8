"""Which runtime runs a .nlpk file: `--runtime auto|torch|ct2|onnx` (`runtime=` in nlpkit.load).

`auto` runs a model on the fastest runtime whose results are those of the .nlpk: a Transformer
language or translation model in CTranslate2 float32 (its export is checked to score within 1e-3
of PyTorch, and greedy and beam search give the same tokens), a classifier in onnxruntime float32
(checked within 1e-4); a tagger stays in PyTorch (onnxruntime was slower once loaded). It converts the file once, into the cache
(nlpkit.export.cache), and runs the conversion from then on. It keeps PyTorch where no faster
exact runtime applies: a recurrent model, a GPU, a file written by `nlpkit quantize`, a missing
extra, a cache it cannot write (said in one line), an option the runtime cannot honour exactly
(the first call with it switches the model to PyTorch, said in one line).

int8 stays opt-in (`quantize="int8"`): `auto` then measures, once per model and CPU, PyTorch's
dynamic int8 against the runtime's int8 form on a short run of the task, remembers the faster in
the cache and runs it (without VNNI, CTranslate2's int8 kernels can be slower than its float ones).
"""

from __future__ import annotations

import importlib.util
import os
import time

from nlpkit.console import note, warn
from nlpkit.errors import NlpkitError, option
from nlpkit.export import cache

RUNTIMES = ("auto", "torch", "ct2", "onnx")
# What auto tries per task: where the runtime was measured faster than PyTorch float32 (a tagger's
# BiLSTM-CRF ran slower in onnxruntime than in PyTorch once loaded, bench/results/ner-speed.md of
# 2026-12-06: 12,592 against 17,756 words/s, so taggers stay in PyTorch; `--runtime onnx` still runs them).
FORMS = {"lm": "ct2", "translate": "ct2", "sentiment": "onnx"}
EXTRAS = {"ct2": ("ctranslate2", "pip install 'nlpkit[ct2]'"), "onnx": ("onnxruntime", "pip install 'nlpkit[onnx]'")}
NAMES = {"ct2": "CTranslate2", "onnx": "onnxruntime", "torch": "PyTorch"}


def load(path: str, name: str, meta: dict, runtime: str, device: str, quantize: str, threads, torch_load):
    """The task of the .nlpk at `path` (a `name` model, header `meta`) on the runtime `runtime`
    picks; `torch_load(quantize)` loads it in PyTorch, as nlpkit.load always did."""
    form = FORMS.get(name) if runtime == "auto" else runtime
    if runtime == "torch" or form is None:  # auto: no runtime was measured faster for this task
        return torch_load(quantize)
    int8, digest = quantize == "int8", None
    why = _not_here(form, name, meta, _device_kind(device), runtime)
    if why is None:
        digest = cache.content_hash(path)
        refused = cache.recalled(digest, _variant(form, int8))  # converting it failed before: it fails again
        why = refused if isinstance(refused, str) else None
    if why is not None:
        if runtime == "auto":
            return torch_load(quantize)
        raise NlpkitError(f"{path}: {option('runtime')} {runtime}: {why}")
    if int8 and runtime == "auto":
        return _fastest_int8(path, name, form, digest, device, threads, torch_load)
    return _converted(path, name, form, digest, device, threads, torch_load, int8, runtime == "auto")


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # an import hook that refuses it outright: not usable here either
        return False


def _device_kind(device: str) -> str:
    """ "cpu" or "cuda" for a --device value, importing torch (a second of start-up, which a
    tagger run by onnxruntime never needs) only where a GPU may be there."""
    if device == "cpu" or device.startswith("cuda"):
        return "cpu" if device == "cpu" else "cuda"
    if not any(os.path.exists(p) for p in ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/dxg")):
        return "cpu"
    from nlpkit.device import resolve_device

    return resolve_device(device).type


RUNS = {"ct2": ("lm", "translate"), "onnx": ("sentiment", "ner", "translate")}  # what each runtime runs in nlpkit


def _not_here(form: str, name: str, meta: dict, device: str, runtime: str) -> str | None:
    """Why `form` cannot run this model here (None: it may), from what is known before reading
    the weights; what only the model can say (a recurrent encoder) is found when converting."""
    if name not in RUNS[form]:
        return f"{NAMES[form]} runs {', '.join(RUNS[form])} models in nlpkit; this is a {name} model"
    module, extra = EXTRAS[form]
    if not _installed(module):
        return f"running it in {NAMES[form]} needs {module}: {extra}"
    if device == "cuda" and (form == "onnx" or runtime == "auto"):
        return "on a GPU it runs in PyTorch" if runtime == "auto" else "ONNX graphs run on the CPU in nlpkit"
    if meta.get("quantized") is not None:
        return "a file written by `nlpkit quantize` holds int8 weights; convert the float model it came from"
    if meta.get("ensemble") is not None:
        return "an ensemble runs in PyTorch"
    model = meta.get("model") if isinstance(meta.get("model"), dict) else {}
    encoder = model.get("encoder") if isinstance(model.get("encoder"), dict) else {}
    if form == "ct2" and encoder.get("kind") != "transformer":
        return f"CTranslate2 runs Transformers; this is a {encoder.get('kind', 'recurrent')} model (it runs in PyTorch)"
    if form == "ct2" and name == "lm" and (model.get("adaptive_cutoffs") or meta.get("direction") == "backward"):
        return "CTranslate2 runs forward language models with a full softmax"
    return None


def _converted(path, name, form, digest, device, threads, torch_load, int8: bool, auto: bool):
    """The model run from its cached conversion (built first when missing), with the .nlpk in
    PyTorch as the fallback `auto` switches to for an option the runtime cannot honour; with
    `auto`, the .nlpk in PyTorch when it cannot be converted."""
    variant = _variant(form, int8)
    place = cache.find(digest, variant, on_refused=warn)
    if place is None:
        loaded = torch_load("none")
        try:
            place = _build(loaded, form, digest, variant, path, int8)
        except cache.CacheUnavailable as exc:
            if auto:
                warn(f"{path}: running in PyTorch ({exc})")
                return loaded.quantize() if int8 else loaded
            place = _build_for_now(loaded, form, path, int8, str(exc))
        except Exception as exc:  # the exporter's refusal (or its failure): this model does not run there
            why = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
            cache.remember(digest, variant, why)
            if auto:
                return loaded.quantize() if int8 else loaded
            raise NlpkitError(f"{path}: {option('runtime')} {form}: {why}") from None
        del loaded
    task = _open(place, name, form, device, "int8" if int8 else "none", threads)
    if auto:
        task.fallback = lambda: torch_load("int8" if int8 else "none")
    task.runtime = _label(form, int8)
    task.quantized = int8  # for inference only, as PyTorch's int8 (save() refuses it the same way)
    return task


def _variant(form: str, int8: bool) -> str:
    """The conversion's name in the cache: CTranslate2 picks int8 when it loads a float32 one;
    an int8 ONNX graph is a graph of its own."""
    return form + ("-int8" if int8 and form == "onnx" else "")


def _label(form: str, int8: bool) -> str:
    return f"{NAMES[form]} {'int8' if int8 else 'float32'}"


def _build(model, form: str, digest: str, variant: str, path, int8: bool):
    """Convert `model` into the cache (checked against PyTorch as `nlpkit export` checks it)."""

    def write(staging) -> dict:  # called only where no other process has built it meanwhile
        note(
            f"{path}: converting it for {NAMES[form]} into {cache.root()} (once; --runtime torch runs the .nlpk as it is)"
        )
        return _write(model, form, staging, int8)

    return cache.build(digest, variant, write, on_refused=warn)


def _write(model, form: str, staging, int8: bool) -> dict:
    if form == "ct2":
        from nlpkit.export import ct2

        def verify(folder) -> dict:
            difference = ct2.check_export(model, folder)
            if not difference <= ct2.TOLERANCE:
                raise NlpkitError(f"CTranslate2 and PyTorch disagree by {difference:.2g}")
            return {"difference": difference}

        about = ct2.export_ct2(model, staging / "ct2", verify=verify)
        for part in (staging / "ct2").iterdir():  # the conversion's files sit in one flat folder
            part.rename(staging / part.name)
        (staging / "ct2").rmdir()
        return {"difference": about["difference"]}
    from nlpkit.export import graphs

    checked = graphs.export_onnx(model, staging / "model.onnx", int8=int8)
    return {"difference": checked.get("max_difference")}


def _build_for_now(model, form: str, path, int8: bool, why: str):
    """A conversion for this process only (removed at exit), when the cache cannot hold one."""
    import atexit
    import shutil
    import tempfile
    from pathlib import Path

    place = Path(tempfile.mkdtemp(prefix="nlpkit-conversion-"))
    atexit.register(shutil.rmtree, place, True)
    warn(f"{path}: {why}; converting it for this run only")
    _write(model, form, place, int8)
    return place


def _open(place, name, form, device, quantize, threads):
    if form == "ct2":
        from nlpkit.export.ct2_runtime import load_ct2

        return load_ct2(place, task=name, device=device, quantize=quantize, threads=threads)
    from nlpkit.export.runtime import load_onnx

    return load_onnx(place / "model.onnx", task=name, device=device, threads=threads)


# ----- int8: the faster form, measured once --------------------------------------------------------


def _fastest_int8(path, name, form, digest, device, threads, torch_load):
    """PyTorch's int8 or the runtime's, whichever ran a short piece of the task faster on this
    CPU (measured on first use, remembered in the cache under the CPU's name)."""
    key = f"int8 on {_cpu()}"
    chosen = cache.recalled(digest, key)
    if chosen == "torch":
        return torch_load("int8")
    converted = _converted(path, name, form, digest, device, threads, torch_load, True, True)
    if chosen == form or converted.fallback is None:  # chosen before, or not convertible: PyTorch int8
        return converted
    note(f"{path}: measuring PyTorch int8 against {converted.runtime} on this CPU (once)")
    torch_int8 = converted.fallback()
    times = {form: _timed(converted), "torch": _timed(torch_int8)}
    winner = min(times, key=times.get)
    cache.remember(digest, key, winner)
    cache.remember(digest, f"{key}: seconds", times)
    note(f"{path}: int8 runs in {NAMES[winner]} here ({', '.join(f'{NAMES[k]} {v:.3f} s' for k, v in times.items())})")
    return torch_int8 if winner == "torch" else converted


def _cpu() -> str:
    """The CPU's model name and whether it has VNNI (what decides int8 speed)."""
    import platform

    name, vnni = platform.processor() or platform.machine(), False
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name") and ":" in line:
                    name = line.split(":", 1)[1].strip()
                if line.startswith("flags") and ":" in line:
                    vnni = "vnni" in line
                    break
    except OSError:
        pass
    return f"{name}{' (VNNI)' if vnni else ''}"


def _timed(task) -> float:
    """Seconds for a short piece of the task's work, the best of three (after one warm-up)."""
    run = _workload(task)
    run()
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return best


def _workload(task):
    """A piece of work of the kind the task does, on text made of its own vocabulary."""
    name = task.name
    if name == "lm":
        return lambda: task.generate("", max_new_tokens=48, temperature=0.0, seed=0)
    tokenizer = task.tokenizers.src if name == "translate" else task.tokenizer
    size = getattr(tokenizer, "vocab_size", 0) or len(tokenizer)
    text = tokenizer.decode([4 + (i * 37) % max(1, size - 4) for i in range(24)])
    lines = [text] * (4 if name == "translate" else 64)
    return lambda: list(task.predict(lines))


def describe(path: str, meta: dict) -> str:
    """What `runtime="auto"` runs the .nlpk at `path` on, on this machine's CPU (`nlpkit info`)."""
    from nlpkit import tasks

    name = tasks.FILE_TASKS.get(meta.get("task"), meta.get("task"))
    form = FORMS.get(name)
    plain = f"PyTorch {'int8' if meta.get('quantized') is not None else 'float32'}"
    why = _not_here(form, name, meta, _device_kind("auto"), "auto") if form else "measured the fastest for this task"
    if why is not None:
        return f"{plain} ({why})"
    digest = cache.content_hash(path)
    refused = cache.recalled(digest, _variant(form, False))
    if isinstance(refused, str):
        return f"{plain} (converting it failed: {refused})"
    place = cache.folder(digest, form)
    if not place.is_dir():
        where = f"converted on first use into {cache.root()}"
    elif cache.valid(place, digest) is None:
        where = f"converted, in {place}"
    else:
        where = "converted again on first use: the cached conversion fails its check"
    return f"{_label(form, False)} ({where}; --runtime torch: {plain})"
