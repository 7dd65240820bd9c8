import pytest
import torch

from nlpkit.data.batching import pad
from nlpkit.encoders import EncoderConfig
from nlpkit.errors import NlpkitError
from nlpkit.modelfile import load, save
from nlpkit.tasks.sentiment import ensemble_model as en
from nlpkit.tasks.sentiment import model as cl
from nlpkit.tasks.sentiment.ensemble_members import combine
from nlpkit.tasks.sentiment.task import SentimentTask
from nlpkit.text.tokenizers import VocabTokenizer

WORDS = "good bad fine awful great dull film plot".split()


def classifier(kind="lstm", seed=0, labels=("neg", "pos"), vocab=30, pooling=("max",)):
    torch.manual_seed(seed)
    enc = EncoderConfig(kind=kind, hidden_size=16, heads=2, bidirectional=kind != "transformer")
    cfg = cl.ClassifierConfig(vocab_size=vocab, labels=list(labels), embed_size=8, encoder=enc, pooling=list(pooling))
    return cl.build_model(cfg).eval()


def task(model, tokenizer=None, **meta):
    tokenizer = tokenizer or VocabTokenizer("word", ["<pad>", "<unk>", "<bos>", "<eos>", *WORDS])
    model.config.vocab_size = tokenizer.vocab_size
    return SentimentTask(model, tokenizer, meta, torch.device("cpu"))


def members(*kinds):
    return [task(classifier(k, seed=n, vocab=12)) for n, k in enumerate(kinds)]


def test_the_ensemble_predicts_the_average_of_its_members_probabilities():
    models = members("lstm", "gru", "transformer")
    ensemble = combine(models, ["a", "b", "c"])
    tokens, lengths = pad([[3, 4, 5, 6], [3, 7], [3]])
    expected = torch.stack([torch.softmax(m.model(tokens, lengths), -1) for m in models]).mean(0)
    assert torch.allclose(torch.softmax(ensemble.model(tokens, lengths), -1), expected, atol=1e-6)
    texts = ["good film", "awful plot", ""]
    for got, *single in zip(ensemble.predict(texts), *(m.predict(texts) for m in models), strict=True):
        for label in ("neg", "pos"):
            assert got["probs"][label] == pytest.approx(sum(s["probs"][label] for s in single) / 3, abs=1e-6)
    assert repr(ensemble) == "<nlpkit sentiment ensemble of 3 members: lstm, gru, transformer on cpu>"


def test_padding_does_not_change_an_ensemble_prediction():
    ensemble = combine(members("lstm", "transformer"), ["a", "b"]).model
    alone = ensemble(*pad([[3, 7, 9]]))
    batched = ensemble(*pad([[3, 5, 6, 7, 8, 9, 10], [3, 7, 9]]))
    assert torch.allclose(alone[0], batched[1], atol=1e-5)


def test_a_saved_ensemble_loads_back_with_its_members_and_records(tmp_path):
    a, b, c = members("lstm", "gru", "lstm")
    a.meta = {"recipe": {"seed": 1}, "data": {"sha256": "x"}, "metrics": {"train": {"best": {"valid_accuracy": 0.8}}}}
    b.meta = {"recipe": {"seed": 2}, "data": {"sha256": "x"}}
    pair = combine([a, b], ["a.nlpk", "b.nlpk"])
    trio = combine([pair, c], ["pair.nlpk", "c.nlpk"])  # an ensemble brings its members, not itself
    trio.save(tmp_path / "e.nlpk")
    loaded = SentimentTask.from_file(load(tmp_path / "e.nlpk"))
    assert len(loaded.model.members) == 3 and loaded.model.config.describe() == "3 members: lstm x2, gru"
    assert [r["source"] for r in loaded.meta["ensemble"]] == ["a.nlpk", "b.nlpk", "c.nlpk"]
    assert loaded.meta["ensemble"][0]["valid"] == {"valid_accuracy": 0.8}
    assert loaded.meta["ensemble"][1]["recipe"] == {"seed": 2}
    assert "data" not in loaded.meta  # c records no data: the members' data are not known to agree
    assert loaded.meta["ensemble"][2]["data"] == {}
    tokens, lengths = pad([[3, 4, 5], [3, 9]])
    assert torch.equal(loaded.model(tokens, lengths), trio.model(tokens, lengths))


def test_members_trained_on_the_same_data_give_the_ensemble_that_data():
    a, b = members("lstm", "lstm")
    a.meta = b.meta = {"data": {"sha256": "x", "lines": 3}}
    assert combine([a, b], ["a", "b"]).meta["data"] == {"sha256": "x", "lines": 3}


def test_combining_leaves_the_callers_models_alone():
    a, b = members("lstm", "gru")
    before = a.model.embedding.weight.clone()
    ensemble = combine([a, b], ["a", "b"])
    with torch.no_grad():
        ensemble.model.members[0].embedding.weight.add_(1.0)
    assert torch.equal(a.model.embedding.weight, before)


def test_models_that_cannot_be_averaged_are_refused_in_one_line():
    a, b = members("lstm", "gru")
    with pytest.raises(NlpkitError, match="at least two"):
        combine([a], ["a"])
    other_labels = task(classifier(labels=("neg", "neu", "pos"), vocab=12))
    with pytest.raises(NlpkitError, match=r"b: labels \['neg', 'neu', 'pos'\] differ from a's"):
        combine([a, other_labels], ["a", "b"])
    other_words = task(classifier(vocab=12), VocabTokenizer("word", ["<pad>", "<unk>", "<bos>", "<eos>", *WORDS[::-1]]))
    with pytest.raises(NlpkitError, match="b: its tokenizer differs from a's; train the members on the same data"):
        combine([a, other_words], ["a", "b"])
    with pytest.raises(NlpkitError, match="b: a str model; ensembles are of sentiment models"):
        combine([a, "not a model"], ["a", "b"])
    b.quantized = True
    with pytest.raises(NlpkitError, match="b: loaded quantized"):
        combine([a, b], ["a", "b"])


def test_the_config_checks_its_members():
    one = classifier().config
    with pytest.raises(ValueError, match="2 to 64 members"):
        en.EnsembleConfig([one])
    with pytest.raises(ValueError, match="member 2 has labels"):
        en.EnsembleConfig([one, classifier(labels=("a", "b")).config])
    with pytest.raises(ValueError, match="member 2 has 31 tokens, member 1 30"):
        en.EnsembleConfig([one, classifier(vocab=31).config])
    assert en.EnsembleConfig([one, one]).max_len == one.max_len


def test_a_file_claiming_thousands_of_members_is_refused_before_any_is_built(tmp_path):
    ensemble = combine(members("lstm", "lstm"), ["a", "b"])
    ensemble.save(tmp_path / "e.nlpk")
    saved = load(tmp_path / "e.nlpk")
    saved.meta["model"]["members"] *= 5000
    save(tmp_path / "big.nlpk", saved)
    with pytest.raises(NlpkitError, match="big.nlpk: the metadata does not describe a valid model.*2 to 64 members"):
        SentimentTask.from_file(load(tmp_path / "big.nlpk"))
