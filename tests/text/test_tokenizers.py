import pytest
import torch

from nlpkit.text.tokenizers import (
    EOS_ID,
    UNK_ID,
    parse_spec,
    tokenizer_from_file,
    tokenizer_to_file,
    train_tokenizer,
)

LINES = ["the cat sat on the mat", "a dog ran to the park", "the cat, which had chased mice, slept"] * 30


def test_char_round_trip_and_line_end():
    tok = train_tokenizer("char", LINES)
    ids = tok.encode("the cat") + [tok.eos_id] + tok.encode("sat")
    assert tok.decode(ids) == "the cat\nsat"
    assert tok.eos_id == tok.index["\n"]


def test_unseen_characters_map_to_unk():
    tok = train_tokenizer("char", LINES)
    assert tok.encode("Z")[0] == UNK_ID


def test_word_min_freq_and_max_size():
    tok = train_tokenizer("word", ["a a a b b c"], min_freq=2)
    assert tok.encode("a b c") == [tok.index["a"], tok.index["b"], UNK_ID]
    assert train_tokenizer("word:5", ["a a a b b c"]).vocab_size == 5  # 4 specials + the commonest word


def test_word_round_trip_keeps_line_breaks():
    tok = train_tokenizer("word", LINES)
    ids = tok.encode("the cat sat") + [EOS_ID] + tok.encode("a dog")
    assert tok.decode(ids) == "the cat sat\na dog"


def test_literal_unk_token_in_corpus_is_the_unk_id():
    tok = train_tokenizer("word", ["the <unk> sat"])
    assert tok.encode("<unk>") == [UNK_ID]
    assert tok.symbols.count("<unk>") == 1


@pytest.mark.parametrize("spec", ["bpe:60", "unigram:60"])
def test_sentencepiece_round_trip(spec):
    tok = train_tokenizer(spec, LINES)
    text = "the cat sat on the park"
    assert tok.decode(tok.encode(text)) == text
    assert tok.decode(tok.encode("a dog") + [tok.eos_id] + tok.encode("the mat")) == "a dog\nthe mat"


@pytest.mark.parametrize("spec", ["char", "word", "bpe:60"])
def test_tokenizers_survive_the_model_file(spec):
    tok = train_tokenizer(spec, LINES)
    meta, tensors = tokenizer_to_file(tok)
    assert all(isinstance(t, torch.Tensor) for t in tensors.values())
    again = tokenizer_from_file(meta, tensors)
    assert again.encode("the cat sat") == tok.encode("the cat sat")
    assert again.vocab_size == tok.vocab_size


@pytest.mark.parametrize(
    ("bad", "message"),
    [("bytes", "unknown tokenizer 'bytes'; use char, word, bpe:SIZE or unigram:SIZE"),
     ("bpe", "tokenizer 'bpe' needs a vocabulary size, for example bpe:8000"),
     ("bpe:x", "tokenizer 'bpe:x' needs a vocabulary size"), ("bpe:4", "tokenizer 'bpe:4' needs a vocabulary size"),
     ("word:x", "bad vocabulary size in tokenizer 'word:x'")],
)  # fmt: skip
def test_bad_specs_are_rejected(bad, message):
    with pytest.raises(ValueError) as raised:
        parse_spec(bad)
    assert str(raised.value).startswith(message)
