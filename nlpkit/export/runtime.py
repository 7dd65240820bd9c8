"""Run a graph written by `nlpkit export` in onnxruntime, behind the task's own prediction code.

The loaded task is the same object `nlpkit.load` returns for a .nlpk file (same predict and
evaluate, same output), with its torch module replaced by a small runner that feeds the padded
batch to the ONNX session. The tokenizer, labels and (for NER) CRF come from the model file the
export embedded in the graph's metadata, read and checked like any model file. A tagger graph
(tagging.py) and a classifier's run without torch (torch's import alone is a second or two of
every command's start-up); a translation's two graphs run under torch's beam search (translation.py).
"""

from __future__ import annotations

import base64
import binascii
import tempfile
from pathlib import Path

from nlpkit.errors import NlpkitError
from nlpkit.export import GRAPH_KEY, METADATA_KEY

RUNNABLE = ("sentiment", "ner", "translate")


class ClassifierRunner:
    """The classifier's graph behind what the sentiment task asks of a model: its config and
    predict_proba (what nlpkit.tasks.sentiment.prediction does with torch, in numpy)."""

    def __init__(self, session, config):
        self.session = session
        self.config = config

    def predict_proba(self, encoded: list[list[int]], batch_tokens: int = 16384):
        """Class probabilities [n, labels] (a numpy array) of encoded texts, in their order."""
        import numpy as np

        from nlpkit.data.batching import pad_arrays, token_budget_groups

        probs = np.empty((len(encoded), len(self.config.labels)), dtype=np.float32)
        for group in token_budget_groups([len(e) for e in encoded], batch_tokens):
            tokens, lengths = pad_arrays([encoded[i] for i in group])
            logits = self.session.run(None, {"tokens": tokens, "lengths": lengths})[0].astype(np.float32)
            exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
            probs[group] = exp / exp.sum(axis=-1, keepdims=True)
        return probs


# The inputs of the graphs nlpkit export writes (a translation's depend on its config: checked at load).
GRAPH_INPUTS = {"sentiment": {"tokens", "lengths"}, "ner": {"words", "chars", "lengths"}, "lm": {"tokens", "lengths"}}


def load_onnx(path, task: str | None = None, device: str = "auto", quantize: str = "auto", threads: int | None = None):
    """The task of an exported graph, run by onnxruntime on the CPU; `threads` as in nlpkit.load
    (for onnxruntime's threads, and torch's where the task uses torch)."""
    from nlpkit import tasks

    where = str(path)
    if device == "cuda":
        raise NlpkitError(f"{where}: ONNX graphs run on the CPU in nlpkit; use the .nlpk file on a GPU")
    if quantize == "int8":
        raise NlpkitError(f"{where}: an ONNX graph runs as exported; for int8, export it with `nlpkit export --int8`")
    session = _session(where, threads)
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
    takes, expected = {i.name for i in session.get_inputs()}, GRAPH_INPUTS.get(name)
    if name == "ner" and takes == {"words", "lengths"}:  # a tagger without character features reads no chars
        expected = takes
    if expected is not None and takes != expected:
        raise NlpkitError(
            f"{where}: its graph takes {', '.join(sorted(takes))}, not what a {name} graph takes "
            f"({', '.join(sorted(expected))}): its metadata does not belong to it"
        )
    if name == "translate" and threads is not None:
        from nlpkit import threads as cpu_threads

        cpu_threads.apply(threads)
    saved = _embedded_modelfile(metadata[METADATA_KEY], where, arrays=name in ("ner", "sentiment"))
    cls = tasks.get(name)
    if cls.file_task != saved.task:
        raise NlpkitError(f"{where}: the graph says {name!r} but its model file is a {saved.task!r} model")
    if name == "translate":
        return _build_translation(cls, saved, session, _encoder_session(metadata, where, threads))
    return _build(cls, saved, session)


def _session(where: str, threads: int | None = None, data: bytes | None = None):
    """An onnxruntime session of the graph at `where` (or of `data`, a graph read from there)."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise NlpkitError("running ONNX graphs needs onnxruntime: pip install 'nlpkit[onnx]'") from None
    if data is None and not Path(where).is_file():
        raise NlpkitError(f"{where}: no such model file")
    options = ort.SessionOptions()
    from nlpkit.threads import count

    options.intra_op_num_threads = count(threads)  # the rules of --threads
    options.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(where if data is None else data, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own classes for every kind of bad file
        raise NlpkitError(f"{where}: not a readable ONNX graph ({_first_line(exc)})") from None
    return CheckedSession(session, where)


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]


class CheckedSession:
    """An onnxruntime session whose failures while running (a shape it cannot allocate, inputs
    the graph does not take) are one-line errors naming the graph, like those when it is opened."""

    def __init__(self, session, where: str):
        self.session, self.where = session, where

    def run(self, outputs, feed: dict):
        try:
            return self.session.run(outputs, feed)
        except Exception as exc:  # onnxruntime's own classes (Fail, InvalidArgument, RuntimeException, ...)
            raise NlpkitError(f"{self.where}: the graph failed while running ({_first_line(exc)})") from None

    def __getattr__(self, name: str):
        return getattr(self.session, name)


def _encoder_session(metadata: dict, where: str, threads: int | None = None):
    """The session of a translation's encoder graph, carried in the step graph's metadata."""
    from nlpkit.export.translation import ENCODER_KEY

    try:
        data = base64.b64decode(metadata[ENCODER_KEY], validate=True)
    except (KeyError, binascii.Error, ValueError):
        raise NlpkitError(f"{where}: the translation's encoder graph is missing or damaged in its metadata") from None
    return _session(f"{where} (encoder graph)", threads, data)


def _embedded_modelfile(text: str, where: str, header_only: bool = False, arrays: bool = False):
    """The model file stored in the graph's metadata, read (and validated) like any other; with
    header_only, its metadata alone (modelfile.read_header); with arrays, numpy tensors."""
    from nlpkit.modelfile import load, read_header

    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NlpkitError(f"{where}: the nlpkit metadata in the graph is damaged") from None
    with tempfile.NamedTemporaryFile(suffix=".nlpk") as f:
        f.write(data)
        f.flush()
        try:
            saved = read_header(f.name) if header_only else load(f.name, arrays=arrays)
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
    if graph["task"] == "translate":  # the step graph above; the encoder's beside it
        encoder = _encoder_session(metadata, where)
        graph["encoder"] = {"inputs": shapes(encoder.get_inputs()), "outputs": shapes(encoder.get_outputs())}
    return {**meta, "onnx": {**meta.get("onnx", {}), **graph}}


def _build_translation(cls, saved, step, encoder):
    import torch

    from nlpkit.export.translation import GraphSeq2Seq
    from nlpkit.tasks.files import described, read_tokenizer
    from nlpkit.tasks.translate.files import Tokenizers, target_tokenizer
    from nlpkit.tasks.translate.model import Seq2SeqConfig

    where = saved.path
    config = described(lambda: Seq2SeqConfig.from_dict(saved.meta["model"]), where)
    if step.get_outputs()[0].shape[-1] != config.tgt_vocab:
        raise NlpkitError(
            f"{where}: the step graph's log-probabilities do not cover the {config.tgt_vocab} target tokens"
        )
    src = read_tokenizer(saved, "tokenizer", saved.tensors)
    runner = GraphSeq2Seq(encoder, step, config, where)
    return cls(runner, Tokenizers(src, target_tokenizer(saved, src)), saved.meta, torch.device("cpu"))


def _build(cls, saved, session):
    from nlpkit.tasks.files import described, read_tokenizer

    where = saved.path
    tokenizer = read_tokenizer(saved, "tokenizer", saved.tensors)
    if cls.name == "sentiment":
        from nlpkit.tasks.sentiment.config import config_from_dict

        config = described(lambda: config_from_dict(saved.meta["model"]), where)
        return cls(ClassifierRunner(session, config), tokenizer, saved.meta, "cpu")
    from nlpkit.export.tagging import GraphTagger
    from nlpkit.tasks.ner.config import TaggerConfig

    config = described(lambda: TaggerConfig.from_dict(saved.meta["model"]), where)
    tags = len(config.tags)
    if session.get_outputs()[0].shape[-1] != tags:  # checked before anything of size tags^2 is made
        raise NlpkitError(f"{where}: the graph's emissions do not have one score per tag ({tags} tags)")
    crf = None
    if config.crf:
        crf = {k[len("model.crf.") :]: v for k, v in saved.tensors.items() if k.startswith("model.crf.")}
        shapes = {k: tuple(v.shape) for k, v in crf.items()}
        if shapes != {"transitions": (tags, tags), "start": (tags,), "end": (tags,)}:
            raise NlpkitError(f"{where}: the CRF in the embedded model file does not fit its {tags} tags")
    return cls(GraphTagger(session, config, crf), tokenizer, saved.meta, "cpu")
