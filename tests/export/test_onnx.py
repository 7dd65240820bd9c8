"""ONNX export (nlpkit.export): graphs that agree with PyTorch at any batch size and length, run
by the task's own prediction code, and clear refusals."""

import base64

import pytest
import torch

import nlpkit
from nlpkit.errors import NlpkitError

pytestmark = pytest.mark.extras  # CI runs these again with the extras blocked (.ci/run)
pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from nlpkit.export.graphs import METADATA_KEY, export_onnx  # noqa: E402

TEXTS = {
    "sentiment_model": ["a lovely quiet inn", "rude staff and cold rooms", "", "the inn " * 40],
    "ner_model": ["Greta Sato sailed to Northwick .", "", "Ann went to Paris with Bo Li on Monday ."],
    "ensemble_model": ["a lovely quiet inn", "rude staff and cold rooms", "", "the inn " * 40],
}


@pytest.fixture
def ensemble_model(sentiment_model, tmp_path):
    """The sentiment model beside a copy with other output weights: a two-member ensemble."""
    other = nlpkit.load(sentiment_model[0], device="cpu", runtime="torch")
    torch.manual_seed(0)
    with torch.no_grad():
        other.model.head.weight.add_(torch.randn_like(other.model.head.weight))
    out = tmp_path / "e.nlpk"
    return out, nlpkit.ensemble([sentiment_model[0], other], out=out, device="cpu")


@pytest.mark.parametrize("fixture", TEXTS)
def test_an_exported_model_predicts_what_the_original_does(request, fixture, tmp_path):
    path, _ = request.getfixturevalue(fixture)
    original = nlpkit.load(path, device="cpu", runtime="torch")
    out = tmp_path / "m.onnx"
    checked = export_onnx(original, out)
    assert checked["max_difference"] < 1e-4
    graph = nlpkit.load(out)
    assert type(graph) is type(original)
    exact, got = list(original.predict(TEXTS[fixture])), list(graph.predict(TEXTS[fixture]))
    assert len(got) == len(exact)
    for a, b in zip(exact, got, strict=True):
        if "probs" in a:
            assert b["label"] == a["label"]
            assert max(abs(a["probs"][k] - b["probs"][k]) for k in a["probs"]) < 1e-4
        else:
            assert b["tags"] == a["tags"]
            assert [e["score"] for e in b["entities"]] == pytest.approx([e["score"] for e in a["entities"]], abs=1e-3)


@pytest.mark.parametrize("encoder", ["gru", "transformer", "rnn"])
def test_every_encoder_kind_exports_with_free_batch_and_length(tmp_path, encoder):
    from nlpkit.encoders import EncoderConfig
    from nlpkit.encoders.unpacked import prepare
    from nlpkit.export.graphs import ClassifierGraph, check, to_onnx
    from nlpkit.tasks.sentiment.model import ClassifierConfig, build_model

    torch.manual_seed(0)
    bidirectional = encoder != "transformer"
    config = ClassifierConfig(
        vocab_size=50, labels=["a", "b", "c"], embed_size=8, pooling=["last", "max", "mean", "attention"],
        encoder=EncoderConfig(kind=encoder, hidden_size=8, layers=2, heads=2, bidirectional=bidirectional),
    )  # fmt: skip
    graph = prepare(ClassifierGraph(build_model(config).eval())).eval()
    assert check(graph, to_onnx(graph))[0] < 1e-4  # traced at 4 x 9, checked at 7 x 13


def test_a_language_model_exports_its_scoring_graph(lm_model, tmp_path):
    import onnxruntime as ort

    path, _ = lm_model
    model = nlpkit.load(path, device="cpu", runtime="torch")
    out = tmp_path / "lm.onnx"
    assert export_onnx(model, out)["outputs"] == ["log_probs"]
    ids = [model.tokenizer.eos_id, *model.tokenizer.encode("At dawn the harbour")]
    tokens = torch.tensor([ids])
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    log_probs = session.run(None, {"tokens": tokens.numpy(), "lengths": torch.tensor([len(ids)]).numpy()})[0]
    graph_loglik = sum(log_probs[0, t, ids[t + 1]] for t in range(len(ids) - 1))
    with torch.no_grad():
        logits, _ = model.model(tokens)
        expected = torch.log_softmax(logits.float(), -1)[0, torch.arange(len(ids) - 1), torch.tensor(ids[1:])].sum()
    assert graph_loglik == pytest.approx(float(expected), abs=1e-3)
    with pytest.raises(NlpkitError, match="onnxruntime directly"):
        nlpkit.load(out)


def test_quantized_models_are_refused(sentiment_model, tmp_path):
    with pytest.raises(NlpkitError, match="float model"):
        export_onnx(
            nlpkit.load(sentiment_model[0], device="cpu", quantize="int8", runtime="torch"), tmp_path / "q.onnx"
        )
    assert not list(tmp_path.iterdir())


def test_bad_graph_files_get_one_line_errors(sentiment_model, tmp_path):
    import onnx

    out = tmp_path / "s.onnx"
    export_onnx(nlpkit.load(sentiment_model[0], device="cpu", runtime="torch"), out)
    with pytest.raises(NlpkitError, match="not a ner model|'sentiment' model, not"):
        nlpkit.load(out, task="ner")
    with pytest.raises(NlpkitError, match="on the CPU"):
        nlpkit.load(out, device="cuda")
    graph = nlpkit.load(out)
    with pytest.raises(NlpkitError, match="use the .nlpk it came from"):
        graph.save(tmp_path / "back.nlpk")
    with pytest.raises(NlpkitError, match="quantize the .nlpk"):
        graph.quantize()
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a graph at all")
    with pytest.raises(NlpkitError, match="not a readable ONNX graph"):
        nlpkit.load(junk)
    proto = onnx.load(str(out))
    del proto.metadata_props[:]
    onnx.save(proto, str(tmp_path / "plain.onnx"))
    with pytest.raises(NlpkitError, match="not one written by `nlpkit export`"):
        nlpkit.load(tmp_path / "plain.onnx")
    proto = onnx.load(str(out))
    for entry in proto.metadata_props:
        if entry.key == METADATA_KEY:
            entry.value = base64.b64encode(base64.b64decode(entry.value)[:-100]).decode()
    onnx.save(proto, str(tmp_path / "cut.onnx"))
    with pytest.raises(NlpkitError, match=r"cut\.onnx \(embedded model file\).*truncated"):
        nlpkit.load(tmp_path / "cut.onnx")


def test_an_int8_export_is_checked_against_pytorch(ner_model, tmp_path, monkeypatch):
    from nlpkit.export import graphs

    model = nlpkit.load(ner_model[0], device="cpu", runtime="torch")
    out = tmp_path / "q.onnx"
    checked = export_onnx(model, out, int8=True)
    assert checked["max_difference"] < 1e-4 < checked["int8_difference"]  # the float graph first, then int8
    tagged = list(nlpkit.load(out).predict(["Ann went to Paris .", ""]))
    assert [r["words"] for r in tagged] == [["Ann", "went", "to", "Paris", "."], []]
    monkeypatch.setattr(graphs, "INT8_TOLERANCE", 0.0)
    with pytest.raises(NlpkitError, match="int8 graph differs from PyTorch"):
        export_onnx(model, tmp_path / "refused.onnx", int8=True)
    assert not (tmp_path / "refused.onnx").exists()


def test_errors_while_a_graph_runs_are_one_line():
    from nlpkit.export.runtime import CheckedSession

    class Failing:
        def run(self, outputs, feed):
            raise RuntimeError("[ONNXRuntimeError] : 6 : BFCArena::AllocateRawInternal\nmore detail")

    with pytest.raises(NlpkitError, match=r"^g.onnx: the graph failed while running \(\[ONNXRuntimeError\]"):
        CheckedSession(Failing(), "g.onnx").run(None, {})


def test_a_graph_with_another_graphs_metadata_is_refused_at_load(sentiment_model, ner_model, tmp_path):
    import onnx

    export_onnx(sentiment_model[1], tmp_path / "s.onnx")
    export_onnx(ner_model[1], tmp_path / "n.onnx")
    tagger, sentiment = onnx.load(str(tmp_path / "n.onnx")), onnx.load(str(tmp_path / "s.onnx"))
    del tagger.metadata_props[:]
    tagger.metadata_props.extend(sentiment.metadata_props)
    onnx.save(tagger, str(tmp_path / "mixed.onnx"))
    with pytest.raises(NlpkitError, match="its graph takes chars, lengths, words, not what a sentiment graph takes"):
        nlpkit.load(tmp_path / "mixed.onnx")


def test_export_never_replaces_a_fifo_or_a_folder(sentiment_model, tmp_path):
    import os

    from nlpkit.export.graphs import export_file

    fifo = tmp_path / "x.onnx"
    os.mkfifo(fifo)
    folder = tmp_path / "d.onnx"
    folder.mkdir()
    for target in (fifo, folder):
        with pytest.raises(NlpkitError, match="not a regular file"):
            export_file(sentiment_model[0], target)
    assert fifo.is_fifo() and folder.is_dir()


def test_a_classifier_graph_predicts_without_importing_torch(sentiment_model, tmp_path):
    """`sentiment predict` on a graph: onnxruntime pads and classifies alone (torch's import was
    most of the command's start-up), one line per input line, the labels of the .nlpk."""
    import subprocess
    import sys

    graph = tmp_path / "s.onnx"
    export_onnx(nlpkit.load(sentiment_model[0], runtime="torch"), graph)
    lines = "a fine inn\n\nthe worst stay\n"
    code = (
        "import sys, runpy; sys.argv = ['nlpkit', 'sentiment', 'predict', sys.argv[1]];"
        "import atexit; atexit.register(lambda: print('torch' in sys.modules, file=sys.stderr));"
        "runpy.run_module('nlpkit', run_name='__main__')"
    )
    runs = {}
    for path in (graph, sentiment_model[0]):
        cmd = [sys.executable, "-c", code, str(path)] if path == graph else [
            sys.executable, "-m", "nlpkit", "sentiment", "predict", str(path), "--runtime", "torch"]  # fmt: skip
        runs[path] = subprocess.run(cmd, input=lines, capture_output=True, text=True, check=True)
    assert runs[graph].stderr.strip().splitlines()[-1] == "False"
    got, want = (runs[p].stdout.splitlines() for p in (graph, sentiment_model[0]))
    assert len(got) == 3 and [g.split("\t")[0] for g in got] == [w.split("\t")[0] for w in want]
