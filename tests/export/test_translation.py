"""A translation model as ONNX (nlpkit.export.translation): the encoder and one decoder step agree
with PyTorch for every decoder family, at any batch, source length and number of past steps, and
beam search over the graphs translates as the .nlpk model does."""

import base64

import pytest
import torch

import nlpkit
from nlpkit.errors import NlpkitError

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from nlpkit.export.graphs import check, export_onnx, to_onnx  # noqa: E402
from nlpkit.export.translation import ENCODER_KEY, StepGraph, first_state  # noqa: E402

pytestmark = pytest.mark.extras  # CI runs these again with the extras blocked (.ci/run)

LINES = ["The cat looks at the harbour in the morning .", "", "zzz qqq", "A tired pilot waits near the old mill ."]


def _tiny(kind: str, attention: str, scale: bool = False):
    from nlpkit.encoders import EncoderConfig
    from nlpkit.encoders.unpacked import prepare
    from nlpkit.tasks.translate.model import Seq2SeqConfig, build_model

    torch.manual_seed(0)
    encoder = EncoderConfig(
        kind=kind, hidden_size=16, layers=2, heads=2, ff_size=32, bidirectional=kind != "transformer"
    )
    config = Seq2SeqConfig(
        src_vocab=40, tgt_vocab=40, embed_size=16, encoder=encoder, decoder_layers=2, decoder_hidden=24,
        attention=attention, scale_embeddings=scale,
    )  # fmt: skip
    return prepare(StepGraph(build_model(config).eval())).eval()


@pytest.mark.parametrize(
    "kind, attention, scale",
    [
        ("transformer", "bahdanau", False), ("transformer", "bahdanau", True), ("gru", "bahdanau", False),
        ("lstm", "luong-general", False), ("gru", "luong-dot", False),
    ],
)  # fmt: skip
def test_both_graphs_agree_with_pytorch_at_other_shapes(kind, attention, scale):
    graph = _tiny(kind, attention, scale)
    assert check(graph.encoder, to_onnx(graph.encoder))[0] < 1e-5  # traced at 4 x 9, checked at 7 x 13
    assert check(graph, to_onnx(graph))[0] < 1e-5  # and with 4 past steps where 3 were traced
    names = graph.inputs
    assert ("feed" in names) == (attention != "bahdanau") and ("cell" in names) == (kind == "lstm")


def test_the_first_transformer_step_runs_on_an_empty_cache():
    import onnxruntime as ort

    graph = _tiny("transformer", "bahdanau")
    session = ort.InferenceSession(to_onnx(graph), providers=["CPUExecutionProvider"])
    tokens, *memory, _, _ = graph.example(3, 6)
    state = first_state(graph.model.config, None, 3)  # past of length 0
    assert state[0].shape[3] == 0
    inputs = (tokens, *memory, *state)
    with torch.no_grad():
        expected = graph(*inputs)
    got = session.run(None, {n: t.numpy() for n, t in zip(graph.inputs, inputs, strict=True)})
    assert got[2].shape[3] == 1
    for want, have in zip(expected, got, strict=True):
        assert float((want - torch.from_numpy(have)).abs().max()) < 1e-5


@pytest.mark.parametrize(
    "options",
    [
        {"beam": 1}, {"beam": 5}, {"beam": 4, "n_best": 3, "alignments": True}, {"beam": 3, "replace_unk": True},
        {"beam": 4, "n_best": 2, "coverage_penalty": 0.4},
    ],
)  # fmt: skip
def test_beam_search_over_the_graphs_translates_as_pytorch_does(translate_model, tmp_path, options):
    original = nlpkit.load(translate_model[0], device="cpu", runtime="torch")
    out = tmp_path / "t.onnx"
    assert export_onnx(original, out)["max_difference"] < 1e-4
    graph = nlpkit.load(out)
    assert type(graph) is type(original)
    want, got = list(original.predict(LINES, **options)), list(graph.predict(LINES, **options))
    assert len(got) == len(LINES)
    for a, b in zip(want, got, strict=True):
        assert [t["text"] for t in b["translations"]] == [t["text"] for t in a["translations"]]
        assert [t["score"] for t in b["translations"]] == pytest.approx(
            [t["score"] for t in a["translations"]], abs=1e-3
        )
        assert b.get("alignment", {}).get("pairs") == a.get("alignment", {}).get("pairs")
    assert got[1]["translation"] == ""  # an empty line stays empty


def test_an_int8_translation_export_checks_both_graphs(translate_model, tmp_path):
    model = nlpkit.load(translate_model[0], device="cpu", runtime="torch")
    checked = export_onnx(model, tmp_path / "q.onnx", int8=True)
    assert checked["max_difference"] < 1e-4 < checked["int8_difference"]
    translated = list(nlpkit.load(tmp_path / "q.onnx").predict(LINES, beam=2))
    assert [r["source"] for r in translated] == LINES


def test_a_damaged_encoder_graph_is_a_one_line_error(translate_model, sentiment_model, tmp_path):
    import onnx

    out = tmp_path / "t.onnx"
    export_onnx(nlpkit.load(translate_model[0], device="cpu", runtime="torch"), out)
    for damage in ("drop", "cut"):
        proto = onnx.load(str(out))
        entries = list(proto.metadata_props)
        del proto.metadata_props[:]
        for entry in entries:
            if entry.key == ENCODER_KEY and damage == "cut":
                entry.value = base64.b64encode(base64.b64decode(entry.value)[:-500]).decode()
            if entry.key != ENCODER_KEY or damage == "cut":
                proto.metadata_props.append(entry)
        onnx.save(proto, str(tmp_path / f"{damage}.onnx"))
        with pytest.raises(NlpkitError, match=f"{damage}.onnx.*encoder graph"):
            nlpkit.load(tmp_path / f"{damage}.onnx")
    proto = onnx.load(str(out))  # an encoder graph of another model: its outputs do not fit
    other = tmp_path / "s.onnx"
    export_onnx(nlpkit.load(sentiment_model[0], device="cpu", runtime="torch"), other)
    for entry in proto.metadata_props:
        if entry.key == ENCODER_KEY:
            entry.value = base64.b64encode(other.read_bytes()).decode()
    onnx.save(proto, str(tmp_path / "swapped.onnx"))
    with pytest.raises(NlpkitError, match="swapped.onnx: the encoder and step graphs do not fit"):
        nlpkit.load(tmp_path / "swapped.onnx")
