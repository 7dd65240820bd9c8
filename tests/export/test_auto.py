"""`runtime="auto"` (nlpkit.export.auto): a .nlpk runs on the fastest exact runtime, converted once
into the cache (nlpkit.export.cache), with the .nlpk's results; bad caches and options the runtime
cannot honour fall back or are refused in one line."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import nlpkit
from nlpkit.errors import NlpkitError
from nlpkit.export import cache

from ..conftest import ROOT
from ..conftest import nlpkit as run_cli

pytestmark = pytest.mark.extras  # CI runs these again with the extras blocked (.ci/run)

TINY = dict(device="cpu", quiet=True, seed=0, max_steps=20)
LINES = ["A man is walking .", "Two dogs play in the snow .", "", "A woman reads a book ."]


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty conversion cache; the tests that convert for CTranslate2 need it installed."""
    place = tmp_path / "cache"
    monkeypatch.setenv("NLPKIT_CACHE", str(place))
    return place


@pytest.fixture
def terminal(monkeypatch):
    """stderr as a terminal: the notes for a person watching (nlpkit.console.note) are shown."""
    from rich.console import Console

    from nlpkit import console

    monkeypatch.setattr(console, "_console", Console(stderr=True, force_terminal=True, highlight=False, width=400))


@pytest.fixture(scope="module")
def transformer_lm(tmp_path_factory):
    out = tmp_path_factory.mktemp("auto") / "lm.nlpk"
    nlpkit.train(
        "lm", train=ROOT / "data" / "sample.txt", out=out, encoder="transformer", layers=2, hidden=32, heads=2,
        context=24, batch_size=8, tokenizer="char", **TINY,
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def transformer_translator(tmp_path_factory):
    out = tmp_path_factory.mktemp("auto") / "t.nlpk"
    nlpkit.train(
        "translate", src=ROOT / "data" / "translate.train.en", tgt=ROOT / "data" / "translate.train.fr", out=out,
        encoder="transformer", layers=1, hidden=32, heads=4, tokenizer="bpe:300", batch_tokens=512, **TINY,
    )  # fmt: skip
    return out


def conversions() -> list[str]:
    folder = cache.root() / "conversions"
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else []


def test_a_transformer_lm_runs_in_ctranslate2_with_the_nlpk_results(transformer_lm, fresh_cache, terminal, capsys):
    pytest.importorskip("ctranslate2")
    auto, plain = nlpkit.load(transformer_lm), nlpkit.load(transformer_lm, runtime="torch")
    assert auto.runtime == "CTranslate2 float32" and plain.runtime == "PyTorch float32"
    assert "converting it for CTranslate2" in capsys.readouterr().err
    options = dict(max_new_tokens=40, temperature=0.0)
    assert auto.generate("The ", **options) == plain.generate("The ", **options)
    named = nlpkit.load(transformer_lm, runtime="ct2")  # scoring runs on CTranslate2 when it is named
    for a, b in zip(named.predict(LINES), plain.predict(LINES), strict=True):
        assert a["tokens"] == b["tokens"] and a["loglik"] == pytest.approx(b["loglik"], abs=1e-3)
    assert named.runtime == "CTranslate2 float32"
    list(auto.predict(LINES))  # under auto, scoring (not measured faster there) runs in PyTorch
    assert auto.runtime == "PyTorch float32"
    assert [c.endswith("-ct2") for c in conversions()] == [True]
    again = nlpkit.load(transformer_lm)  # from the cache: no second conversion
    assert again.runtime == "CTranslate2 float32" and "converting" not in capsys.readouterr().err
    assert len(conversions()) == 1
    assert nlpkit.info(transformer_lm)["runtime"].startswith("CTranslate2 float32 (converted, in ")


def test_a_transformer_translator_runs_in_ctranslate2_with_the_nlpk_results(transformer_translator, fresh_cache):
    pytest.importorskip("ctranslate2")
    auto, plain = nlpkit.load(transformer_translator), nlpkit.load(transformer_translator, runtime="torch")
    assert auto.runtime == "CTranslate2 float32"
    for beam in (1, 3):
        got, want = list(auto.predict(LINES, beam=beam)), list(plain.predict(LINES, beam=beam))
        assert [g["translation"] for g in got] == [w["translation"] for w in want]
        for g, w in zip(got, want, strict=True):
            assert g["translations"][0]["score"] == pytest.approx(w["translations"][0]["score"], abs=1e-3)


def test_classifiers_run_in_onnxruntime_with_the_nlpk_results(ner_model, sentiment_model, fresh_cache):
    pytest.importorskip("onnxruntime")
    assert nlpkit.load(ner_model[0]).runtime == "PyTorch float32"  # a tagger: PyTorch was measured faster
    tagger, plain = nlpkit.load(ner_model[0], runtime="onnx"), nlpkit.load(ner_model[0], runtime="torch")
    assert tagger.runtime == "onnxruntime float32"
    texts = ["Ann went to Paris .", "", "John Smith met the EU in Berlin on Monday ."]
    assert [r["tags"] for r in tagger.predict(texts)] == [r["tags"] for r in plain.predict(texts)]
    classifier, plain = nlpkit.load(sentiment_model[0]), nlpkit.load(sentiment_model[0], runtime="torch")
    assert classifier.runtime == "onnxruntime float32"
    for a, b in zip(classifier.predict(texts), plain.predict(texts), strict=True):
        assert a["label"] == b["label"] and a["prob"] == pytest.approx(b["prob"], abs=1e-4)


def test_recurrent_models_stay_in_pytorch_without_a_conversion(lm_model, translate_model, fresh_cache):
    pytest.importorskip("ctranslate2")
    for path in (lm_model[0], translate_model[0]):
        assert nlpkit.load(path).runtime == "PyTorch float32"
    assert conversions() == []
    with pytest.raises(NlpkitError, match="CTranslate2 runs Transformers; this is a lstm model"):
        nlpkit.load(lm_model[0], runtime="ct2")


def test_an_option_ctranslate2_cannot_honour_moves_auto_to_pytorch(
    terminal, transformer_lm, transformer_translator, fresh_cache, capsys
):
    pytest.importorskip("ctranslate2")
    many = nlpkit.load(transformer_lm)  # many samples at once: PyTorch was measured faster
    assert len(many.generate("The ", max_new_tokens=5, num_samples=8, seed=1)) == 8
    assert many.runtime == "PyTorch float32" and "8 samples at once" in capsys.readouterr().err
    lm, plain = nlpkit.load(transformer_lm), nlpkit.load(transformer_lm, runtime="torch")
    options = dict(max_new_tokens=30, temperature=0.0, repetition_penalty=1.3)
    assert lm.generate("The ", **options) == plain.generate("The ", **options)
    assert lm.runtime == "PyTorch float32" and "running it in PyTorch" in capsys.readouterr().err
    translator = nlpkit.load(transformer_translator)
    plain = nlpkit.load(transformer_translator, runtime="torch")
    got = list(translator.predict(LINES, beam=3, coverage_penalty=0.2))
    assert [g["translation"] for g in got] == [
        w["translation"] for w in plain.predict(LINES, beam=3, coverage_penalty=0.2)
    ]
    named = nlpkit.load(transformer_lm, runtime="ct2")  # named, the runtime's refusal is the error
    with pytest.raises(NlpkitError, match="repetition_penalty"):
        named.generate("The ", **options)


def test_a_damaged_or_foreign_conversion_is_refused_and_rebuilt(
    transformer_lm, transformer_translator, fresh_cache, capsys
):
    pytest.importorskip("ctranslate2")
    want = nlpkit.load(transformer_lm, runtime="torch").generate("The ", max_new_tokens=20, temperature=0.0)
    nlpkit.load(transformer_lm)
    (name,) = conversions()
    place = cache.root() / "conversions" / name
    weights = place / "model.bin"
    data = bytearray(weights.read_bytes())
    data[-5] ^= 0xFF
    weights.write_bytes(bytes(data))
    model = nlpkit.load(transformer_lm)
    assert "has changed since it was written" in capsys.readouterr().err
    assert model.generate("The ", max_new_tokens=20, temperature=0.0) == want
    nlpkit.load(transformer_translator)  # a second model's conversion, moved into the first's place
    other = cache.root() / "conversions" / next(n for n in conversions() if n != name)
    import shutil

    shutil.rmtree(place)
    shutil.copytree(other, place)
    assert nlpkit.load(transformer_lm).generate("The ", max_new_tokens=20, temperature=0.0) == want
    assert "the conversion of another model" in capsys.readouterr().err


def test_a_cache_that_cannot_be_written(transformer_lm, tmp_path, monkeypatch, capsys):
    pytest.importorskip("ctranslate2")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("NLPKIT_CACHE", str(blocker / "cache"))
    want = nlpkit.load(transformer_lm, runtime="torch").generate("The ", max_new_tokens=20, temperature=0.0)
    auto = nlpkit.load(transformer_lm)
    assert auto.runtime == "PyTorch float32"
    assert "the conversion cache cannot be written" in capsys.readouterr().err
    named = nlpkit.load(transformer_lm, runtime="ct2")  # named: converted for this run only
    assert named.runtime == "CTranslate2 float32" and "for this run only" in capsys.readouterr().err
    assert named.generate("The ", max_new_tokens=20, temperature=0.0) == want
    assert blocker.read_text() == "not a folder"


def test_runtimes_that_do_not_apply_are_refused_in_one_line(transformer_lm, sentiment_model, fresh_cache, monkeypatch):
    with pytest.raises(NlpkitError, match="runtime"):
        nlpkit.load(transformer_lm, runtime="tensorrt")
    with pytest.raises(NlpkitError, match="CTranslate2 runs lm, translate models in nlpkit; this is a sentiment model"):
        nlpkit.load(sentiment_model[0], runtime="ct2")
    with pytest.raises(NlpkitError, match="onnxruntime runs sentiment, ner, translate models"):
        nlpkit.load(transformer_lm, runtime="onnx")
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ctranslate2" else real(name, *a))
    with pytest.raises(NlpkitError, match=r"needs ctranslate2: pip install 'nlpkit\[ct2\]'"):
        nlpkit.load(transformer_lm, runtime="ct2")
    assert nlpkit.load(transformer_lm).runtime == "PyTorch float32"  # auto without the extra
    assert conversions() == []


def test_int8_picks_the_faster_form_once_and_remembers_it(transformer_lm, fresh_cache, terminal, capsys):
    pytest.importorskip("ctranslate2")
    model = nlpkit.load(transformer_lm, quantize="int8")
    assert model.runtime in ("CTranslate2 int8", "PyTorch int8")
    assert "measuring PyTorch int8 against CTranslate2 int8" in capsys.readouterr().err
    again = nlpkit.load(transformer_lm, quantize="int8")
    assert again.runtime == model.runtime and "measuring" not in capsys.readouterr().err
    (choices,) = (cache.root() / "choices").iterdir()
    remembered = json.loads(choices.read_text())
    assert any(k.startswith("int8 on ") and v in ("ct2", "torch") for k, v in remembered.items())


def test_two_processes_converting_one_model_at_once_build_it_once(transformer_lm, fresh_cache):
    pytest.importorskip("ctranslate2")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "FORCE_COLOR": "1"}  # stderr shown as to a terminal
    cmd = [sys.executable, "-m", "nlpkit", "generate", str(transformer_lm), "--prompt", "The ", "--temperature", "0",
           "--max-new-tokens", "20"]  # fmt: skip
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)
    ]
    outs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert outs[0][0] == outs[1][0]
    assert sum("converting it" in err for _, err in outs) == 1
    assert len(conversions()) == 1
    assert not [p for p in (cache.root() / "conversions").iterdir() if p.name.startswith(".") and p.is_dir()]


def test_the_commands_say_which_runtime_ran(transformer_lm, fresh_cache):
    pytest.importorskip("ctranslate2")
    args = ["generate", transformer_lm, "--prompt", "The ", "--temperature", "0", "--max-new-tokens", "20"]
    auto = run_cli(*args, check=True, env={"FORCE_COLOR": "1"})  # the start-up note is for a terminal
    assert f"{transformer_lm}: running in CTranslate2 float32" in auto.stderr
    piped = run_cli(*args, check=True)
    assert piped.stdout == auto.stdout and piped.stderr == ""  # off a terminal, stderr is for errors
    plain = run_cli(*args, "--runtime", "torch", check=True, env={"FORCE_COLOR": "1"})
    assert plain.stdout == auto.stdout and "running in" not in plain.stderr
    scored = run_cli("lm", "score", transformer_lm, "--runtime", "ct2", input="\n".join(LINES) + "\n", check=True)
    assert len(scored.stdout.splitlines()) == len(LINES)
    shown = json.loads(run_cli("info", transformer_lm, "--format", "json", check=True).stdout)
    assert shown["runtime"].startswith("CTranslate2 float32 (converted, in ")
    bad = run_cli(*args, "--runtime", "fast")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and "fast" in bad.stderr
    assert Path(transformer_lm).is_file()


def test_a_model_auto_runs_elsewhere_still_saves_quantizes_and_ensembles(sentiment_model, tmp_path, fresh_cache):
    pytest.importorskip("onnxruntime")
    texts = ["a fine film", "dull and long", ""]
    model = nlpkit.load(sentiment_model[0])
    assert model.runtime == "onnxruntime float32"
    expected = [r["label"] for r in model.predict(texts)]
    model.save(tmp_path / "copy.nlpk")  # its .nlpk in PyTorch does what a .nlpk does
    assert model.runtime == "PyTorch float32"
    assert [r["label"] for r in nlpkit.load(tmp_path / "copy.nlpk", runtime="torch").predict(texts)] == expected
    assert nlpkit.load(sentiment_model[0]).quantize().runtime == "PyTorch int8"
    both = nlpkit.ensemble([nlpkit.load(sentiment_model[0]), nlpkit.load(sentiment_model[0])])
    assert [r["label"] for r in both.predict(texts)] == expected
