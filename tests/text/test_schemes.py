import pytest

from nlpkit.text.schemes import allowed_transitions, bioes_tags, convert, detect_scheme, from_spans, to_spans
from nlpkit.text.words import split_words


def test_detection():
    assert detect_scheme([["B-PER", "I-PER", "O", "B-LOC"]]) == "iob2"
    assert detect_scheme([["I-PER", "I-PER", "B-PER", "O"]]) == "iob1"
    assert detect_scheme([["S-PER", "O", "B-LOC", "E-LOC"]]) == "bioes"
    assert detect_scheme([["B-PER", "O", "I-LOC"]]) == "iob2"  # a broken IOB2 file stays IOB2 (then repaired)


@pytest.mark.parametrize(
    ("tags", "scheme"),
    [
        (["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC"], "iob2"),
        (["I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-LOC"], "iob1"),
        (["B-PER", "E-PER", "O", "S-LOC", "B-LOC", "E-LOC"], "bioes"),
    ],
)
def test_all_schemes_describe_the_same_spans_and_round_trip(tags, scheme):
    spans, repaired = to_spans(tags, scheme)
    assert spans == [("PER", 0, 2), ("LOC", 3, 4), ("LOC", 4, 6)] and repaired == 0
    for target in ("iob1", "iob2", "bioes"):
        assert to_spans(from_spans(spans, len(tags), target), target)[0] == spans
    assert from_spans(spans, len(tags), scheme) == tags


def test_i_after_o_in_iob2_is_repaired_and_counted():
    tags, repaired = convert(["O", "I-PER", "I-PER", "O", "B-LOC"], "iob2", "bioes")
    assert tags == ["O", "B-PER", "E-PER", "O", "S-LOC"] and repaired == 1


def test_unknown_prefix_is_rejected():
    with pytest.raises(ValueError, match="X-PER"):
        to_spans(["X-PER"], "iob2")


def test_transitions_allow_exactly_well_formed_bioes():
    tags = bioes_tags(["LOC", "PER"])
    allowed, start, end = allowed_transitions(tags)
    ok = {(a, b) for i, a in enumerate(tags) for j, b in enumerate(tags) if allowed[i][j]}
    assert ("B-PER", "I-PER") in ok and ("B-PER", "E-PER") in ok and ("I-PER", "E-PER") in ok
    assert ("O", "I-PER") not in ok and ("B-PER", "E-LOC") not in ok and ("B-PER", "O") not in ok
    assert ("E-PER", "B-LOC") in ok and ("S-PER", "O") in ok
    assert [t for t, s in zip(tags, start, strict=True) if s] == ["O", "B-LOC", "S-LOC", "B-PER", "S-PER"]
    assert [t for t, e in zip(tags, end, strict=True) if e] == ["O", "E-LOC", "S-LOC", "E-PER", "S-PER"]


def test_words_keep_offsets():
    text = "Mr. O'Neil's U.S. trip, state-of-the-art!"
    words = split_words(text)
    assert [w for w, _, _ in words] == ["Mr", ".", "O'Neil's", "U.S", ".", "trip", ",", "state-of-the-art", "!"]
    assert all(text[s:e] == w for w, s, e in words)
    assert split_words("") == []
