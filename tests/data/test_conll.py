import json

import pytest

from nlpkit.data.conll import dataset_sentences, read_conll, read_jsonl
from nlpkit.errors import NlpkitError


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_conll_columns_docstart_and_tab_only_separators(tmp_path):
    path = write(tmp_path, "t.txt", "-DOCSTART- -X- O\n\nEU NNP B-ORG\nrejects VBZ O\n\t\nPeter NNP B-PER\n")
    data = read_conll([path])
    assert data.tokens == [["EU", "rejects"], ["Peter"]]
    assert data.tags == [["B-ORG", "O"], ["B-PER"]]
    assert data.where == [f"{path}:3", f"{path}:6"]
    assert read_conll([path], token_column=1, tag_column=2).tags == [["NNP", "VBZ"], ["NNP"]]


def test_wrong_column_count_names_the_line(tmp_path):
    path = write(tmp_path, "t.txt", "EU NNP B-ORG\nrejects O\n")
    with pytest.raises(NlpkitError, match=r"t\.txt:2: 2 columns, expected 3"):
        read_conll([path])


def test_jsonl_tokens_and_character_spans(tmp_path):
    records = [
        {"tokens": ["Ada", "Lovelace", "wrote"], "tags": ["B-PER", "I-PER", "O"]},
        {
            "text": "Ada Lovelace met Babbage.",
            "entities": [{"start": 0, "end": 12, "type": "PER"}, {"start": 17, "end": 24, "type": "PER"}],
        },
    ]
    path = write(tmp_path, "d.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    data = read_jsonl([path])
    assert data.tags[1] == ["B-PER", "I-PER", "O", "B-PER", "O"]
    bad = write(
        tmp_path,
        "bad.jsonl",
        json.dumps({"text": "Ada Lovelace", "entities": [{"start": 1, "end": 5, "type": "PER"}]}) + "\n",
    )
    with pytest.raises(NlpkitError, match=r"bad\.jsonl:1: entity 1-5 does not fall on word boundaries"):
        read_jsonl([bad])


def test_datasets_source_with_class_label_names(tmp_path):
    datasets = pytest.importorskip("datasets")
    features = datasets.Features(
        {
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=["O", "B-PER", "I-PER"])),
        }
    )
    ds = datasets.Dataset.from_dict({"tokens": [["Ada", "Lovelace"]], "ner_tags": [[1, 2]]}, features=features)
    folder = tmp_path / "ds"
    ds.save_to_disk(str(folder))
    path = tmp_path / "d.parquet"
    ds.to_parquet(str(path))
    data = dataset_sentences(str(path), "train", "tokens", "ner_tags")
    assert data.tokens == [["Ada", "Lovelace"]]
    assert data.tags[0] in (["B-PER", "I-PER"], ["1", "2"])  # parquet keeps the names when datasets can


def test_a_no_break_space_is_part_of_a_token(tmp_path):
    path = tmp_path / "nb.conll"
    path.write_text("10\u00a0000 O\nkm B-UNIT\n", encoding="utf-8")
    data = read_conll([str(path)])
    assert data.tokens == [["10\u00a0000", "km"]] and data.tags == [["O", "B-UNIT"]]
