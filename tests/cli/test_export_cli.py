"""`nlpkit export` end to end through a subprocess: export, then the predict commands run the
.onnx file and print what the .nlpk gives, one line per input line."""

import json

import pytest

from tests.conftest import ROOT, nlpkit

pytestmark = pytest.mark.extras  # CI runs these again with the extras blocked (.ci/run)

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


def test_export_then_predict_and_tag_from_the_graph(sentiment_model, ner_model, tmp_path):
    lines = "a lovely quiet inn\n\nrude staff and cold rooms\n"
    graph = tmp_path / "s.onnx"
    proc = nlpkit("export", sentiment_model[0], "--format", "onnx", "--out", graph, check=True)
    assert "agrees with PyTorch" in proc.stderr and graph.exists()
    shown = json.loads(nlpkit("info", graph, "--format", "json", check=True).stdout)
    assert shown["onnx"]["inputs"] == {"tokens": ["batch", "time"], "lengths": ["batch"]}
    assert shown["model"]["labels"] == ["neg", "pos"]
    from_graph = nlpkit("sentiment", "predict", graph, input=lines, check=True).stdout
    from_file = nlpkit("sentiment", "predict", sentiment_model[0], input=lines, check=True).stdout
    assert len(from_graph.splitlines()) == 3
    assert [r.split("\t")[0] for r in from_graph.splitlines()] == [r.split("\t")[0] for r in from_file.splitlines()]

    tagger = tmp_path / "n.onnx"
    nlpkit("export", ner_model[0], "-o", tagger, "--quiet", check=True)
    text = (ROOT / "data" / "ner.valid.conll").read_text(encoding="utf-8")
    sentences = [" ".join(r.split()[0] for r in block.splitlines()) for block in text.strip().split("\n\n")[:20]]
    tagged = nlpkit("ner", "tag", tagger, "--input-format", "text", input="\n".join(sentences) + "\n", check=True)
    expected = nlpkit(
        "ner", "tag", ner_model[0], "--input-format", "text", input="\n".join(sentences) + "\n", check=True
    )
    got, want = _records(tagged.stdout), _records(expected.stdout)
    assert len(got) == 20 and [_unscored(r) for r in got] == [_unscored(r) for r in want]
    for a, b in zip(got, want, strict=True):  # CRF marginals: forward-backward in numpy, autograd in torch
        assert [e["score"] for e in a["entities"]] == pytest.approx([e["score"] for e in b["entities"]], abs=2e-4)


def _records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def _unscored(record: dict) -> dict:
    return {**record, "entities": [{k: v for k, v in e.items() if k != "score"} for e in record["entities"]]}


def test_an_int8_graph_is_smaller_reports_its_difference_and_tags(ner_model, tmp_path):
    float_graph, int8_graph = tmp_path / "f.onnx", tmp_path / "q.onnx"
    nlpkit("export", ner_model[0], "-o", float_graph, "--quiet", check=True)
    proc = nlpkit("export", ner_model[0], "-o", int8_graph, "--int8", check=True)
    assert "int8; the float graph agrees with PyTorch within" in proc.stderr
    assert int8_graph.stat().st_size < float_graph.stat().st_size
    shown = json.loads(nlpkit("info", int8_graph, "--format", "json", check=True).stdout)
    assert "int8" in shown["onnx"]["weights"]
    lines = "Greta Sato sailed to Northwick .\n\nAnn went to Paris .\n"
    tagged = _records(nlpkit("ner", "tag", int8_graph, input=lines, check=True).stdout)
    assert [r["text"] for r in tagged] == lines.splitlines()
    scores = json.loads(nlpkit("ner", "eval", int8_graph, ROOT / "data" / "ner.valid.conll", "--format", "json").stdout)
    assert 0 <= scores["f1"] <= 1 and scores["sentences"] > 0


def test_a_translation_graph_translates_from_the_command_line(translate_model, tmp_path):
    graph = tmp_path / "t.onnx"
    proc = nlpkit("export", translate_model[0], "-o", graph, check=True)
    assert "tokens, mask, memory, hidden, feed -> log_probs, attention, next_hidden, next_feed" in proc.stderr
    shown = json.loads(nlpkit("info", graph, "--format", "json", check=True).stdout)
    assert shown["onnx"]["encoder"]["inputs"] == {"src": ["batch", "source"], "lengths": ["batch"]}
    lines = "The cat looks at the harbour .\n\nA tired pilot waits near the old mill .\n"
    for flags in ([], ["--beam", "3", "--n-best", "2", "--format", "jsonl"]):
        from_graph = nlpkit("translate", "predict", graph, *flags, input=lines, check=True).stdout
        from_file = nlpkit("translate", "predict", translate_model[0], *flags, input=lines, check=True).stdout
        assert len(from_graph.splitlines()) == 3
        if not flags:
            assert from_graph == from_file
        else:
            texts = lambda out: [[t["text"] for t in json.loads(r)["translations"]] for r in out.splitlines()]  # noqa: E731
            assert texts(from_graph) == texts(from_file)
    proc = nlpkit("translate", "predict", graph, "--quantize", "int8", input=lines)
    assert proc.returncode != 0 and "export --int8" in proc.stderr and "Traceback" not in proc.stderr


def test_export_refusals_are_one_line(sentiment_model, tmp_path):
    proc = nlpkit("export", sentiment_model[0], "--out", tmp_path / "s.model")
    assert proc.returncode != 0 and ".onnx file" in proc.stderr and "Traceback" not in proc.stderr
    proc = nlpkit("export", tmp_path / "missing.nlpk")
    assert proc.returncode != 0 and "no such model file" in proc.stderr
    assert not list(tmp_path.iterdir())
