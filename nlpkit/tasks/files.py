"""Model files of the tasks: weights, the model's config and its tokenizer (see modelfile)."""

from __future__ import annotations

import threading
from contextlib import contextmanager

from nlpkit.errors import NlpkitError


def to_modelfile(task: str, model, tokenizer, extra_meta: dict):
    from nlpkit.modelfile import ModelFile
    from nlpkit.text.tokenizers import tokenizer_to_file

    tok_meta, tok_tensors = tokenizer_to_file(tokenizer)
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    meta = {"model": model.config.to_dict(), "tokenizer": tok_meta, **extra_meta}
    return ModelFile(task, meta, {**tensors, **tok_tensors})


def load_weights(build, saved, device=None):
    """The model `build()` makes, filled from a model file (a checkpoint's best weights when it
    has them), in eval mode on `device`, with the file's tokenizer.

    A model file is untrusted input: the model its metadata describes is first built on the
    meta device (no memory) and its parameter names and shapes compared with the file's
    tensors, so a file can never make us allocate more than the weights it really holds."""
    import torch

    where = saved.path or "model file"
    prefix = "best." if any(k.startswith("best.") for k in saved.tensors) else "model."
    weights = {k[len(prefix) :]: v for k, v in saved.tensors.items() if k.startswith(prefix)}
    if saved.meta.get("quantized"):  # int8 rows and their scales back to float weights
        from nlpkit.quantize import from_int8

        weights = from_int8(weights, where)
    with torch.device("meta"), without_initialisers():
        expected = {k: tuple(v.shape) for k, v in described(build, where).state_dict().items()}
    found = {k: tuple(v.shape) for k, v in weights.items()}
    if expected != found:
        wrong = sorted(set(expected) ^ set(found)) or sorted(k for k in expected if expected[k] != found[k])
        raise NlpkitError(
            f"{where}: the weights do not fit the model its metadata describes "
            f"({len(wrong)} tensor(s) missing, extra or of another shape, e.g. {wrong[0]!r})"
        )
    with without_initialisers():  # every parameter and buffer is overwritten next (strict load)
        model = described(build, where)
    model.load_state_dict(weights)
    tokenizer = read_tokenizer(saved, "tokenizer", saved.tensors)
    if device is not None:
        model.to(device)
    return model.eval(), tokenizer


_INITIALISERS = ("normal_", "uniform_", "orthogonal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
                 "kaiming_normal_", "trunc_normal_", "zeros_", "ones_", "constant_")  # fmt: skip


_PATCH_LOCK = threading.Lock()


@contextmanager
def without_initialisers():
    """Build modules whose weights are about to be loaded without drawing random ones: the draws
    cost time, and on the meta device they go through torch's reference implementations, whose
    first use imports torch._dynamo (0.8 s of every command's start-up, measured). Only this
    thread skips them; any other thread building a model meanwhile initialises as usual."""
    import torch

    me = threading.get_ident()

    def skipping(original):
        def call(tensor, *args, **kwargs):
            return tensor if threading.get_ident() == me else original(tensor, *args, **kwargs)

        return call

    with _PATCH_LOCK:
        saved = {name: getattr(torch.nn.init, name) for name in _INITIALISERS}
        methods = {name: getattr(torch.Tensor, name) for name in ("normal_", "uniform_", "zero_", "fill_")}
        try:
            for name, fn in saved.items():
                setattr(torch.nn.init, name, skipping(fn))
            for name, fn in methods.items():
                setattr(torch.Tensor, name, skipping(fn))
            yield
        finally:
            for name, fn in saved.items():
                setattr(torch.nn.init, name, fn)
            for name, fn in methods.items():
                setattr(torch.Tensor, name, fn)


def described(build, where: str):
    """build(), with any failure of malformed metadata (missing keys, wrong types, impossible
    sizes) reported as the file's problem."""
    try:
        return build()
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RuntimeError, OverflowError) as exc:
        raise NlpkitError(
            f"{where}: the metadata does not describe a valid model ({type(exc).__name__}: {exc})"
        ) from None


def read_tokenizer(saved, key: str, tensors: dict):
    """The tokenizer stored under meta[key] (its blob in `tensors`), or a one-line error."""
    from nlpkit.text.tokenizers import tokenizer_from_file

    try:
        return tokenizer_from_file(saved.meta[key], tensors)
    except Exception as exc:  # sentencepiece and malformed metadata fail in many ways; all mean the same
        where = saved.path or "model file"
        raise NlpkitError(f"{where}: the tokenizer in the file is unreadable ({type(exc).__name__}: {exc})") from None
