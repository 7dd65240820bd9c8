"""The Python API as strict as the shell (issue 29): wrong argument shapes, recipes and outputs
are one-line NlpkitErrors, and nothing the caller gave is overwritten."""

import json
import os

import pytest

import nlpkit
from nlpkit import threads
from tests.conftest import ROOT, TINY_API

TRAIN_TSV = ROOT / "data" / "sentiment.train.tsv"


@pytest.mark.parametrize("fixture", ["lm_model", "sentiment_model", "ner_model", "translate_model"])
def test_a_single_text_or_no_iterable_is_refused_not_read_per_character(request, fixture):
    _, model = request.getfixturevalue(fixture)
    with pytest.raises(nlpkit.NlpkitError, match=r"got a single str; give a list: predict\(\[text\]\)"):
        list(model.predict("hello world"))
    for items in (None, 5):
        with pytest.raises(nlpkit.NlpkitError, match="expected an iterable of texts"):
            list(model.predict(items))
    with pytest.raises(nlpkit.NlpkitError):
        model.evaluate(None)
    with pytest.raises(nlpkit.NlpkitError, match="unknown option 'bogus'"):
        list(model.predict(["a"], bogus=1))


def test_records_must_hold_texts(sentiment_model, translate_model):
    with pytest.raises(nlpkit.NlpkitError, match="record 1: expected a .text, label. pair with a str text"):
        sentiment_model[1].evaluate([(None, "pos")])
    with pytest.raises(nlpkit.NlpkitError, match="text pairs"):
        translate_model[1].evaluate([(None, "x")])
    for bad, message in ((dict(length_penalty=float("nan")), "expected a number, got nan"),
                         (dict(max_length_ratio=-1), "below the smallest"), (dict(beam="5"), "expected int")):  # fmt: skip
        with pytest.raises(nlpkit.NlpkitError, match=message):
            list(translate_model[1].predict(["a cat"], **bad))


def test_recipes_are_checked(tmp_path):
    binary = tmp_path / "r.toml"
    binary.write_bytes(b"epochs = 1\n# \xff\xfe\n")
    twice = tmp_path / "twice.toml"
    twice.write_text("max-steps = 1\nmax_steps = 2\n", encoding="utf-8")
    cases = [(dict(recipe=binary), "not a UTF-8 text file"), (dict(recipe=5), "expected the path of a TOML file")]
    cases += [(dict(recipe=twice), "max_steps is given twice"), (dict(dropout=float("nan")), "expected a number")]
    cases += [(dict(hidden=10**20), "far beyond"), (dict(hidden=99999), "above the largest allowed value")]
    for options, message in cases:
        with pytest.raises(nlpkit.NlpkitError, match=message):
            nlpkit.train("sentiment", train=TRAIN_TSV, out=str(tmp_path / "m.nlpk"), **options)


def test_no_output_of_a_run_overwrites_its_inputs_or_another_output(tmp_path):
    data = tmp_path / "train.tsv"
    data.write_bytes(TRAIN_TSV.read_bytes())
    recipe = tmp_path / "me.toml"
    recipe.write_text(f'train = ["{data}"]\nout = "{recipe}"\n', encoding="utf-8")
    out = str(tmp_path / "m.nlpk")
    cases = [
        (dict(train=str(data), out=out, metrics_out=str(data)), "is an input of this run"),
        (dict(train=str(data), out=out, metrics_out=out), "also another output of this run"),
        (dict(recipe=str(recipe)), "is an input of this run"),
    ]
    for options, message in cases:
        with pytest.raises(nlpkit.NlpkitError, match=message):
            nlpkit.train("sentiment", **options)
    assert data.read_bytes() == TRAIN_TSV.read_bytes() and recipe.read_text(encoding="utf-8").startswith("train")
    assert not os.path.exists(out)


def test_resume_of_a_finished_run_is_refused_and_the_model_kept(tmp_path):
    out = tmp_path / "m.nlpk"
    nlpkit.train("sentiment", train=TRAIN_TSV, out=str(out), max_steps=3, **TINY_API)
    before = out.read_bytes()
    with pytest.raises(nlpkit.NlpkitError, match="has finished .it has run its 3 steps."):
        nlpkit.train("sentiment", train=TRAIN_TSV, out=str(out), max_steps=3, resume=True, **TINY_API)
    assert out.read_bytes() == before
    more = nlpkit.train("sentiment", train=TRAIN_TSV, out=str(out), max_steps=5, resume=True, **TINY_API)
    assert more.result.steps == 5 and json.loads(json.dumps(more.metrics))["train"]["steps"] == 5


def test_an_int8_file_is_not_quantized_again(sentiment_model, tmp_path):
    path, model = sentiment_model
    model.save(tmp_path / "q.nlpk", int8=True)
    again = nlpkit.load(tmp_path / "q.nlpk", quantize="none")
    with pytest.raises(nlpkit.NlpkitError, match="int8 already"):
        again.save(tmp_path / "qq.nlpk", int8=True)


def test_a_model_of_another_task_is_named_as_the_commands_name_it(sentiment_model):
    with pytest.raises(nlpkit.NlpkitError, match="a model for 'nlpkit sentiment', not for 'nlpkit lm'"):
        nlpkit.load(sentiment_model[0], task="lm")


def test_threads_zero_is_automatic_everywhere_and_too_many_is_said(monkeypatch, capsys):
    monkeypatch.setenv(threads.ENV, "0")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert threads.choose(0) == threads.free_cores() or threads.choose(0) >= 1
    assert threads.choose(threads.cores() + 5) == threads.cores() + 5
    assert f"is more than this machine's {threads.cores()} cores" in capsys.readouterr().err


def test_a_message_quoting_a_line_break_stays_one_line():
    with pytest.raises(nlpkit.NlpkitError) as caught:
        nlpkit.load("bad\nname.nlpk")
    assert "\n" not in str(caught.value) and "bad\\nname.nlpk" in str(caught.value)


def test_api_arguments_of_the_wrong_kind_are_nlpkit_errors(sentiment_model, lm_model, tmp_path, monkeypatch):
    """Bad-input pass four, row 23: what escaped as TypeError, OSError or AttributeError."""
    monkeypatch.chdir(tmp_path)
    path, model = sentiment_model
    for bad, message in (
        (None, "expected the path"),
        (5, "expected the path"),
        ("/proc/x.nlpk", "cannot write to /proc"),
    ):
        with pytest.raises(nlpkit.NlpkitError, match=message):
            model.save(bad)
    with pytest.raises(nlpkit.NlpkitError, match="out: expected the path"):
        nlpkit.ensemble([path, path], out=5)
    with pytest.raises(nlpkit.NlpkitError, match="device: expected str, got nan"):
        nlpkit.ensemble([path, path], device=float("nan"))
    with pytest.raises(nlpkit.NlpkitError, match="not a usable model file name"):
        nlpkit.load("x" * 10**7)
    with pytest.raises(nlpkit.NlpkitError, match="generator: expected a torch.Generator"):
        lm_model[1].generate("a", generator=5)
    with pytest.raises(nlpkit.NlpkitError, match="on_token: expected a function"):
        lm_model[1].generate("a", on_token=5)
    assert list(tmp_path.iterdir()) == []


def test_saving_over_a_symlink_writes_its_target_and_keeps_the_link(sentiment_model, tmp_path):
    real = tmp_path / "real.nlpk"
    real.write_bytes(b"an earlier model")
    link = tmp_path / "current.nlpk"
    link.symlink_to(real)
    sentiment_model[1].save(link)
    assert link.is_symlink() and nlpkit.info(real)["task"] == "classifier"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current.nlpk", "real.nlpk"]
