"""`nlpkit vectors train` and `--embeddings` end to end, as a shell user runs them."""

import json

import pytest

from tests.conftest import ROOT, nlpkit

pytestmark = pytest.mark.extras  # CI runs these again with the extras blocked (.ci/run)


def test_vectors_train_then_embeddings_then_info(tmp_path):
    pytest.importorskip("gensim")
    vectors = tmp_path / "vectors.txt.gz"
    proc = nlpkit(
        "vectors",
        "train",
        ROOT / "data" / "sample.txt",
        ROOT / "data" / "sentiment.train.tsv",
        "--out",
        vectors,
        "--dim",
        12,
        "--epochs",
        2,
        "--min-count",
        2,
        "--threads",
        1,
        check=True,
    )
    assert "vectors of dimension 12" in proc.stderr
    assert vectors.read_bytes()[:2] == b"\x1f\x8b"  # gzipped as its name says, not text named .gz
    assert [p.name for p in tmp_path.iterdir()] == ["vectors.txt.gz"]  # no partial file left beside it
    model = tmp_path / "s.nlpk"
    nlpkit(
        "sentiment",
        "train",
        ROOT / "data" / "sentiment.train.tsv",
        "--embeddings",
        vectors,
        "--freeze-embeddings",
        "--hidden",
        16,
        "--layers",
        1,
        "--max-steps",
        10,
        "--quiet",
        "--out",
        model,
        check=True,
    )
    meta = json.loads(nlpkit("info", model, "--format", "json", check=True).stdout)
    assert meta["embeddings"]["source"] == str(vectors) and meta["embeddings"]["format"] == "word2vec-text"
    assert meta["embeddings"]["dim"] == 12 and meta["embeddings"]["type_coverage"] > 0.5
    out = nlpkit("sentiment", "predict", model, input="a lovely view\n\nthe market was stale\n", check=True).stdout
    assert len(out.splitlines()) == 3


def test_bad_vectors_file_is_one_line(tmp_path, cli):
    bad = tmp_path / "bad.vec"
    bad.write_text("2 3\nthe 1 2 3\ncat 1 2\n", encoding="utf-8")
    code, _, err = cli(
        "sentiment",
        "train",
        ROOT / "data" / "sentiment.train.tsv",
        "--embeddings",
        bad,
        "--out",
        tmp_path / "s.nlpk",
        "--quiet",
    )
    assert (
        code == 1 and err.strip() == f"error: {bad}:3: 2 number(s) where the file's vectors have 3 (the header says 3)"
    )
    code, _, err = cli("vectors", "train", tmp_path / "missing.txt", "--out", tmp_path / "v.txt")
    assert code == 1 and "missing.txt: no such file" in err and "Traceback" not in err
    code, _, err = cli("vectors", "train", bad, "--out", bad)
    assert code == 1 and "is an input of this run" in err
