import gzip
import json

import pytest

from nlpkit.data import readers
from nlpkit.data.streams import batchify, token_stream, window_count, windows
from nlpkit.errors import NlpkitError
from nlpkit.text.tokenizers import train_tokenizer


def test_lines_handle_crlf_bom_and_gzip(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"\xef\xbb\xbfone\r\ntwo\r\n\r\nthree")
    assert list(readers.iter_lines(str(path))) == ["one", "two", "", "three"]
    gz = tmp_path / "b.txt.gz"
    gz.write_bytes(gzip.compress(b"x\ny\n"))
    assert list(readers.iter_lines(str(gz))) == ["x", "y"]


def test_invalid_utf8_names_file_line_and_byte_offset(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"fine\nalso fine\nbad \xff here\n")
    with pytest.raises(NlpkitError) as err:
        list(readers.iter_lines(str(path)))
    assert f"{path}:3: invalid UTF-8 at byte offset 19" in str(err.value)
    assert list(readers.iter_lines(str(path), "replace"))[2] == "bad \ufffd here"


def test_block_reading_gives_the_lines_and_errors_of_line_by_line_reading(tmp_path, monkeypatch):
    """Lines are read and decoded a block at a time; across block ends (a tiny block here), with
    CRLF, a BOM, Unicode line separators inside lines and no final line end, they are the lines
    a line-by-line reading gives, and a bad byte deep in the file is named by line and offset."""
    import random

    monkeypatch.setattr(readers, "READ_BLOCK", 7)
    rng = random.Random(0)
    data = "\ufeff" + "".join(rng.choice(["é", "a", " ", "\r\n", "\n", "\u2028", "\x0b"]) for _ in range(3000)) + "end"
    path = tmp_path / "mixed.txt"
    path.write_bytes(data.encode())
    expected = [line.rstrip("\r") for line in data[1:].split("\n")]
    assert list(readers.iter_lines(str(path))) == expected
    bad = tmp_path / "bad.txt"
    body = b"".join(b"line %d\n" % i for i in range(500))
    bad.write_bytes(body + b"x \xfe y\nlast\n")
    with pytest.raises(NlpkitError, match=f"{bad}:501: invalid UTF-8 at byte offset {len(body) + 2}"):
        list(readers.iter_lines(str(bad)))
    monkeypatch.setattr(readers, "MAX_LINE_BYTES", 50)
    long = tmp_path / "long.txt"
    long.write_bytes(b"short\n" + b"x" * 51 + b"\nend\n")
    with pytest.raises(NlpkitError, match=f"{long}:2: a line longer than"):
        list(readers.iter_lines(str(long)))


def test_missing_path_and_directory(tmp_path):
    with pytest.raises(NlpkitError, match="no such file"):
        list(readers.iter_lines(str(tmp_path / "nope.txt")))
    with pytest.raises(NlpkitError, match="is a directory"):
        list(readers.iter_lines(str(tmp_path)))


def test_jsonl_texts_and_their_errors(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"text": "a b\\nc"}\n\n{"text": "d", "id": 2}\n')
    assert readers.read_texts([str(path)]) == ["a b", "c", "d"]
    path.write_text('{"text": "ok"}\n{"body": "x"}\n')
    with pytest.raises(NlpkitError, match=r"t.jsonl:2: record has no field 'text'"):
        readers.read_texts([str(path)])
    path.write_text("{oops\n")
    with pytest.raises(NlpkitError, match=r"t.jsonl:1: invalid JSON"):
        readers.read_texts([str(path)])


def test_require_text_refuses_blank_input():
    with pytest.raises(NlpkitError, match="no text to train on"):
        readers.require_text(["", "  ", ""], "x.txt")
    readers.require_text(["", "a"], "x.txt")


@pytest.mark.parametrize(
    "suffix,content",
    [
        (".txt", "first line\nsecond line\n"),
        (".jsonl", '{"text": "first line"}\n{"text": "second line"}\n'),
        (".csv", "text,label\nfirst line,1\nsecond line,0\n"),
    ],
)
def test_datasets_sources_from_local_files(tmp_path, suffix, content):
    path = tmp_path / f"data{suffix}"
    path.write_text(content)
    assert list(readers.dataset_texts(str(path), "train", "text")) == ["first line", "second line"]


def test_datasets_source_errors_are_one_line(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"body": "x"}) + "\n")
    with pytest.raises(NlpkitError, match="no column 'text'"):
        list(readers.dataset_texts(str(path), "train", "text"))
    with pytest.raises(NlpkitError, match="dataset"):
        list(readers.dataset_texts(str(tmp_path / "missing_dir"), "train", "text"))


def test_fingerprint_changes_with_content():
    a = readers.fingerprint(["x", "y"], ["f"])
    assert a["lines"] == 2 and a["chars"] == 4
    assert a["sha256"] != readers.fingerprint(["x", "z"], ["f"])["sha256"]


def test_stream_batching():
    tok = train_tokenizer("word", ["a b c"])
    ids = token_stream(tok, ["a b", "c"])
    assert ids.tolist() == [tok.index["a"], tok.index["b"], 3, tok.index["c"], 3]
    data = batchify(__import__("torch").arange(23), 2)
    assert data.shape == (2, 11)
    pairs = list(windows(data, 4))
    assert len(pairs) == window_count(data, 4) == 3
    x, y = pairs[-1]
    assert x.shape == y.shape == (2, 2) and (y == x + 1).all()
