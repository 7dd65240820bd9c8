import gzip
import json

import pytest

from nlpkit.data.labeled import Columns, dataset_labeled, detect_format, read_labeled
from nlpkit.errors import NlpkitError


def write(tmp_path, name, text, mode="w"):
    path = tmp_path / name
    if mode == "wb":
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def test_label_first_lines_as_in_sst2(tmp_path):
    path = write(tmp_path, "train", "1 a stirring , funny film\n\n0 dull .\n")
    data = read_labeled([path])
    assert data.labels == ["1", "0"]
    assert data.texts == ["a stirring , funny film", "dull ."]
    assert data.where == [f"{path}:1", f"{path}:3"]


def test_fasttext_labels(tmp_path):
    path = write(tmp_path, "train.txt", "__label__pos great fun\n__label__neg awful\n")
    data = read_labeled([path])
    assert (data.labels, data.texts) == (["pos", "neg"], ["great fun", "awful"])


def test_fasttext_multi_label_is_an_error(tmp_path):
    path = write(tmp_path, "train.txt", "__label__pos great\n__label__a __label__b both\n")
    with pytest.raises(NlpkitError, match=r"train\.txt:2: 2 labels"):
        read_labeled([path])


def test_tsv_with_header_and_named_columns(tmp_path):
    path = write(tmp_path, "d.tsv", 'id\treview\tstars\n1\tsaid "wow\tgood\n2\tmeh\tbad\n')
    data = read_labeled([path], columns=Columns("review", "stars"))
    assert data.texts == ['said "wow', "meh"]  # a lone quote in a TSV is text
    assert data.labels == ["good", "bad"]


def test_csv_with_bom_crlf_and_quoted_newline(tmp_path):
    raw = '\ufefftext,label\r\n"first line\r\nsecond line",pos\r\nplain,neg\r\n'.encode()
    path = write(tmp_path, "d.csv", raw, mode="wb")
    data = read_labeled([path])
    assert data.texts == ["first line\r\nsecond line", "plain"]
    assert data.labels == ["pos", "neg"]
    assert data.where[1] == f"{path}:4"  # the line it starts on, counting the quoted newline


def test_numbered_columns_mean_no_header(tmp_path):
    path = write(tmp_path, "d.tsv", "pos\tgood stuff\nneg\tbad stuff\n")
    data = read_labeled([path], columns=Columns("2", "1"))
    assert data.labels == ["pos", "neg"]


def test_missing_column_names_the_header(tmp_path):
    path = write(tmp_path, "d.csv", "sentence,y\nfine,1\n")
    with pytest.raises(NlpkitError, match=r"d\.csv:1: no column 'text' in the header \(sentence, y\)"):
        read_labeled([path])


@pytest.mark.parametrize(
    ("content", "problem"),
    [("text\tlabel\nfine\t\n", "no label"), ("text\tlabel\n \tpos\n", "no text"), ("text\tlabel\nonly\n", "1 column")],
)
def test_bad_rows_are_errors_or_skipped_and_counted(tmp_path, content, problem):
    path = write(tmp_path, "d.tsv", content + "good\tpos\n")
    with pytest.raises(NlpkitError, match=rf"d\.tsv:2: .*{problem}.*skip_bad"):
        read_labeled([path])
    data = read_labeled([path], skip_bad=True)
    assert (data.texts, data.skipped) == (["good"], 1)


def test_jsonl_and_gzip(tmp_path):
    path = tmp_path / "d.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(json.dumps({"text": "über gut", "label": 1}) + "\n" + json.dumps({"text": "nein", "label": 0}) + "\n")
    data = read_labeled([str(path)])
    assert (data.texts, data.labels) == (["über gut", "nein"], ["1", "0"])


def test_jsonl_errors_name_the_line(tmp_path):
    path = write(tmp_path, "d.jsonl", '{"text": "a", "label": "x"}\n{"text": "b"\n')
    with pytest.raises(NlpkitError, match=r"d\.jsonl:2: invalid JSON"):
        read_labeled([path])


def test_format_detection():
    assert detect_format("a.csv", None) == "csv"
    assert detect_format("a.jsonl.gz", None) == "jsonl"
    assert detect_format("stsa.binary.train", "1 fine film") == "label-first"
    assert detect_format("train.txt", "__label__x hello") == "fasttext"
    assert detect_format("train.txt", "x\thello") == "tsv"


def test_datasets_source(tmp_path):
    path = write(tmp_path, "d.csv", "sentence,polarity\nlovely,pos\nawful,neg\n")
    data = dataset_labeled(path, "train", Columns("sentence", "polarity"))
    assert (data.texts, data.labels) == (["lovely", "awful"], ["pos", "neg"])
    with pytest.raises(NlpkitError, match="no column 'text'"):
        dataset_labeled(path, "train", Columns())


def test_json_labels_and_texts_must_be_strings_or_numbers(tmp_path):
    path = write(tmp_path, "d.jsonl", json.dumps({"text": "fine", "label": ["neg"]}) + "\n")
    with pytest.raises(NlpkitError, match=r"d\.jsonl:1: the label is a list, not a string or a number"):
        read_labeled([path])
    path = write(tmp_path, "t.jsonl", json.dumps({"text": 123, "label": "neg"}) + "\n")
    with pytest.raises(NlpkitError, match=r"t\.jsonl:1: the text is a int, not a string"):
        read_labeled([path])
    ok = write(tmp_path, "ok.jsonl", json.dumps({"text": "fine", "label": 1}) + "\n")
    assert read_labeled([ok]).labels == ["1"]


def test_long_tsv_fields_are_read(tmp_path):
    long = "word " * 60_000  # 300 KB, over the csv module's default limit of 128 KiB
    path = write(tmp_path, "d.tsv", f"text\tlabel\n{long}\tpos\nshort\tneg\n")
    assert [len(t) for t in read_labeled([path]).texts] == [len(long), 5]
