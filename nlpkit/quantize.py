"""int8 inference on the CPU: dynamic quantization of the linear and recurrent layers, and model
files that store those weights as int8.

Dynamic quantization (torch.ao) keeps each Linear's weights as int8 with one scale per output
row and each LSTM/GRU's as int8 per matrix, and quantizes the activations on the fly, batch by
batch; embeddings, norms and the CRF stay float. It runs on the CPU only (fbgemm/x86 or qnnpack
kernels). An output layer tied to the embeddings is given its own copy first and quantized too;
any other layer whose weight is shared stays float.

A quantized model file (`nlpkit quantize`) stores every weight matrix of those layers as int8
rows with a float scale each (symmetric, scale = max |row| / 127), about a quarter of the float
bytes; loading turns them back into float weights and, on the CPU, quantizes them again.
It is format version 2, so an nlpkit that predates it refuses it with a version error.
"""

from __future__ import annotations

import warnings

from nlpkit.errors import NlpkitError, option

MODES = ("auto", "none", "int8")
SCHEME = "int8-rows"
FORMAT_VERSION = 2


def available() -> bool:
    import torch

    return bool(torch.backends.quantized.supported_engines) and any(
        e in torch.backends.quantized.supported_engines for e in ("x86", "fbgemm", "qnnpack", "onednn")
    )


def wanted(mode: str, device, file_quantized: bool) -> bool:
    """Whether to run int8: `int8` asks for it (an error where it cannot run), `auto` takes it
    for a quantized file on the CPU and otherwise runs float32, `none` never."""
    if mode not in MODES:
        raise NlpkitError(f"{option('quantize')} {mode!r}: use {', '.join(MODES)}")
    if mode == "none":
        return False
    runnable = device.type == "cpu" and available()
    if mode == "int8" and not runnable:
        why = "it runs on the CPU only" if device.type != "cpu" else "this torch has no quantized CPU kernels"
        raise NlpkitError(f"{option('quantize')} int8: {why}; use {option('quantize')} auto to fall back to float32")
    return runnable and (mode == "int8" or file_quantized)


def quantizable(model) -> list[str]:
    """Names of the Linear, LSTM and GRU modules whose weights are their own (not tied)."""
    from torch import nn

    owners: dict[int, int] = {}
    for module in model.modules():
        for p in module.parameters(recurse=False):
            owners[id(p)] = owners.get(id(p), 0) + 1
    names = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear | nn.LSTM | nn.GRU):
            if all(owners[id(p)] == 1 for p in module.parameters(recurse=False)):
                names.append(name)
    return names


def quantize_model(model):
    """A dynamically quantized copy of `model` for CPU inference. An output layer tied to the
    embedding (the largest matrix of a language model or translator) gets its own copy first
    (the model's untie_for_inference()), so it runs in int8 too; the embedding stays float."""
    import copy

    import torch
    from torch import nn
    from torch.ao.quantization import default_dynamic_qconfig, per_channel_dynamic_qconfig, quantize_dynamic

    model = copy.deepcopy(model).cpu()
    if hasattr(model, "untie_for_inference"):
        model.untie_for_inference()
    modules = dict(model.named_modules())
    spec = {
        name: per_channel_dynamic_qconfig if isinstance(modules[name], nn.Linear) else default_dynamic_qconfig
        for name in quantizable(model)
    }
    with warnings.catch_warnings():  # torch.ao announces its move to torchao on every call
        warnings.simplefilter("ignore")
        quantized = quantize_dynamic(model, qconfig_spec=spec, dtype=torch.qint8, inplace=True)
    return quantized.eval()


# ----- model files ------------------------------------------------------------------------------


def weight_matrices(model) -> list[str]:
    """State-dict names of the weight matrices a quantized file stores as int8."""
    names = []
    for module_name in quantizable(model):
        module = model.get_submodule(module_name)
        for param_name, p in module.named_parameters(recurse=False):
            if p.dim() == 2 and param_name.startswith("weight"):
                names.append(f"{module_name}.{param_name}" if module_name else param_name)
    return names


def to_int8(tensors: dict, names: list[str], prefix: str = "model.") -> dict:
    """The file's tensors with each named float matrix replaced by NAME.int8 and NAME.scale."""
    import torch

    out = dict(tensors)
    for name in names:
        w = out.pop(prefix + name).float()
        scale = w.abs().amax(dim=1).clamp(min=1e-12) / 127
        out[f"{prefix}{name}.int8"] = torch.round(w / scale[:, None]).clamp(-127, 127).to(torch.int8)
        out[f"{prefix}{name}.scale"] = scale
    return out


def from_int8(weights: dict, where: str) -> dict:
    """Float weights back from a quantized file's NAME.int8 / NAME.scale pairs (checked)."""
    import torch

    out = {}
    for name, value in weights.items():
        if name.endswith(".scale"):
            continue
        if not name.endswith(".int8"):
            out[name] = value
            continue
        base = name[: -len(".int8")]
        scale = weights.get(base + ".scale")
        if value.dtype != torch.int8 or value.dim() != 2 or scale is None or tuple(scale.shape) != (value.shape[0],):
            raise NlpkitError(f"{where}: quantized weight {base!r} is malformed (int8 rows with one scale each)")
        out[base] = value.float() * scale.float()[:, None]
    return out
