"""Every reader and command against the bad-input corpus (tests/badinput, described in its
README): each bad file is a one-line error naming the file and line with exit 1, and each file
that is repaired is repaired as documented."""

import pytest

from ..conftest import ROOT

CORPUS = ROOT / "tests" / "badinput"

LINE_READERS = [  # commands that read text a line at a time: {model} is filled per task
    ("lm", "score"),
    ("lm", "eval"),
    ("sentiment", "predict"),
    ("ner", "tag"),
    ("translate", "predict"),
    ("lm", "train"),
]
MODELS = {"lm": "lm_model", "sentiment": "sentiment_model", "ner": "ner_model", "translate": "translate_model"}
LINE_FILES = [
    ("invalid-utf8.txt", r"invalid-utf8.txt:3: invalid UTF-8 at byte offset 29"),
    ("not-gzip.txt.gz", r"not-gzip.txt.gz:1: not a readable gzip file"),
    ("truncated.txt.gz", r"truncated.txt.gz:\d+: not a readable gzip file"),
]
LABELED = [
    ("unclosed-quote.csv", r"unclosed-quote.csv:2: a quote opened in this row is never closed"),
    ("missing-label.tsv", r"missing-label.tsv:3: 1 column\(s\), expected at least 2"),
    ("label-not-text.jsonl", r"label-not-text.jsonl:2: .*label"),
    ("broken-json.jsonl", r"broken-json.jsonl:2: "),
]
TAGGED = [
    ("ragged.conll", r"ragged.conll:2: 1 columns, expected 2"),
    ("bad-tag.conll", r"bad-tag.conll:2: tag 'X-PER' is not O or PREFIX-TYPE"),
    ("tokens-tags-differ.jsonl", r"tokens-tags-differ.jsonl:1: 'tokens' and 'tags' must be lists of the same length"),
]


def one_line_error(code, out, err, pattern):
    import re

    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert re.search(pattern, lines[0]), lines[0]


@pytest.mark.parametrize("group,command", LINE_READERS)
@pytest.mark.parametrize("name,pattern", LINE_FILES)
def test_line_readers(cli, request, tmp_path, group, command, name, pattern):
    path = CORPUS / name
    if command == "train":
        args = [group, command, path, "--out", tmp_path / "m.nlpk", "--max-steps", "1", "--quiet"]
    else:
        args = [group, command, request.getfixturevalue(MODELS[group])[0], path, "--quiet"]
    one_line_error(*cli(*args), pattern)


@pytest.mark.parametrize("command", ["train", "eval"])
@pytest.mark.parametrize(
    "group,name,pattern", [("sentiment", *case) for case in LABELED] + [("ner", *case) for case in TAGGED]
)
def test_labeled_and_tagged_readers(cli, request, tmp_path, command, group, name, pattern):
    path = CORPUS / name
    if command == "train":
        args = [group, "train", path, "--out", tmp_path / "m.nlpk", "--max-steps", "1", "--quiet"]
    else:
        args = [group, "eval", request.getfixturevalue(MODELS[group])[0], path]
    one_line_error(*cli(*args), pattern)


def test_parallel_files_of_different_lengths_name_both_counts(cli, translate_model, tmp_path):
    src, tgt = CORPUS / "three-lines.en", CORPUS / "two-lines.fr"
    for args in (
        ["translate", "train", "--src", src, "--tgt", tgt, "--out", tmp_path / "m.nlpk", "--max-steps", "1"],
        ["translate", "eval", translate_model[0], "--src", src, "--ref", tgt],
    ):
        one_line_error(*cli(*args), r"3 .*2|2 .*3")


# ----- documented repairs -----------------------------------------------------------------------


@pytest.mark.parametrize("group,command", LINE_READERS[:1] + LINE_READERS[2:5])
@pytest.mark.parametrize("name", ["bom-crlf.txt", "control-characters.txt"])
def test_one_record_out_per_line_in_whatever_the_line_holds(cli, request, group, command, name):
    """A BOM and CRLF line ends are dropped; control characters, U+2028, NUL and bidi marks are
    text inside their line, and escaped in the output so that no reader sees extra records."""
    path = CORPUS / name
    lines = path.read_bytes().decode("utf-8").removeprefix("\ufeff").split("\n")[:-1]
    code, out, err = cli(group, command, request.getfixturevalue(MODELS[group])[0], path, "--quiet")
    assert code == 0, err
    records = out.splitlines()  # str.splitlines splits at U+2028, \x1c and \r too
    assert len(records) == len(lines), out
    if group == "ner":  # the text comes back as read: BOM and CR gone, the rest kept
        import json

        assert [json.loads(r)["text"] for r in records] == [line.removesuffix("\r") for line in lines]


def test_an_entity_continuing_nothing_is_repaired_with_a_warning(cli, tmp_path):
    code, _, err = cli("ner", "train", CORPUS / "i-after-o.conll", "--out", tmp_path / "m.nlpk", "--max-steps", "1")
    assert code == 0 and "repaired 1 tag(s) that continued no entity" in err
    strict = cli(
        "ner", "train", CORPUS / "i-after-o.conll", "--out", tmp_path / "m.nlpk", "--max-steps", "1", "--strict"
    )
    one_line_error(*strict, r"i-after-o.conll:5: I-LOC continues no entity")
