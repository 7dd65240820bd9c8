"""The Python API: nlpkit.train / nlpkit.load / predict / evaluate for every task, in-process."""

import json
import types

import pytest

import nlpkit
from nlpkit.tasks.lm.task import LanguageModelTask
from nlpkit.tasks.ner.task import NERTask
from nlpkit.tasks.sentiment.task import SentimentTask
from nlpkit.tasks.translate.task import TranslationTask

from .conftest import ROOT
from .conftest import TINY_API as TINY

DATA = ROOT / "data"


def test_train_returns_the_model_and_writes_the_file(lm_model):
    out, model = lm_model
    assert isinstance(model, LanguageModelTask) and out.exists()
    assert model.result.steps == 20 and "valid_loss" in model.metrics["valid"]
    assert model.recipe["context"] == 16 and model.recipe["max_steps"] == 20 and "out" not in model.recipe


@pytest.mark.parametrize(
    ("fixture", "cls"),
    [("lm_model", LanguageModelTask), ("sentiment_model", SentimentTask), ("ner_model", NERTask),
     ("translate_model", TranslationTask)],
)  # fmt: skip
def test_load_returns_the_task_of_the_file(request, fixture, cls):
    out, _ = request.getfixturevalue(fixture)
    model = nlpkit.load(out, device="cpu", runtime="torch")
    assert type(model) is cls and not model.model.training
    assert type(nlpkit.load(out, device="cpu")) is cls  # whatever runtime auto picks
    assert model.recipe == request.getfixturevalue(fixture)[1].recipe


def test_lm_predict_is_lazy_and_in_order(lm_model):
    model = nlpkit.load(lm_model[0])
    consumed = []

    def texts():
        for t in ["the harbour", "", "Mara sailed at dawn"]:
            consumed.append(t)
            yield t

    results = model.predict(texts(), chunk_size=1)
    assert isinstance(results, types.GeneratorType) and consumed == []
    first = next(results)
    assert consumed == ["the harbour"] and first["tokens"] == len("the harbour") + 1 and first["loglik"] < 0
    rest = list(results)
    assert [r["tokens"] for r in rest] == [1, len("Mara sailed at dawn") + 1]


def test_lm_evaluate_matches_the_cli_json(lm_model):
    from .conftest import nlpkit as cli

    model = nlpkit.load(lm_model[0])
    path = DATA / "sample.valid.txt"
    ours = model.evaluate(path)
    theirs = json.loads(cli("lm", "eval", lm_model[0], path, "--format", "json", check=True).stdout)
    assert ours == theirs and set(ours) == {"loss", "perplexity", "tokens", "bits_per_char"}
    assert model.evaluate(path.read_text().splitlines())["tokens"] == ours["tokens"]


def test_lm_generate_repeats_with_a_seed(lm_model):
    model = nlpkit.load(lm_model[0])
    a = model.generate("At dawn", max_new_tokens=12, seed=3)
    b = model.generate("At dawn", max_new_tokens=12, seed=3)
    assert a == b and len(a) == 1
    with pytest.raises(nlpkit.NlpkitError, match="top_p"):
        model.generate("x", top_p=2.0)


def test_sentiment_predict_and_evaluate(sentiment_model):
    model = nlpkit.load(sentiment_model[0])
    results = list(model.predict(["The bakery was lovely.", "", "The ferry staff was rude."]))
    assert len(results) == 3 and all(r["label"] in {"neg", "pos"} for r in results)
    assert all(abs(sum(r["probs"].values()) - 1) < 1e-4 and r["prob"] == max(r["probs"].values()) for r in results)
    scores = model.evaluate(DATA / "sentiment.valid.tsv")
    assert set(scores["per_class"]) == {"neg", "pos"} and 0 <= scores["accuracy"] <= 1
    rows = [r.split("\t") for r in (DATA / "sentiment.valid.tsv").read_text().splitlines()]
    text, label = rows[0].index("text"), rows[0].index("label")
    pairs = [(r[text], r[label]) for r in rows[1:]]
    assert model.evaluate(pairs)["accuracy"] == scores["accuracy"]
    with pytest.raises(nlpkit.NlpkitError, match="record 1: label 'meh' was not seen in training"):
        model.evaluate([("fine", "meh")])


def test_an_ensemble_of_paths_and_loaded_models(sentiment_model, ner_model, tmp_path):
    path, trained = sentiment_model
    single = list(nlpkit.load(path).predict(["The bakery was lovely.", "rude"]))
    ensemble = nlpkit.ensemble([path, trained], out=tmp_path / "e.nlpk", device="cpu")
    for model in (ensemble, nlpkit.load(tmp_path / "e.nlpk")):  # two copies of one model: its own predictions
        for got, want in zip(model.predict(["The bakery was lovely.", "rude"]), single, strict=True):
            assert got["label"] == want["label"] and got["prob"] == pytest.approx(want["prob"], abs=1e-5)
    assert [r["source"] for r in ensemble.meta["ensemble"]] == [str(path), "model 2"]
    assert (
        ensemble.evaluate(DATA / "sentiment.valid.tsv")["accuracy"]
        == trained.evaluate(DATA / "sentiment.valid.tsv")["accuracy"]
    )
    with pytest.raises(nlpkit.NlpkitError, match="a model for 'nlpkit ner', not for 'nlpkit sentiment'"):
        nlpkit.ensemble([path, ner_model[0]])


def test_tagger_predicts_text_and_tokens(ner_model):
    model = nlpkit.load(ner_model[0])
    text = "Greta Sato sailed from Gull Point to Northwick."
    raw, tokens, empty = model.predict([text, text.rstrip(".").split() + ["."], ""])
    assert raw["words"][0] == "Greta" and len(raw["tags"]) == len(raw["words"]) == len(raw["offsets"])
    assert raw["tags"] == tokens["tags"]
    for e in raw["entities"]:
        assert text[e["start"] : e["end"]] == e["text"] and 0 < e["score"] <= 1
    assert empty == {"text": "", "words": [], "offsets": [], "tags": [], "entities": []}
    fast = next(model.predict([text], scores=False))
    assert [e["type"] for e in fast["entities"]] == [e["type"] for e in raw["entities"]]


def test_tagger_evaluate_on_files_and_records(ner_model, tmp_path):
    model = nlpkit.load(ner_model[0])
    scores = model.evaluate(DATA / "ner.valid.conll", predictions=str(tmp_path / "p.conll"))
    assert {"precision", "recall", "f1", "per_type", "entities", "scheme"} <= set(scores)
    assert len((tmp_path / "p.conll").read_text().splitlines()[0].split("\t")) == 3
    sentences, tokens, tags = [], [], []
    for line in (DATA / "ner.valid.conll").read_text().splitlines() + [""]:
        if line.strip():
            token, tag = line.split()[0], line.split()[-1]
            tokens.append(token)
            tags.append(tag)
        elif tokens:
            sentences.append((tokens, tags))
            tokens, tags = [], []
    assert model.evaluate(sentences)["f1"] == scores["f1"]
    with pytest.raises(nlpkit.NlpkitError, match="record 1: expected"):
        model.evaluate([(["a", "b"], ["O"])])


def test_translation_predict_and_evaluate(translate_model):
    model = nlpkit.load(translate_model[0])
    lines = ["The proud weaver walks to the green chapel .", "", "A tired dog sleeps ."]
    results = list(model.predict(lines, beam=2, n_best=2, alignments=True))
    assert [r["source"] for r in results] == lines
    assert results[1]["translation"] == "" and results[1]["translations"] == [{"text": "", "score": 0.0}]
    assert len(results[0]["translations"]) == 2 and results[0]["translation"] == results[0]["translations"][0]["text"]
    assert results[0]["alignment"]["source"][-1] == "</s>"
    src, ref = DATA / "translate.valid.en", DATA / "translate.valid.fr"
    scores = model.evaluate((src, ref), beam=1)
    assert {"bleu", "chrf", "bleu_signature"} <= set(scores)
    pairs = list(zip(src.read_text().splitlines(), ref.read_text().splitlines(), strict=True))
    assert model.evaluate(pairs, beam=1)["bleu"] == scores["bleu"]
    with pytest.raises(nlpkit.NlpkitError, match="n_best 3 cannot exceed beam 2"):
        next(model.predict(["x"], beam=2, n_best=3))
    covered = list(model.predict(lines, beam=3, coverage_penalty=0.3))
    assert [r["source"] for r in covered] == lines and covered[1]["translation"] == ""
    assert model.evaluate(pairs, beam=3, coverage_penalty=0.3)["coverage_penalty"] == 0.3
    with pytest.raises(nlpkit.NlpkitError, match="coverage_penalty: -0.5 is below the smallest allowed value"):
        next(model.predict(["x"], coverage_penalty=-0.5))
    with pytest.raises(nlpkit.NlpkitError, match="give beam 2 or more"):
        next(model.predict(["x"], beam=1, coverage_penalty=0.2))


def test_length_penalty_sweep_scores_each_and_names_the_best(translate_model):
    model = nlpkit.load(translate_model[0])
    pairs = list(zip((DATA / "translate.valid.en").read_text().splitlines()[:30],
                     (DATA / "translate.valid.fr").read_text().splitlines()[:30], strict=True))  # fmt: skip
    found = model.sweep_length_penalty(pairs, [1.0, 0.0, 1.0], beam=2)
    assert [r["length_penalty"] for r in found["sweep"]] == [0.0, 1.0]
    for r in found["sweep"]:
        assert r["bleu"] == model.evaluate(pairs, beam=2, length_penalty=r["length_penalty"])["bleu"]
    assert found["best"] == max(found["sweep"], key=lambda r: (r["bleu"], -r["length_penalty"]))["length_penalty"]
    with pytest.raises(nlpkit.NlpkitError, match="numbers >= 0"):
        model.sweep_length_penalty(pairs, [-1.0])
    with pytest.raises(nlpkit.NlpkitError, match="one length penalty"):
        model.sweep_length_penalty(pairs, [0.0, 1.0], hypotheses="h.txt")


def test_resume_through_the_api(tmp_path):
    out = tmp_path / "r.nlpk"
    common = dict(train=DATA / "sample.txt", out=out, context=16, batch_size=8, **TINY)
    nlpkit.train("lm", max_steps=5, **common)
    model = nlpkit.train("lm", max_steps=10, resume=True, **common)
    assert model.result.steps == 10


def test_recipe_file_with_keyword_overrides(tmp_path):
    recipe = tmp_path / "r.toml"
    recipe.write_text(f'train = ["{DATA / "sample.txt"}"]\ncontext = 16\nmax-steps = 3\nhidden = 16\nlayers = 1\n')
    model = nlpkit.train("lm", recipe=str(recipe), max_steps=4, out=tmp_path / "m.nlpk", quiet=True, device="cpu")
    assert model.result.steps == 4 and model.recipe["context"] == 16


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (dict(crf="yes"), "crf: expected bool, got 'yes'"),
        (dict(hiden=16), "unknown option 'hiden'; did you mean hidden?"),
        (dict(dropout=2.0), "dropout: 2.0 is above the largest allowed value"),
        (dict(scheme="bio"), "scheme: 'bio' is not one of auto, iob1, iob2, bioes"),
        (dict(time_budget="soon"), "time_budget: bad duration"),
        (dict(train=["missing.conll"]), "missing.conll: no such file"),
    ],
)
def test_bad_options_raise_one_error_type(tmp_path, options, message):
    base = dict(train=DATA / "ner.train.conll", out=tmp_path / "x.nlpk", max_steps=1, **TINY)
    with pytest.raises(nlpkit.NlpkitError, match=message.replace("?", r"\?").replace("(", r"\(")):
        nlpkit.train("ner", **{**base, **options})


def test_bad_data_names_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("text\tlabel\ngood\tpos\n\tneg\n")
    with pytest.raises(nlpkit.NlpkitError, match=r"bad.tsv:3: row has no text"):
        nlpkit.train("sentiment", train=bad, out=tmp_path / "x.nlpk", max_steps=1, **TINY)


def test_unknown_task_and_foreign_files(tmp_path):
    with pytest.raises(nlpkit.NlpkitError, match="unknown task 'parse'"):
        nlpkit.train("parse")
    with pytest.raises(nlpkit.NlpkitError, match="not an nlpkit model file"):
        nlpkit.load(DATA / "sample.txt")


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("", "out: give a file name"),
        ("{tmp}", "exists and is not a regular file"),
        ("{train}", "is an input of this run"),
        ("/proc/nlpkit-model.nlpk", "cannot write to /proc"),
        ("{tmp}/newdir/", "names a folder; give a file name"),
        ("newdir/", "names a folder; give a file name"),
    ],
)
def test_a_bad_out_is_refused_before_training(tmp_path, monkeypatch, out, message):
    train = tmp_path / "train.txt"
    train.write_text((DATA / "sample.txt").read_text())
    before = train.read_bytes()
    monkeypatch.chdir(tmp_path)  # a relative name, or a checkpoint beside one, would land here
    with pytest.raises(nlpkit.NlpkitError, match=message):
        nlpkit.train("lm", train=train, out=out.format(tmp=tmp_path, train=train), max_steps=1, context=16, **TINY)
    assert train.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.txt"]  # dot files too: no .ckpt, no newdir


def test_resume_from_a_model_file_without_training_state(tmp_path, lm_model):
    import shutil

    out = tmp_path / "m.nlpk"
    shutil.copy(lm_model[0], str(out) + ".ckpt")  # a finished model file where the checkpoint should be
    with pytest.raises(nlpkit.NlpkitError, match="holds no training state"):
        nlpkit.train("lm", train=DATA / "sample.txt", out=out, resume=True, context=16, **TINY)


def test_training_removes_temporary_files_a_killed_run_left(tmp_path):
    out = tmp_path / "m.nlpk"
    orphans = [tmp_path / ".m.nlpk.ab12cd_3", tmp_path / ".m.nlpk.ckpt.zz99yy00"]
    keep = tmp_path / ".m.nlpk.notes"
    for f in [*orphans, keep]:
        f.write_bytes(b"partial")
    nlpkit.train("lm", train=DATA / "sample.txt", out=out, max_steps=1, context=16, **TINY)
    assert not any(f.exists() for f in orphans) and keep.exists() and out.exists()


def test_tagger_tags_long_lines_in_windows(ner_model):
    from nlpkit.text.schemes import to_spans

    model = nlpkit.load(ner_model[0])
    text = "Greta Sato sailed from Gull Point to Northwick . " * 40  # 360 words
    whole = next(model.predict([text], window=1000))
    windows = next(model.predict([text], window=64))
    assert len(windows["tags"]) == len(windows["words"]) == len(whole["words"]) == 360
    assert to_spans(windows["tags"], model.model.config.scheme)[1] == 0  # well formed: nothing to repair
    for e in windows["entities"]:
        assert text[e["start"] : e["end"]] == e["text"]
