import gzip
import random

import pytest

from nlpkit.data.readers import iter_lines
from nlpkit.data.shards import parse, records_part, shard_lines
from nlpkit.errors import NlpkitError


def write_files(tmp_path, rng, gz=False):
    paths = []
    for i in range(rng.randint(1, 3)):
        lines = ["".join(rng.choice("ab é\t") for _ in range(rng.randint(0, 12))) for _ in range(rng.randint(0, 15))]
        text = ("\n".join(lines) + ("\n" if lines and rng.random() < 0.7 else "")).encode()
        path = tmp_path / (f"f{i}.txt.gz" if gz and i == 0 else f"f{i}.txt")
        path.write_bytes(gzip.compress(text) if path.suffix == ".gz" else text)
        paths.append(str(path))
    return paths


@pytest.mark.parametrize("gz", [False, True])
def test_the_parts_concatenate_to_the_whole_input(tmp_path, gz):
    rng = random.Random(7)
    for _ in range(60):
        paths = write_files(tmp_path, rng, gz)
        whole = [line for p in paths for line in iter_lines(p)]
        n = rng.randint(1, 7)
        parts = [list(shard_lines(paths, k, n)) for k in range(1, n + 1)]
        assert [line for part in parts for line in part] == whole


def test_parts_are_balanced_by_bytes(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("".join(f"line {i:05d}\n" for i in range(10_000)))
    sizes = [len(list(shard_lines([str(path)], k, 4))) for k in range(1, 5)]
    assert sum(sizes) == 10_000 and max(sizes) - min(sizes) <= 1


def test_a_decoding_error_in_a_later_part_names_the_real_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"".join(b"fine line\n" for _ in range(99)) + b"bad \xff\n")
    with pytest.raises(NlpkitError, match=r"bad.txt:100: invalid UTF-8"):
        list(shard_lines([str(path)], 2, 2))


def test_records_spanning_lines_are_cut_by_count():
    parts = [list(records_part(lambda: iter("abcdefg"), k, 3, ["x.conll"])) for k in (1, 2, 3)]
    assert parts == [["a", "b"], ["c", "d"], ["e", "f", "g"]]


@pytest.mark.parametrize(
    "text,message",
    [("0/4", "K runs from 1"), ("5/4", "K runs from 1"), ("1/0", "K runs from 1"), ("half", "write K/N")],
)
def test_bad_shard_specs(text, message):
    with pytest.raises(NlpkitError, match=message):
        parse(text)


def test_stdin_cannot_be_sharded():
    with pytest.raises(NlpkitError, match="standard input cannot be split"):
        list(shard_lines(["-"], 1, 2))
