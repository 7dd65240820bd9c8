"""The language-model regularisers end to end: trained from the CLI, repeated from the recipe
`nlpkit info --recipe` writes, and their bad values refused in one line."""

import pytest

from nlpkit import modelfile
from tests.conftest import TINY, nlpkit
from tests.conftest import nlpkit as nlpkit_cli

REGULARISERS = [
    "--input-dropout", "0.2", "--layer-dropout", "0.1", "--output-dropout", "0.25", "--embedding-dropout", "0.05",
    "--weight-drop", "0.3", "--ar", "2", "--tar", "1", "--variable-bptt", "--layers", "2",
    "--optimizer", "sgd", "--lr", "2", "--asgd", "1", "--eval-every", "10",
]  # fmt: skip


def test_a_regularised_model_trains_repeats_from_its_recipe_and_is_used_like_any(tmp_path, corpus):
    first = tmp_path / "first.nlpk"
    nlpkit("lm", "train", corpus, "--valid", corpus, "--out", first, *TINY, *REGULARISERS, check=True)
    recipe = tmp_path / "recipe.toml"
    recipe.write_text(nlpkit("info", "--recipe", first, check=True).stdout)
    text = recipe.read_text()
    for line in ("weight_drop = 0.3", "variable_bptt = true", "asgd = 1", "ar = 2.0", "layer_dropout = 0.1"):
        assert line in text
    again = tmp_path / "again.nlpk"
    nlpkit("lm", "train", "--config", recipe, "--out", again, check=True)
    a, b = modelfile.load(first), modelfile.load(again)
    assert a.tensors.keys() == b.tensors.keys()
    for name in a.tensors:
        assert a.tensors[name].equal(b.tensors[name]), name
    scored = nlpkit("lm", "score", again, input="the harbour\n\n", check=True).stdout.splitlines()
    assert len(scored) == 2


@pytest.mark.parametrize(
    "args,message",
    [
        (["--weight-drop", "1.0"], "--weight-drop: 1.0 must lie below 1.0"),
        (["--encoder", "transformer", "--heads", "2", "--weight-drop", "0.2"], "--weight-drop applies to unidirectional recurrent"),
        (["--encoder", "transformer", "--heads", "2", "--layer-dropout", "0.2"], "--layer-dropout applies to unidirectional recurrent"),
        (["--encoder", "transformer", "--heads", "2", "--variable-bptt"], "--variable-bptt applies to recurrent encoders"),
        (["--asgd", "3"], "--asgd averages the iterates of SGD: it needs --optimizer sgd"),
    ],
)  # fmt: skip
def test_bad_regulariser_values_are_one_line_errors(tmp_path, corpus, args, message):
    proc = nlpkit("lm", "train", corpus, "--out", tmp_path / "m.nlpk", "--hidden", "16", "--max-steps", "2", *args)
    assert proc.returncode == 1, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "m.nlpk").exists()


@pytest.mark.parametrize("flag,value", [("--input-dropout", "-0.1"), ("--ar", "-1"), ("--tar", "-0.5")])
def test_negative_values_are_usage_errors_naming_the_option(tmp_path, corpus, flag, value):
    """A value below an option's range is caught by the command line itself (exit 2, as every
    out-of-range flag); through the API it is the one-line error of the option's declaration."""
    import nlpkit
    from nlpkit.errors import NlpkitError

    proc = nlpkit_cli("lm", "train", corpus, "--out", tmp_path / "m.nlpk", flag, value)
    assert proc.returncode == 2 and flag in proc.stderr and "Traceback" not in proc.stderr
    name = flag[2:].replace("-", "_")
    with pytest.raises(NlpkitError, match=f"{name}: {float(value)} is below the smallest allowed value"):
        nlpkit.train("lm", train=[str(corpus)], out=str(tmp_path / "m.nlpk"), **{name: float(value)})
    assert not (tmp_path / "m.nlpk").exists()


def test_diagnose_context_measures_loss_against_context_length(char_model, corpus, tmp_path):
    import json

    proc = nlpkit(
        "diagnose", "context", char_model, "--text", corpus, "--lengths", "1,4,16,64", "--positions", "50",
        "--format", "json", check=True,
    )  # fmt: skip
    found = json.loads(proc.stdout)
    curve = found["results"][str(char_model)]
    assert [r["context"] for r in curve["rows"]] == [1, 4, 16, 64] and curve["positions"] == 50
    losses = [r["loss"] for r in curve["rows"]]
    assert losses[0] > losses[-1]  # a trained model reads more than the last character
    table = nlpkit(
        "diagnose", "context", char_model, "--text", corpus, "--lengths", "1,8", "--positions", "20", check=True
    )
    assert "whole history" in table.stdout and "(lstm)" in table.stdout


def test_diagnose_context_errors(char_model, tmp_path):
    short = tmp_path / "short.txt"
    short.write_text("ab\n")
    proc = nlpkit("diagnose", "context", char_model, "--text", short, "--lengths", "1,50")
    assert proc.returncode == 1 and "too few for a context of 50" in proc.stderr and "Traceback" not in proc.stderr
    proc = nlpkit("diagnose", "context", char_model, "--text", short, "--lengths", "0,2")
    assert proc.returncode == 1 and "--lengths" in proc.stderr
