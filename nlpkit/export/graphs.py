"""`nlpkit export MODEL --format onnx`: a model's forward pass as one ONNX graph.

Exported: the sentiment classifier (tokens, lengths -> logits), the NER tagger's emissions
(words, chars, lengths -> emissions; the CRF or constrained Viterbi decodes them outside the
graph) and language-model scoring (tokens, lengths -> log-probabilities of every next token).
Translation is two graphs, the encoder and one decoder step, with beam search outside them
(nlpkit.export.translation); the step graph is the file's, the encoder's travels in its metadata.

Batch size and length stay free in the graph: recurrent layers run unpacked while tracing
(nlpkit.encoders.unpacked). The file carries, in its metadata, the model file without the
weights the graph holds (tokenizer, labels, config, CRF), so `nlpkit.load("m.onnx")` and the
predict commands run it like the .nlpk it came from. Every export is checked: the graph and
PyTorch must agree on a batch of another shape than the one traced.
"""

from __future__ import annotations

import base64
import copy
import io
import warnings
from pathlib import Path

import torch
from torch import nn

from nlpkit.errors import NlpkitError
from nlpkit.export import GRAPH_KEY, METADATA_KEY
from nlpkit.export.examples import example_tokens

OPSET = 17
TOLERANCE = 1e-4  # largest difference allowed between the graph's outputs and PyTorch's
INT8_TOLERANCE = 0.1  # an int8 graph's, as a share of the outputs' largest magnitude
EXPORTABLE = ("sentiment", "ner", "lm", "translate")


class ClassifierGraph(nn.Module):
    inputs, outputs = ("tokens", "lengths"), ("logits",)
    axes = {"tokens": {0: "batch", 1: "time"}, "lengths": {0: "batch"}, "logits": {0: "batch"}}
    kept = ()  # model tensors the runtime needs beside the graph
    padded_outputs = True  # per-position outputs (3-d) are compared at real positions only (the last input: lengths)

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, tokens, lengths):
        return self.model(tokens, lengths)

    def example(self, batch: int, time: int) -> tuple:
        return example_tokens(self.model.config.vocab_size, batch, time)


class TaggerGraph(ClassifierGraph):
    inputs, outputs = ("words", "chars", "lengths"), ("emissions",)
    axes = {
        "words": {0: "batch", 1: "time"},
        "chars": {0: "batch", 1: "time", 2: "word_chars"},
        "lengths": {0: "batch"},
        "emissions": {0: "batch", 1: "time"},
    }
    kept = ("crf.",)

    def forward(self, words, chars, lengths):
        return self.model.emissions(words, chars, lengths)

    def example(self, batch: int, time: int) -> tuple:
        words, lengths = example_tokens(self.model.config.vocab_size, batch, time)
        chars = torch.randint(1, len(self.model.config.chars) + 2, (batch, time, 5))
        chars[:, :, 3:] = 0  # words shorter than the longest
        chars[words == 0] = 0
        return words, chars, lengths


class LanguageModelGraph(ClassifierGraph):
    outputs = ("log_probs",)
    axes = {"tokens": {0: "batch", 1: "time"}, "lengths": {0: "batch"}, "log_probs": {0: "batch", 1: "time"}}

    def forward(self, tokens, lengths):
        logits, _ = self.model(tokens, None, lengths)
        return torch.log_softmax(logits.float(), dim=-1)


def _step_graph(model):
    from nlpkit.export.translation import StepGraph

    return StepGraph(model)


GRAPHS = {"sentiment": ClassifierGraph, "ner": TaggerGraph, "lm": LanguageModelGraph, "translate": _step_graph}


def graph_for(task) -> ClassifierGraph:
    """The exportable wrapper of a loaded task's model, or a one-line refusal."""
    if task.name not in GRAPHS:
        raise NlpkitError(f"a {task.name} model cannot be exported to ONNX (exportable: {', '.join(EXPORTABLE)})")
    if task.quantized:
        raise NlpkitError("export the float model: load it with quantize='none'")
    from nlpkit.encoders.unpacked import prepare

    model = copy.deepcopy(task.model).cpu().float().eval()
    return prepare(GRAPHS[task.name](model)).eval()


def export_onnx(task, out: str | Path, int8: bool = False) -> dict:
    """Write `task`'s model to `out` as an ONNX graph with the model file's metadata; returns
    what was checked ({"max_difference", "inputs", "outputs"}, and "int8_difference" with int8;
    the largest over the graphs where a model is two).

    With int8 the float graph is checked first, then quantized by onnxruntime (dynamic: int8
    weights per output channel, activations quantized on the fly) and its difference from
    PyTorch reported; it must stay below INT8_TOLERANCE of the outputs' largest magnitude."""
    from nlpkit.outputs import write_atomically

    check_target(out)
    import onnx

    graph = graph_for(task)
    result = {"max_difference": 0.0, "inputs": list(graph.inputs), "outputs": list(graph.outputs)}
    if int8:
        result["int8_difference"] = 0.0
    metadata = {GRAPH_KEY: task.name, METADATA_KEY: _modelfile_without_graph(task, graph.kept, int8)}
    if task.name == "translate":
        from nlpkit.export.translation import ENCODER_KEY

        encoder = _checked(graph.encoder, to_onnx(graph.encoder), int8, result)
        metadata[ENCODER_KEY] = base64.b64encode(encoder).decode("ascii")
    proto = onnx.load_from_string(to_onnx(graph))
    _set_metadata(proto, metadata)
    write_atomically(out, _checked(graph, proto.SerializeToString(), int8, result))
    return result


def check_target(out: str | Path) -> None:
    """What is refused before any model is read: a name without .onnx, a missing onnx/onnxruntime."""
    import importlib.util

    if Path(out).suffix != ".onnx":
        raise NlpkitError(f"{out}: an ONNX graph is written to a .onnx file (that is how nlpkit tells it apart)")
    missing = [name for name in ("onnx", "onnxruntime") if importlib.util.find_spec(name) is None]
    if missing:
        raise NlpkitError(f"export needs {' and '.join(missing)}: pip install 'nlpkit[onnx]'")


def export_file(model_path: str | Path, out: str | Path = "", int8: bool = False) -> tuple[Path, dict]:
    """Export the model file at `model_path` (`nlpkit export`): the graph's path (default: the
    model's with .onnx) and what export_onnx checked. Refused before the model is read: an
    .onnx model, a wrong suffix, a missing onnx/onnxruntime."""
    import nlpkit
    from nlpkit.console import warn
    from nlpkit.outputs import Output, claim

    target = Path(out or Path(model_path).with_suffix(".onnx"))
    if str(model_path).endswith(".onnx"):
        raise NlpkitError(f"{model_path}: already an ONNX graph; export the .nlpk file it came from")
    if Path(model_path).is_dir():
        raise NlpkitError(f"{model_path}: a CTranslate2 export (a folder); export the .nlpk file it came from")
    check_target(target)
    claim(inputs=[model_path], outputs=[Output("out", str(target), required=True)])
    model = nlpkit.load(model_path, device="cpu", threads=0, quantize="none", runtime="torch")
    if "quantized" in model.meta and not int8:
        warn(f"{model_path} holds int8 weights: the graph gets them as float32 (--int8 makes an int8 graph)")
    return target, export_onnx(model, target, int8=int8)


def summary(target: Path, checked: dict) -> str:
    """What `nlpkit export` says of a graph it wrote."""
    agreement = f"agrees with PyTorch within {checked['max_difference']:.1g}"
    if "int8_difference" in checked:
        agreement = f"int8; the float graph {agreement}, the int8 one within {checked['int8_difference']:.2g}"
    graph = f"{', '.join(checked['inputs'])} -> {', '.join(checked['outputs'])}"
    return f"{target}: {target.stat().st_size / 1e6:,.2f} MB ONNX graph ({graph}), {agreement}"


def _checked(graph, data: bytes, int8: bool, result: dict) -> bytes:
    """The graph's bytes once checked against PyTorch (and quantized and checked again, with
    int8); the differences found go into `result`."""
    difference, scale = check(graph, data)
    if difference > TOLERANCE:
        raise NlpkitError(f"the exported graph disagrees with PyTorch by {difference:.2g}; nothing was written")
    result["max_difference"] = max(result["max_difference"], difference)
    if not int8:
        return data
    try:
        data = dynamic_int8(data)
        difference, _ = check(graph, data)
    except Exception as exc:  # onnxruntime's quantizer or runtime refusing the graph it made
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise NlpkitError(f"onnxruntime could not quantize this graph ({first}); export it without --int8") from None
    if difference > INT8_TOLERANCE * scale:
        raise NlpkitError(
            f"the int8 graph differs from PyTorch by {difference:.2g} (outputs up to "
            f"{scale:.2g}): too much to trust; export it without --int8. Nothing was written"
        )
    result["int8_difference"] = max(result["int8_difference"], difference)
    return data


def dynamic_int8(data: bytes) -> bytes:
    """The graph with its MatMul and LSTM weights in int8 (onnxruntime's dynamic quantization,
    per channel, 7-bit range: on x86 CPUs without VNNI, such as an AVX2-only AMD EPYC, full 8-bit
    weights saturate onnxruntime's u8 x s8 products and a tagger's int8 graph differed from PyTorch
    by 0.14 of 0.92; a graph exported on one machine must run right on any); the metadata travels
    with it. Convolutions (the tagger's character CNN) stay
    float32: onnxruntime's ConvInteger made CoNLL tagging 1.5x slower than the float Conv."""
    import logging
    import tempfile

    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as folder:
        src, dst = Path(folder) / "float.onnx", Path(folder) / "int8.onnx"
        src.write_bytes(data)
        quiet = logging.getLogger().level
        logging.getLogger().setLevel(logging.ERROR)  # its advice to pre-process is for vision models
        try:
            quantize_dynamic(
                src,
                dst,
                weight_type=QuantType.QInt8,
                per_channel=True,
                reduce_range=True,
                op_types_to_quantize=["MatMul", "LSTM"],
            )
        finally:
            logging.getLogger().setLevel(quiet)
        return dst.read_bytes()


def to_onnx(graph: ClassifierGraph) -> bytes:
    """The traced graph as ONNX bytes, its batch and length axes left free."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer and deprecation warnings say nothing to a user
        torch.onnx.export(
            graph,
            graph.example(4, 9),
            buffer,
            dynamo=False,  # the TorchScript exporter maps recurrent layers to ONNX's own LSTM/GRU/RNN
            input_names=list(graph.inputs),
            output_names=list(graph.outputs),
            dynamic_axes=graph.axes,
            opset_version=OPSET,
        )
    return buffer.getvalue()


def check(graph: ClassifierGraph, data: bytes) -> tuple[float, float]:
    """Largest absolute difference between onnxruntime and PyTorch over the graph's outputs, on
    inputs of a shape the graph was not traced with, and the largest magnitude of PyTorch's.
    A boolean output (a mask) must be equal: any difference counts as infinite."""
    import onnxruntime as ort

    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    torch.manual_seed(1)
    inputs = graph.example(7, 13)
    with torch.no_grad():
        expected = graph(*inputs)
    expected = expected if isinstance(expected, tuple) else (expected,)
    takes = {i.name for i in session.get_inputs()}  # an input the model never reads is left out of the graph
    got = session.run(None, {name: t.numpy() for name, t in zip(graph.inputs, inputs, strict=True) if name in takes})
    difference, scale = 0.0, 0.0
    for want, have in zip(expected, map(torch.from_numpy, got), strict=True):
        if want.dtype == torch.bool:
            difference = difference if torch.equal(want, have) else float("inf")
            continue
        want = want.float()
        if graph.padded_outputs and want.dim() == 3:  # padded positions are nobody's output
            keep = torch.arange(want.size(1))[None, :] < inputs[-1][:, None]
            have, want = have[keep], want[keep]
        difference = max(difference, float((have - want).abs().max()))
        scale = max(scale, float(want.abs().max()))
    return difference, scale


def modelfile_without_weights(task, kept: tuple[str, ...], extra: dict) -> bytes:
    """The task's model file less the model weights other than those named in `kept` (tokenizer,
    labels, config and metadata stay), with `extra` added to its metadata."""
    from nlpkit.modelfile import to_bytes

    model_file = task.to_file({k: v for k, v in task.meta.items() if k != "quantized"})
    model_file.tensors = {
        name: t
        for name, t in model_file.tensors.items()
        if not name.startswith("model.") or name[len("model.") :].startswith(kept)
    }
    model_file.meta = {**model_file.meta, **extra}
    return to_bytes(model_file)


def _modelfile_without_graph(task, kept: tuple[str, ...], int8: bool = False) -> str:
    """The task's model file, less the weights the graph holds, as base64 text."""
    weights = "in the graph, int8 (onnxruntime dynamic quantization)" if int8 else "in the graph"
    data = modelfile_without_weights(task, kept, {"onnx": {"opset": OPSET, "weights": weights}})
    return base64.b64encode(data).decode("ascii")


def _set_metadata(proto, values: dict) -> None:
    for key, value in values.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
