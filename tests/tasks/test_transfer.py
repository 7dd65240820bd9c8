"""Backward language models and ELMo-style forward + backward transfer, through the Python API."""

import pytest

import nlpkit
from nlpkit.errors import NlpkitError
from tests.conftest import ROOT

TINY = dict(hidden=16, layers=1, device="cpu", quiet=True, seed=0, max_steps=10, context=8, tokenizer="word")
SAMPLE = [str(ROOT / "data" / "sample.txt")]


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pair")
    fwd = nlpkit.train("lm", train=SAMPLE, out=str(folder / "fwd.nlpk"), **TINY)
    bwd = nlpkit.train("lm", train=SAMPLE, out=str(folder / "bwd.nlpk"), direction="backward", **TINY)
    return folder, fwd, bwd


def test_backward_model_reads_right_to_left(pair):
    folder, fwd, bwd = pair
    loaded = nlpkit.load(str(folder / "bwd.nlpk"))
    assert loaded.direction == "backward" and loaded.meta["direction"] == "backward"
    assert nlpkit.load(str(folder / "fwd.nlpk")).direction == "forward"
    text = " ".join((ROOT / "data" / "sample.txt").read_text(encoding="utf-8").split()[:6])
    assert loaded.tokenizer.encode(text) == fwd.tokenizer.encode(text)[::-1]
    assert loaded.tokenizer.decode(loaded.tokenizer.encode(text)) == text
    [scored] = list(loaded.predict([text]))
    assert scored["tokens"] == 7 and scored["loglik"] < 0
    assert loaded.evaluate([text, text])["tokens"] == fwd.evaluate([text, text])["tokens"]
    with pytest.raises(NlpkitError, match="backward language model predicts what comes before"):
        loaded.generate("the cat")


def test_classifier_and_tagger_start_from_both(pair, tmp_path):
    folder, fwd, bwd = pair
    clf = nlpkit.train(
        "sentiment",
        train=[str(ROOT / "data" / "sentiment.train.tsv")],
        init_from=str(folder / "fwd.nlpk"),
        init_from_backward=str(folder / "bwd.nlpk"),
        pooling="last,max",
        out=str(tmp_path / "c.nlpk"),
        device="cpu",
        quiet=True,
        max_steps=5,
    )
    assert clf.model.config.backward and clf.meta["transfer"]["init_from_backward"].endswith("bwd.nlpk")
    loaded = nlpkit.load(str(tmp_path / "c.nlpk"))
    assert len(list(loaded.predict(["a warm evening", ""]))) == 2
    tagger = nlpkit.train(
        "ner",
        train=[str(ROOT / "data" / "ner.train.conll")],
        init_from=str(folder / "fwd.nlpk"),
        init_from_backward=str(folder / "bwd.nlpk"),
        out=str(tmp_path / "t.nlpk"),
        device="cpu",
        quiet=True,
        max_steps=5,
    )
    assert tagger.model.config.backward
    [tagged] = list(nlpkit.load(str(tmp_path / "t.nlpk")).predict(["Ada walked to Paris ."]))
    assert "entities" in tagged


def test_pair_refusals(pair, tmp_path):
    folder, _, _ = pair
    other = nlpkit.train(
        "lm",
        train=[str(ROOT / "data" / "sample.valid.txt")],
        direction="backward",
        out=str(tmp_path / "other.nlpk"),
        **TINY,
    )
    assert other.direction == "backward"
    common = dict(train=[str(ROOT / "data" / "sentiment.train.tsv")], out=str(tmp_path / "c.nlpk"), quiet=True)
    cases = [
        (dict(init_from=str(folder / "bwd.nlpk")), "a backward language model; give it as init_from_backward"),
        (dict(init_from=str(folder / "fwd.nlpk"), init_from_backward=str(folder / "fwd.nlpk")), "reads left to right"),
        (
            dict(init_from=str(folder / "fwd.nlpk"), init_from_backward=str(tmp_path / "other.nlpk")),
            "different vocabularies",
        ),
        (dict(init_from_backward=str(folder / "bwd.nlpk")), "init_from_backward goes beside init_from"),
    ]
    for options, message in cases:
        with pytest.raises(NlpkitError, match=message):
            nlpkit.train("sentiment", **common, **options)


def test_lm_goes_on_from_another_on_new_text(pair, tmp_path):
    """The ULMFiT middle step: a general model adapted to the task's own text keeps its vocabulary."""
    folder, _, bwd = pair
    adapted = nlpkit.train(
        "lm",
        train=[str(ROOT / "data" / "sample.valid.txt")],
        init_from=str(folder / "bwd.nlpk"),
        out=str(tmp_path / "adapted.nlpk"),
        device="cpu",
        quiet=True,
        max_steps=5,
        context=8,
    )
    loaded = nlpkit.load(str(tmp_path / "adapted.nlpk"))
    assert adapted.direction == loaded.direction == "backward" and loaded.meta["init_from"].endswith("bwd.nlpk")
    assert loaded.tokenizer.symbols == bwd.tokenizer.symbols
    assert any(not (a == b).all() for a, b in zip(loaded.model.parameters(), bwd.model.parameters(), strict=True))


def test_a_regularised_language_model_starts_a_classifier_and_a_tagger(tmp_path):
    """Weight drop and locked layer dropout are the language model's own training choices: the
    classifier and tagger it starts read padded batches, and train without them."""
    regularised = dict(TINY, layers=2, weight_drop=0.3, layer_dropout=0.2, input_dropout=0.1, ar=1.0, tar=1.0)
    lm = nlpkit.train("lm", train=SAMPLE, out=str(tmp_path / "lm.nlpk"), variable_bptt=True, **regularised)
    assert lm.model.config.encoder.weight_drop == 0.3 and lm.meta["recipe"]["variable_bptt"] is True
    clf = nlpkit.train(
        "sentiment", train=[str(ROOT / "data" / "sentiment.train.tsv")], init_from=str(tmp_path / "lm.nlpk"),
        out=str(tmp_path / "c.nlpk"), device="cpu", quiet=True, max_steps=3,
    )  # fmt: skip
    assert clf.model.config.encoder.weight_drop == 0.0
    tagger = nlpkit.train(
        "ner", train=[str(ROOT / "data" / "ner.train.conll")], init_from=str(tmp_path / "lm.nlpk"),
        out=str(tmp_path / "t.nlpk"), device="cpu", quiet=True, max_steps=3,
    )  # fmt: skip
    assert tagger.model.config.encoder.layer_dropout == 0.0
