"""Reading vectors files: every format, gzipped or not, and the broken files a user meets."""

import gzip
import struct

import pytest
import torch

from nlpkit.errors import NlpkitError
from nlpkit.vectors.read import read_vectors

ROWS = {"the": [0.5, -1.0, 2.0], "Paris": [1.5, 0.25, -0.125], "new york": [0.0, 1.0, 0.0]}


def text_file(path, header=True, rows=ROWS, trailing_space=False):
    lines = [f"{len(rows)} 3"] if header else []
    end = " " if trailing_space else ""
    lines += [w + " " + " ".join(str(v) for v in vec) + end for w, vec in rows.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def binary_file(path, rows=ROWS):
    blob = f"{len(rows)} 3\n".encode()
    for word, vec in rows.items():
        # a binary row's word ends at its first space
        blob += word.replace(" ", "_").encode() + b" " + struct.pack("<3f", *vec) + b"\n"
    path.write_bytes(blob)
    return path


@pytest.mark.parametrize(
    "make, fmt",
    [
        (lambda p: text_file(p / "w2v.txt"), "word2vec-text"),
        (lambda p: text_file(p / "ft.vec", trailing_space=True), "word2vec-text"),  # fastText ends rows with a space
        (lambda p: text_file(p / "glove.txt", header=False), "glove-text"),
        (lambda p: binary_file(p / "w2v.bin"), "word2vec-binary"),
    ],
)
@pytest.mark.parametrize("gzipped", [False, True])
def test_formats_read_the_same_vectors(tmp_path, make, fmt, gzipped):
    path = make(tmp_path)
    if gzipped:
        packed = path.with_name(path.name + ".gz")
        packed.write_bytes(gzip.compress(path.read_bytes()))
        path = packed
    vectors = read_vectors(str(path))
    assert vectors.format == fmt and vectors.dim == 3 and vectors.rows == 3
    words = [w.replace(" ", "_") if fmt == "word2vec-binary" else w for w in ROWS]
    assert vectors.words == words  # a GloVe word may hold a space ("new york")
    for word, vec in zip(words, ROWS.values(), strict=True):
        assert torch.allclose(vectors.get(word), torch.tensor(vec))
    assert len(vectors.sha256) == 64


def test_keep_selects_rows_and_positions(tmp_path):
    path = text_file(tmp_path / "v.txt")
    vectors = read_vectors(str(path), keep=lambda word, row: row == 0 or word == "new york")
    assert vectors.words == ["the", "new york"] and vectors.positions == [0, 2] and vectors.rows == 3


def test_duplicates_first_wins_and_counted(tmp_path, capsys):
    path = tmp_path / "dup.txt"
    path.write_text("the 1 2\ncat 3 4\nthe 5 6\n", encoding="utf-8")
    vectors = read_vectors(str(path))
    assert vectors.duplicates == 1 and vectors.get("the").tolist() == [1.0, 2.0]
    assert "1 word(s) appear more than once" in capsys.readouterr().err


@pytest.mark.parametrize(
    "content, message",
    [
        ("2 3\nthe 1 2 3\ncat 1 2\n", "v.txt:3: 2 number(s) where the file's vectors have 3"),
        ("the 1 2 3\ncat 1 2 3 4\n", "v.txt:2: more than 3 numbers"),
        ("the 1 2 3\ncat 1 x 3\n", "v.txt:2: 'x' is not a number"),
        ("the 1 2 3\ncat 1 nan 3\n", "v.txt:2: values that are not finite numbers"),
        ("hello\n", "v.txt:1: not a vectors row"),
        ("", "no vectors in the file"),
        ("\n\n", "no vectors in the file"),
        ("2 99999\n", "header gives dimension 99999"),
        ("-5 3\nthe 1 2 3\n", "header gives -5 rows"),
        ("2 3\n", "a header (2 rows of 3) and no vectors after it"),
    ],
)
def test_malformed_text_files_name_the_line(tmp_path, content, message):
    path = tmp_path / "v.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(NlpkitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_vectors(str(path))


def test_not_utf8_is_a_clear_error(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("the 1 2\ncafé 3 4\n".encode("latin-1"))
    with pytest.raises(NlpkitError, match=r"latin1.txt:2: not UTF-8 \(byte 0xe9\); convert the file"):
        read_vectors(str(path))


def test_truncated_binary_file(tmp_path):
    path = binary_file(tmp_path / "v.bin")
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(NlpkitError, match="v.bin: row 3: the file ends inside the row"):
        read_vectors(str(path))


def test_header_promising_more_rows_warns(tmp_path, capsys):
    path = tmp_path / "v.txt"
    path.write_text("5 2\nthe 1 2\n", encoding="utf-8")
    assert read_vectors(str(path)).rows == 1
    assert "announces 5 rows, the file holds 1" in capsys.readouterr().err


def test_missing_file(tmp_path):
    with pytest.raises(NlpkitError, match="no such file"):
        read_vectors(str(tmp_path / "nope.vec"))
