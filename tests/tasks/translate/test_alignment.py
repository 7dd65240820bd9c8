"""Word alignments from subword attention, and --replace-unk."""

import types

import torch

from nlpkit.tasks.translate import alignment as al
from nlpkit.text.tokenizers import UNK_ID

M = al.MARK


def test_words_from_sentencepiece_character_and_word_pieces():
    assert al.words([f"{M}Port", "s", "mouth", f"{M}is", f"{M}far"], "bpe") == [
        ("Portsmouth", [0, 1, 2]),
        ("is", [3]),
        ("far", [4]),
    ]
    assert al.words(list("ab cd"), "char") == [("ab", [0, 1]), ("cd", [3, 4])]
    assert al.words(["a", "dog"], "word") == [("a", [0]), ("dog", [1])]


def test_each_target_word_pairs_with_the_source_word_it_attends_to_most():
    src = [("ein", [0]), ("Hund", [1, 2])]
    tgt = [("a", [0]), ("dog", [1])]
    attention = [[0.9, 0.05, 0.05], [0.2, 0.4, 0.4]]  # "dog" attends 0.8 to Hund's two pieces together
    assert al.word_pairs(src, tgt, attention) == [[0, 0], [1, 1]]


def test_replace_unknowns_takes_the_most_attended_source_word():
    attention = [[0.1, 0.8, 0.1], [0.7, 0.2, 0.1]]
    out = al.replace_unknowns(["<unk>", "sailed"], [True, False], ["Mara", "Lund", "sailed"], "word", "word", attention)
    assert al.join(out, "word") == "Lund sailed"


def test_translate_predict_gives_word_pairs_and_replaces_unknowns(translate_model):
    _, model = translate_model
    line = "a dog runs to Zanzibar"
    result = next(model.predict([line], alignments=True))
    alignment = result["alignment"]
    assert alignment["words"]["source"] == line.split()  # unknown words keep their spelling
    assert [t for _, t in alignment["pairs"]] == list(range(len(alignment["words"]["target"])))
    assert all(0 <= s < len(line.split()) for s, _ in alignment["pairs"])
    # a hypothesis with an unknown token attending to "Zanzibar" gets that word back
    found = types.SimpleNamespace(source_ids=[5, 6, 7, 8, 1, 3])
    attention = torch.zeros(2, 6)
    attention[0, 4] = 1.0
    attention[1, 1] = 1.0
    hyp = types.SimpleNamespace(tokens=[UNK_ID, model.tokenizer.tgt.encode("chien")[0]], attention=attention)
    assert model._with_source_words(found, hyp, line).split()[0] == "Zanzibar"
