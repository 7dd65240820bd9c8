"""Starting embeddings from word vectors: lookup, coverage, freezing, growth after training, and
every task through the Python API."""

import pytest
import torch

import nlpkit
from nlpkit.errors import NlpkitError
from nlpkit.text.tokenizers import VocabTokenizer
from nlpkit.vectors import pretrained as pv
from nlpkit.vectors.read import read_vectors
from tests.conftest import ROOT

DIM = 8


def write_vectors(path, words, seed=0, header=True):
    g = torch.Generator().manual_seed(seed)
    rows = [f"{len(words)} {DIM}"] if header else []
    for word in words:
        rows.append(word + " " + " ".join(f"{v:.5f}" for v in torch.randn(DIM, generator=g).tolist()))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


def test_initialise_own_case_then_lowercase(tmp_path):
    path = write_vectors(tmp_path / "v.txt", ["the", "paris", "Berlin", "unused"])
    tok = VocabTokenizer("word", ["<pad>", "<unk>", "<bos>", "<eos>", "the", "Paris", "Berlin", "zzz"])
    vectors = pv.read_for(path, tok, max_words=0)
    assert vectors.words == ["the", "paris", "Berlin"]  # "unused": neither wanted nor in the first 0 rows
    embedding = torch.nn.Embedding(tok.vocab_size, DIM, padding_idx=0)
    report = pv.initialise(embedding, tok, vectors, [["the", "Paris", "zzz", "zzz"]])
    assert torch.equal(embedding.weight[4], vectors.get("the"))
    assert torch.equal(embedding.weight[5], vectors.get("paris"))  # lower-case fallback
    assert torch.equal(embedding.weight[6], vectors.get("Berlin"))
    assert report["found"] == 2 and report["found_lowercased"] == 1 and report["type_coverage"] == 0.75
    assert report["token_coverage"] == 0.5
    assert embedding.weight[0].abs().sum() == 0  # <pad>
    # words without a vector get rows of the vectors' own scale
    assert 0.3 < embedding.weight[7].std() / vectors.vectors.std() < 3


def test_no_vector_at_all_is_refused(tmp_path):
    path = write_vectors(tmp_path / "v.txt", ["hund", "katze"])
    tok = VocabTokenizer("word", ["<pad>", "<unk>", "<bos>", "<eos>", "dog"])
    with pytest.raises(NlpkitError, match="none of the 1 vocabulary words has a vector"):
        pv.initialise(torch.nn.Embedding(5, DIM), tok, pv.read_for(path, tok, 0))


def test_dimension_must_agree_with_embed(tmp_path):
    vectors = read_vectors(write_vectors(tmp_path / "v.txt", ["a"]))
    assert pv.embed_size(0, vectors) == DIM
    with pytest.raises(NlpkitError, match=f"holds {DIM}-dimensional vectors but embed is 100"):
        pv.embed_size(100, vectors)


def test_extend_frozen_keeps_file_vectors_and_trained_goes_through_the_map(tmp_path):
    vocab = [f"w{i}" for i in range(40)]
    path = write_vectors(tmp_path / "v.txt", vocab + ["new1", "New2", "w3"])
    tok = VocabTokenizer("word", ["<pad>", "<unk>", "<bos>", "<eos>", *vocab])
    vectors = pv.read_for(path, tok, max_words=100)
    assert vectors.duplicates == 1
    frozen = torch.nn.Embedding(tok.vocab_size, DIM)
    pv.initialise(frozen, tok, vectors)
    pv.freeze(frozen)
    report = {}
    grown_tok, grown = pv.extend(tok, frozen, vectors, report, max_words=100, lowercase=True)
    assert grown_tok.symbols[-2:] == ["new1", "new2"] and report["added_words"] == 2
    assert torch.equal(grown.weight[-1], vectors.get("New2")) and not grown.weight.requires_grad
    # "training" that turned every vector by a fixed matrix: the new words follow the same map
    trained = torch.nn.Embedding(tok.vocab_size, DIM)
    pv.initialise(trained, tok, vectors)
    turn = torch.randn(DIM, DIM, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        trained.weight[4:] = trained.weight[4:] @ turn
    report = {}
    _, grown = pv.extend(tok, trained, vectors, report, max_words=100)
    assert torch.allclose(grown.weight[-1], vectors.get("New2") @ turn, atol=0.05)
    assert "R² 1.000" in report["added_words_through"]
    # only the first max_words rows are candidates
    _, grown = pv.extend(tok, trained, vectors, {}, max_words=41)
    assert grown.num_embeddings == tok.vocab_size + 1


@pytest.fixture(scope="module")
def vectors_file(tmp_path_factory):
    """Vectors for the bundled sentiment sample's words and a few it never uses."""
    texts = (ROOT / "data" / "sentiment.train.tsv").read_text(encoding="utf-8").split()
    words = list(dict.fromkeys(w for w in texts if "\t" not in w))[:150] + ["splendid", "dreadful"]
    return write_vectors(tmp_path_factory.mktemp("vectors") / "v.txt", words)


TINY = dict(hidden=16, layers=1, device="cpu", quiet=True, seed=0, max_steps=15)


def test_sentiment_frozen_vectors_and_growth(tmp_path, vectors_file):
    out = tmp_path / "s.nlpk"
    model = nlpkit.train(
        "sentiment",
        train=[str(ROOT / "data" / "sentiment.train.tsv")],
        embeddings=vectors_file,
        freeze_embeddings=True,
        gradual_unfreeze=True,  # must not thaw the frozen embedding
        out=str(out),
        **TINY,
    )
    vectors = read_vectors(vectors_file)
    for word in ("splendid", "dreadful"):  # never in the training data, yet known after training
        row = model.tokenizer.index[word]
        assert torch.equal(model.model.embedding.weight[row], vectors.get(word))
    found = [w for w in model.tokenizer.symbols if vectors.get(w) is not None]
    assert all(torch.equal(model.model.embedding.weight[model.tokenizer.index[w]], vectors.get(w)) for w in found)
    loaded = nlpkit.load(str(out))
    report = loaded.meta["embeddings"]
    assert report["source"] == vectors_file and report["dim"] == DIM and report["frozen"] is True
    assert report["added_words"] >= 2 and 0 < report["type_coverage"] <= 1
    assert list(loaded.predict(["a splendid evening", ""]))[0]["label"] in loaded.labels


def test_ner_lowercases_and_lm_does_not_grow(tmp_path, vectors_file):
    ner = nlpkit.train(
        "ner",
        train=[str(ROOT / "data" / "ner.train.conll")],
        embeddings=vectors_file,
        out=str(tmp_path / "n.nlpk"),
        **TINY,
    )
    assert ner.model.config.embed_size == DIM and ner.meta["embeddings"]["lowercase"] is True
    assert all(w == w.lower() for w in ner.tokenizer.symbols[4:])
    lm = nlpkit.train(
        "lm",
        train=[str(ROOT / "data" / "sample.txt")],
        tokenizer="word",
        embeddings=vectors_file,
        out=str(tmp_path / "l.nlpk"),
        context=8,
        **TINY,
    )
    assert lm.meta["embeddings"]["max_words"] == 0 and "added_words" not in lm.meta["embeddings"]
    with pytest.raises(NlpkitError, match="freeze_embeddings does not combine with tie_weights"):
        nlpkit.train(
            "lm",
            train=[str(ROOT / "data" / "sample.txt")],
            tokenizer="word",
            embeddings=vectors_file,
            freeze_embeddings=True,
            tie_weights=True,
            out=str(tmp_path / "x.nlpk"),
            **TINY,
        )


def test_translate_source_side(tmp_path, vectors_file):
    model = nlpkit.train(
        "translate",
        src=str(ROOT / "data" / "translate.train.en"),
        tgt=str(ROOT / "data" / "translate.train.fr"),
        tokenizer="word",
        vocab="separate",
        embeddings=vectors_file,
        out=str(tmp_path / "t.nlpk"),
        **TINY,
    )
    assert "splendid" in model.tokenizer.src.index and "splendid" not in model.tokenizer.tgt.index
    assert model.model.config.src_vocab == model.tokenizer.src.vocab_size
    assert len(list(model.predict(["The splendid cat ."]))) == 1


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(tokenizer="char"), "embeddings needs a word vocabulary"),
        (dict(embed=100), "embed is 100"),
        (dict(init_from="x.nlpk"), "embeddings and init_from both start the embedding"),
    ],
)
def test_refusals(tmp_path, vectors_file, options, message):
    with pytest.raises(NlpkitError, match=message):
        nlpkit.train(
            "sentiment",
            train=[str(ROOT / "data" / "sentiment.train.tsv")],
            embeddings=vectors_file,
            out=str(tmp_path / "s.nlpk"),
            **{**TINY, **options},
        )
