import json

import pytest

from nlpkit.data.parallel import Fields, dataset_pairs, read_aligned, read_pairs
from nlpkit.errors import NlpkitError


def test_aligned_files_and_their_length_mismatch(tmp_path):
    (tmp_path / "a.de").write_text("Hallo\nWelt\n", encoding="utf-8")
    (tmp_path / "a.en").write_text("Hello\nworld\n", encoding="utf-8")
    (tmp_path / "b.en").write_text("Hello\n", encoding="utf-8")
    pairs = read_aligned(str(tmp_path / "a.de"), str(tmp_path / "a.en"))
    assert pairs.src == ["Hallo", "Welt"] and pairs.tgt == ["Hello", "world"]
    with pytest.raises(NlpkitError, match=r"a\.de has 2 lines but .*b\.en has 1"):
        read_aligned(str(tmp_path / "a.de"), str(tmp_path / "b.en"))


def test_tsv_pairs_and_a_bad_line(tmp_path):
    good = tmp_path / "p.tsv"
    good.write_text("Hallo\tHello\n\nWelt\tworld\n", encoding="utf-8")
    assert read_pairs(str(good), Fields()).tgt == ["Hello", "world"]
    bad = tmp_path / "bad.tsv"
    bad.write_text("Hallo\tHello\nno tab here\n", encoding="utf-8")
    with pytest.raises(NlpkitError, match=r"bad\.tsv:2: expected 'source<TAB>target', found 1"):
        read_pairs(str(bad), Fields())


def test_jsonl_fields_and_translation_records(tmp_path):
    flat = tmp_path / "f.jsonl"
    flat.write_text(json.dumps({"de": "Hallo", "en": "Hello"}) + "\n", encoding="utf-8")
    assert read_pairs(str(flat), Fields("de", "en")).src == ["Hallo"]
    nested = tmp_path / "n.jsonl"
    nested.write_text(json.dumps({"translation": {"de": "Welt", "en": "world"}}) + "\n", encoding="utf-8")
    assert read_pairs(str(nested), Fields(src_lang="de", tgt_lang="en")).tgt == ["world"]
    with pytest.raises(NlpkitError, match=r"n\.jsonl:1: translation record \(de, en\): give src_lang"):
        read_pairs(str(nested), Fields())


def test_datasets_source_from_a_local_jsonl_file(tmp_path):
    path = tmp_path / "d.jsonl"
    rows = [{"translation": {"fr": f"chat {i}", "en": f"cat {i}"}} for i in range(3)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    pairs = dataset_pairs(str(path), "train", Fields(src_lang="fr", tgt_lang="en"))
    assert pairs.src == ["chat 0", "chat 1", "chat 2"] and pairs.tgt[2] == "cat 2"
