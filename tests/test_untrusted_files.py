"""Model files from strangers: inconsistent metadata or tensor tables are one-line errors, checked
before any allocation the file's own weights do not justify."""

import json
import resource
import struct

import pytest

import nlpkit
from nlpkit.modelfile import load, read_header, save

from .conftest import ROOT

DATA = ROOT / "data"


@pytest.fixture(scope="module")
def classifier_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("untrusted") / "c.nlpk"
    nlpkit.train(
        "sentiment", train=DATA / "sentiment.train.tsv", out=out, tokenizer="unigram:200", hidden=8, max_steps=1,
        device="cpu", quiet=True,
    )  # fmt: skip
    return out


def altered(source, target, change):
    saved = load(source)
    change(saved.meta)
    save(target, saved)
    return target


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m["model"].update(embed_size=4_000_000), "the weights do not fit the model its metadata describes"),
        (lambda m: m["model"].update(embed_size=-3), "the metadata does not describe a valid model"),
        (lambda m: m.pop("model"), "the metadata does not describe a valid model"),
        (lambda m: m["model"]["encoder"].update(kind="cnn"), "unknown encoder 'cnn'"),
        (lambda m: m["model"].update(labels="pos"), "the weights do not fit"),  # three labels: p, o, s
        (lambda m: m.pop("tokenizer"), "the tokenizer in the file is unreadable"),
    ],
)
def test_inconsistent_metadata_is_one_error_without_allocating(tmp_path, classifier_file, change, message):
    bad = altered(classifier_file, tmp_path / "bad.nlpk", change)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(nlpkit.NlpkitError, match=message):
        nlpkit.load(bad)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 200  # a 4e6-wide embedding would be gigabytes


def test_corrupt_sentencepiece_model(tmp_path, classifier_file):
    saved = load(classifier_file)
    blob = next(k for k in saved.tensors if k.startswith("tokenizer."))
    saved.tensors[blob] = saved.tensors[blob][: len(saved.tensors[blob]) // 3].clone()
    save(tmp_path / "sp.nlpk", saved)
    with pytest.raises(nlpkit.NlpkitError, match="the tokenizer in the file is unreadable"):
        nlpkit.load(tmp_path / "sp.nlpk")


def rewrite_table(source, target, change):
    raw = source.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + size])
    change(header)
    body = json.dumps(header).encode()
    target.write_bytes(struct.pack("<Q", len(body)) + body + raw[8 + size :])
    return target


def first_tensor(header):
    return next(k for k in header if k != "__metadata__")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda h: h[first_tensor(h)].pop("data_offsets"), "has a bad entry in the table"),
        (lambda h: h[first_tensor(h)].update(shape=[-1, 4]), "has a bad entry in the table"),
        (lambda h: h[first_tensor(h)].update(shape=[10**9, 10**9]), "bytes for shape"),
        (lambda h: h[first_tensor(h)].update(dtype="F128"), "has a bad entry in the table"),
        (lambda h: h.update({"__metadata__": {"nlpkit": json.dumps([1, 2])}}), "metadata is not an object"),
    ],
)
def test_bad_tensor_tables_fail_in_info_and_load(tmp_path, classifier_file, change, message):
    bad = rewrite_table(classifier_file, tmp_path / "t.nlpk", change)
    with pytest.raises(nlpkit.NlpkitError, match=message):
        read_header(bad)
    with pytest.raises(nlpkit.NlpkitError, match=message):
        nlpkit.load(bad)


def test_the_cli_reports_a_crafted_file_in_one_line(tmp_path, classifier_file):
    from .conftest import nlpkit as cli

    bad = altered(classifier_file, tmp_path / "huge.nlpk", lambda m: m["model"].update(embed_size=10**9))
    proc = cli("sentiment", "predict", bad, input="fine\n")
    assert proc.returncode == 1 and "the weights do not fit" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    info = cli("info", bad, check=True)  # the header alone is still readable, and shown as it is
    assert "1000000000" in info.stdout
