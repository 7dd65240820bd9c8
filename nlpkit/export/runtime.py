"""Run a graph written by `nlpkit export` in onnxruntime, behind the task's own prediction code.

The loaded task is the same object `nlpkit.load` returns for a .nlpk file (same predict and
evaluate, same output), with its torch module replaced by a small runner that feeds the padded
batch to the ONNX session. The tokenizer, labels and (for NER) CRF come from the model file the
export embedded in the graph's metadata, read and checked like any model file.
"""

from __future__ import annotations

import base64
import binascii
import tempfile
from pathlib import Path

import torch

from nlpkit.errors import NlpkitError
from nlpkit.export.graphs import GRAPH_KEY, METADATA_KEY

RUNNABLE = ("sentiment", "ner")


class GraphRunner:
    """What prediction code asks of a torch model: its config, its device (parameters()), and a
    call on a padded batch."""

    def __init__(self, session, config):
        self.session = session
        self.config = config

    def parameters(self):
        return iter([torch.empty(0)])  # the CPU: where prediction code puts its batches

    def run(self, **inputs: torch.Tensor) -> torch.Tensor:
        feed = {name: t.cpu().numpy() for name, t in inputs.items()}
        return torch.from_numpy(self.session.run(None, feed)[0])


class ClassifierRunner(GraphRunner):
    def __call__(self, tokens, lengths):
        return self.run(tokens=tokens, lengths=lengths)


class TaggerRunner(GraphRunner):
    def __init__(self, session, config, crf):
        super().__init__(session, config)
        from nlpkit.text.schemes import allowed_transitions

        self.crf = crf
        self.constraints = allowed_transitions(config.tags)

    def decode(self, words, chars, lengths, with_probs: bool = True):
        from nlpkit.tasks.tagger import decode_emissions

        emissions = self.run(words=words, chars=chars, lengths=lengths)
        return decode_emissions(emissions, lengths, self.crf, self.constraints, with_probs)


def load_onnx(path, task: str | None = None, device: str = "auto", quantize: str = "auto"):
    """The task of an exported graph, run by onnxruntime on the CPU with torch's thread count."""
    from nlpkit import tasks

    where = str(path)
    if device == "cuda":
        raise NlpkitError(f"{where}: ONNX graphs run on the CPU in nlpkit; use the .nlpk file on a GPU")
    if quantize == "int8":
        raise NlpkitError(f"{where}: an ONNX graph runs as exported; quantize the .nlpk file instead")
    session = _session(where)
    metadata = session.get_modelmeta().custom_metadata_map
    name = metadata.get(GRAPH_KEY)
    if name is None or METADATA_KEY not in metadata:
        raise NlpkitError(f"{where}: an ONNX graph, but not one written by `nlpkit export` (no nlpkit metadata)")
    if task is not None and tasks.get(task).name != name:
        raise NlpkitError(f"{where}: this is a {name!r} model, not a {task!r} model")
    if name not in RUNNABLE:
        raise NlpkitError(
            f"{where}: an exported {name} graph runs in onnxruntime directly; nlpkit runs "
            f"{name} models from their .nlpk file"
        )
    saved = _embedded_modelfile(metadata[METADATA_KEY], where)
    cls = tasks.get(name)
    if cls.file_task != saved.task:
        raise NlpkitError(f"{where}: the graph says {name!r} but its model file is a {saved.task!r} model")
    return _build(cls, saved, session)


def _session(where: str):
    try:
        import onnxruntime as ort
    except ImportError:
        raise NlpkitError("running ONNX graphs needs onnxruntime: pip install 'nlpkit[onnx]'") from None
    if not Path(where).is_file():
        raise NlpkitError(f"{where}: no such model file")
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()  # the thread choice of --threads
    options.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(where, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own classes for every kind of bad file
        raise NlpkitError(f"{where}: not a readable ONNX graph ({str(exc).splitlines()[0][:200]})") from None


def _embedded_modelfile(text: str, where: str, header_only: bool = False):
    """The model file stored in the graph's metadata, read (and validated) like any other; with
    header_only, its metadata alone (modelfile.read_header)."""
    from nlpkit.modelfile import load, read_header

    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NlpkitError(f"{where}: the nlpkit metadata in the graph is damaged") from None
    with tempfile.NamedTemporaryFile(suffix=".nlpk") as f:
        f.write(data)
        f.flush()
        try:
            saved = read_header(f.name) if header_only else load(f.name)
        except NlpkitError as exc:
            raise NlpkitError(str(exc).replace(f.name, f"{where} (embedded model file)")) from None
    if not header_only:
        saved.path = where
    return saved


def graph_info(path) -> dict:
    """`nlpkit info` of an exported graph: the embedded model file's metadata, and the graph's
    inputs and outputs with their axes."""
    where = str(path)
    session = _session(where)
    metadata = session.get_modelmeta().custom_metadata_map
    if METADATA_KEY not in metadata:
        raise NlpkitError(f"{where}: an ONNX graph, but not one written by `nlpkit export` (no nlpkit metadata)")
    meta = _embedded_modelfile(metadata[METADATA_KEY], where, header_only=True)
    shapes = lambda args: {a.name: [str(d) for d in a.shape] for a in args}  # noqa: E731
    graph = {
        "task": metadata.get(GRAPH_KEY),
        "inputs": shapes(session.get_inputs()),
        "outputs": shapes(session.get_outputs()),
    }
    return {**meta, "onnx": {**meta.get("onnx", {}), **graph}}


def _build(cls, saved, session):
    from nlpkit.tasks.files import described, read_tokenizer

    where = saved.path
    tokenizer = read_tokenizer(saved, "tokenizer", saved.tensors)
    cpu = torch.device("cpu")
    if cls.name == "sentiment":
        from nlpkit.tasks.classifier import ClassifierConfig

        config = described(lambda: ClassifierConfig.from_dict(saved.meta["model"]), where)
        return cls(ClassifierRunner(session, config), tokenizer, saved.meta, cpu)
    from nlpkit.crf import CRF
    from nlpkit.tasks.tagger import TaggerConfig
    from nlpkit.text.schemes import allowed_transitions

    config = described(lambda: TaggerConfig.from_dict(saved.meta["model"]), where)
    tags = len(config.tags)
    if session.get_outputs()[0].shape[-1] != tags:  # checked before anything of size tags^2 is made
        raise NlpkitError(f"{where}: the graph's emissions do not have one score per tag ({tags} tags)")
    crf = None
    if config.crf:
        state = {k[len("model.crf.") :]: v for k, v in saved.tensors.items() if k.startswith("model.crf.")}
        shapes = {k: tuple(v.shape) for k, v in state.items()}
        if shapes != {"transitions": (tags, tags), "start": (tags,), "end": (tags,)}:
            raise NlpkitError(f"{where}: the CRF in the embedded model file does not fit its {tags} tags")
        crf = CRF(*allowed_transitions(config.tags))
        crf.load_state_dict(state)
    return cls(TaggerRunner(session, config, crf), tokenizer, saved.meta, cpu)
