"""int8 inference (nlpkit.quantize): close to float32 for every task, smaller files that stay
pickle-free, and clear refusals."""

import pytest
import torch

import nlpkit
from nlpkit import modelfile
from nlpkit.quantize import from_int8, to_int8, wanted

TEXTS = {
    "lm_model": ["At dawn the harbour", "", "the mill"],
    "sentiment_model": ["a lovely quiet inn", "rude staff and cold rooms", ""],
    "ner_model": ["Greta Sato sailed to Northwick .", ""],
    "translate_model": ["a dog runs", ""],
}


@pytest.mark.parametrize("fixture", TEXTS)
def test_int8_predictions_stay_close_to_float(request, fixture, tmp_path):
    path, _ = request.getfixturevalue(fixture)
    texts = TEXTS[fixture]
    exact = list(nlpkit.load(path, device="cpu", quantize="none", runtime="torch").predict(texts))
    int8 = nlpkit.load(path, device="cpu", quantize="int8", runtime="torch")
    assert int8.quantized
    approx = list(int8.predict(texts))
    assert len(approx) == len(exact)
    for a, b in zip(exact, approx, strict=True):
        if "loglik" in a:
            assert b["loglik"] == pytest.approx(a["loglik"], rel=0.05, abs=0.5)
        if "probs" in a:
            assert max(abs(a["probs"][k] - b["probs"][k]) for k in a["probs"]) < 0.05
        if "source" in a:
            assert b["source"] == a["source"]


@pytest.mark.parametrize("fixture", ["sentiment_model", "lm_model"])
def test_a_quantized_file_is_smaller_and_runs_int8_on_the_cpu(request, fixture, tmp_path):
    path, model = request.getfixturevalue(fixture)
    out = tmp_path / "q.nlpk"
    nlpkit.load(path, quantize="none").save(out, int8=True)
    assert out.stat().st_size < path.stat().st_size
    meta = modelfile.read_header(out)
    assert meta["quantized"]["scheme"] == "int8-rows" and meta["format_version"] == 2
    assert nlpkit.load(out, device="cpu").quantized  # auto: int8 for a quantized file
    floats = nlpkit.load(out, device="cpu", quantize="none")
    assert not floats.quantized
    texts = TEXTS[fixture]
    for a, b in zip(model.predict(texts), floats.predict(texts), strict=True):
        assert a.keys() == b.keys()


def test_int8_rows_round_trip_within_half_a_step():
    w = torch.randn(6, 10)
    packed = to_int8({"model.w": w}, ["w"])
    assert packed["model.w.int8"].dtype == torch.int8 and "model.w" not in packed
    back = from_int8({"w.int8": packed["model.w.int8"], "w.scale": packed["model.w.scale"]}, "f")["w"]
    assert (back - w).abs().max() <= packed["model.w.scale"].max() / 2 + 1e-6


def test_refusals(sentiment_model, tmp_path, monkeypatch):
    path, _ = sentiment_model
    with pytest.raises(nlpkit.NlpkitError, match="int8: it runs on the CPU only.*auto"):
        wanted("int8", torch.device("cuda"), False)
    assert not wanted("auto", torch.device("cuda"), True)  # auto falls back to float32
    with pytest.raises(nlpkit.NlpkitError, match="quantize: 'int4' is not one of auto, none, int8"):
        nlpkit.load(path, quantize="int4")
    with pytest.raises(nlpkit.NlpkitError, match="cannot be saved"):
        nlpkit.load(path, device="cpu", quantize="int8").save(tmp_path / "x.nlpk")
    out = tmp_path / "q.nlpk"
    nlpkit.load(path, quantize="none").save(out, int8=True)
    monkeypatch.setattr(modelfile, "READS_VERSION", 1)  # an nlpkit from before quantized files
    with pytest.raises(nlpkit.NlpkitError, match="format 2 is newer than this nlpkit reads"):
        nlpkit.load(out)
    with pytest.raises(nlpkit.NlpkitError, match="quantized weight 'w' is malformed"):
        from_int8({"w.int8": torch.zeros(3, 2, dtype=torch.int8), "w.scale": torch.ones(2)}, "f")


def test_quantize_command_and_the_int8_flag(cli, sentiment_model, tmp_path):
    path, _ = sentiment_model
    out = tmp_path / "q.nlpk"
    code, _, err = cli("quantize", path, out)
    assert code == 0 and "int8 weight matrices" in err
    code, info, _ = cli("info", out, "--format", "json")
    assert code == 0 and '"quantized"' in info
    data = tmp_path / "in.txt"
    data.write_text("a fine inn\n\nrude\n")
    for args in ([out], [path, "--quantize", "int8"]):
        code, stdout, err = cli("sentiment", "predict", *args, data)
        assert code == 0 and len(stdout.splitlines()) == 3, err
    code, _, err = cli("quantize", out, out)
    assert code == 1 and "is an input of this run" in err
    code, _, err = cli("quantize", tmp_path / "missing.nlpk", out)
    assert code == 1 and "missing.nlpk" in err and "Traceback" not in err


def test_results_depend_on_batching_within_the_measured_bounds(sentiment_model, lm_model):
    """docs/guarantees.md: float32 results are batch-independent to rounding; int8 ones move with
    their batch neighbours by a bounded amount (dynamic quantization scales each batch as a whole)."""
    lines = ["a fine inn by the harbour", "", "rude", "the staff was not rude at all and the rooms were lovely"] * 3
    for quantize, prob_bound, nats_bound in (("none", 1e-5, 1e-3), ("int8", 0.3, 0.2)):
        sentiment = nlpkit.load(sentiment_model[0], quantize=quantize)
        whole = list(sentiment.predict(lines))
        alone = [next(iter(sentiment.predict([line]))) for line in lines]
        worst = max(abs(a["prob"] - b["prob"]) for a, b in zip(whole, alone, strict=True))
        assert worst <= prob_bound, (quantize, worst)
        lm = nlpkit.load(lm_model[0], quantize=quantize)
        whole = [r["loglik"] for r in lm.predict(lines)]
        alone = [next(iter(lm.predict([line])))["loglik"] for line in lines]
        assert max(abs(a - b) for a, b in zip(whole, alone, strict=True)) <= nats_bound, quantize
