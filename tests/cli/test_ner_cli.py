"""Named-entity tagging end to end, through a subprocess."""

import json

import pytest

from tests.conftest import ROOT, SHARED, nlpkit

TRAIN = ROOT / "data" / "ner.train.conll"
VALID = ROOT / "data" / "ner.valid.conll"
SMALL = "--hidden 32 --embed 32 --char-size 16 --batch-size 16 --quiet --seed 1 --device cpu".split()


@pytest.fixture(scope="module")
def tagger(tmp_path_factory):
    out = tmp_path_factory.mktemp("ner") / "ner.nlpk"
    nlpkit(
        "ner",
        "train",
        TRAIN,
        "--valid",
        VALID,
        "--out",
        out,
        *SMALL,
        "--crf",
        "--epochs",
        "4",
        "--lr",
        "5e-3",
        check=True,
        timeout=300,
    )
    return out


def test_tagger_learns_the_sample_and_eval_reports_types(tagger, tmp_path):
    proc = nlpkit("ner", "eval", tagger, VALID, "--format", "json", "--predictions", tmp_path / "p.tsv", check=True)
    scores = json.loads(proc.stdout)
    assert scores["f1"] > 0.7, scores
    assert set(scores["per_type"]) == {"LOC", "ORG", "PER"} and scores["scheme"] == "iob2"
    rows = [r for r in (tmp_path / "p.tsv").read_text().splitlines() if r]
    assert all(len(r.split("\t")) == 3 for r in rows)
    table = nlpkit("ner", "eval", tagger, VALID, check=True).stdout
    assert "micro avg" in table and "macro avg" in table


def test_tag_jsonl_gives_one_record_per_line_with_offsets(tagger):
    lines = ["Mara Lund sailed from Kestrel Bay to Port Arden.", "", "The Harbour Trust met in Kestrel Bay."]
    proc = nlpkit("ner", "tag", tagger, input="\n".join(lines) + "\n", check=True)
    records = [json.loads(r) for r in proc.stdout.splitlines()]
    assert [r["text"] for r in records] == lines
    assert records[1]["entities"] == []
    for record in records:
        for e in record["entities"]:
            assert record["text"][e["start"] : e["end"]] == e["text"] and 0 <= e["score"] <= 1
    assert any(e["type"] == "LOC" and e["text"] == "Kestrel Bay" for e in records[2]["entities"])


def test_tag_conll_and_inline_formats(tagger, tmp_path):
    text = "Mara Lund sailed to Port Arden.\n\nhello\n"
    conll = nlpkit("ner", "tag", tagger, "--format", "conll", input=text, check=True).stdout
    lines = conll.splitlines()
    assert lines.count("") == 3  # a blank line ends each record; the empty record is just that
    assert lines[0].split("\t")[0] == "Mara" and lines[-2] == "hello\tO"
    inline = nlpkit("ner", "tag", tagger, "--format", "inline", input=text, check=True).stdout.splitlines()
    assert len(inline) == 3 and inline[1] == "" and "[" in inline[0]
    pre = tmp_path / "in.conll"
    pre.write_text("Mara\nLund\n\nPort\nArden\n")
    out = nlpkit("ner", "tag", tagger, pre, "--input-format", "conll", check=True).stdout.splitlines()
    assert [json.loads(r)["text"] for r in out] == ["Mara Lund", "Port Arden"]


def test_softmax_transformer_tagger_with_lstm_char_features(tmp_path):
    out = tmp_path / "m.nlpk"
    extra = ["--encoder", "transformer", "--layers", "1", "--heads", "2", "--char-features", "lstm"]
    nlpkit("ner", "train", TRAIN, "--out", out, *SMALL, "--max-steps", "3", *extra, check=True)
    assert len(nlpkit("ner", "tag", out, input="a b\nc\n", check=True).stdout.splitlines()) == 2


def test_iob1_and_bioes_training_files_are_read_and_written_back_in_their_scheme(tmp_path):
    from nlpkit.text.schemes import convert

    sentences = TRAIN.read_text().strip().split("\n\n")[:60]
    for scheme in ("iob1",):  # BIOES round trips are unit-tested in tests/text/test_schemes.py
        path = tmp_path / f"{scheme}.conll"
        blocks = []
        for block in sentences:
            rows = [r.split("\t") for r in block.splitlines()]
            tags = convert([t for _, t in rows], "iob2", scheme)[0]
            blocks.append("\n".join(f"{w}\t{t}" for (w, _), t in zip(rows, tags, strict=True)))
        path.write_text("\n\n".join(blocks) + "\n")
        out = tmp_path / f"{scheme}.nlpk"
        nlpkit("ner", "train", path, "--out", out, *SMALL, "--max-steps", "2", check=True)
        info = json.loads(nlpkit("info", out, "--format", "json", check=True).stdout)
        assert info["model"]["scheme"] == scheme


def test_i_after_o_is_repaired_with_a_warning_or_refused_with_strict(tmp_path):
    path = tmp_path / "broken.conll"
    path.write_text("Mara\tB-PER\nsailed\tO\n\nto\tO\nPort\tI-LOC\nArden\tI-LOC\n\nLund\tB-PER\n")
    proc = nlpkit("ner", "train", path, "--out", tmp_path / "x.nlpk", *SMALL, "--max-steps", "1")
    assert proc.returncode == 0 and "repaired 1 tag(s)" in proc.stderr
    proc = nlpkit("ner", "train", path, "--out", tmp_path / "x.nlpk", *SMALL, "--max-steps", "1", "--strict")
    assert proc.returncode == 1 and "broken.conll:5: I-LOC continues no entity" in proc.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("Mara\tB-PER\nsailed\n", "broken.conll:2: 1 columns, expected 2"),
        ("Mara\tO\nLund\tX-PER\n", "broken.conll:2: tag 'X-PER' is not O or PREFIX-TYPE"),
    ],
)
def test_bad_tagged_input_is_one_line_exit_1(tmp_path, content, message):
    path = tmp_path / "broken.conll"
    path.write_text(content)
    proc = nlpkit("ner", "train", path, "--out", tmp_path / "x.nlpk", *SMALL, "--max-steps", "1")
    assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr


def test_unseen_type_at_eval_is_reported_not_a_crash(tagger, tmp_path):
    path = tmp_path / "test.conll"
    path.write_text("Mara\tB-PER\nLund\tI-PER\nate\tO\nsoup\tB-FOOD\n")
    proc = nlpkit("ner", "eval", tagger, path, check=True)
    assert "FOOD (unseen in training)" in proc.stdout and "never saw" in proc.stderr


def test_a_model_of_another_task_is_refused(char_model):
    proc = nlpkit("ner", "tag", char_model, input="x\n")
    assert proc.returncode == 1 and "a model for 'nlpkit lm', not for 'nlpkit ner'" in proc.stderr


@pytest.mark.skipif(not (SHARED / "wnut17").exists(), reason="needs ../shared/data/wnut17")
def test_real_corpus_wnut17_reads_tab_separated_sentences(tmp_path):
    wnut = SHARED / "wnut17"
    out = tmp_path / "w.nlpk"
    nlpkit("ner", "train", wnut / "wnut17train.conll", "--out", out, *SMALL, "--max-steps", "1", check=True)
    scores = json.loads(nlpkit("ner", "eval", out, wnut / "emerging.dev.conll", "--format", "json", check=True).stdout)
    assert scores["entities"] > 800 and len(scores["per_type"]) == 6


def test_init_from_a_word_level_language_model(tmp_path, corpus):
    lm = tmp_path / "words.nlpk"
    nlpkit(
        "lm",
        "train",
        corpus,
        "--tokenizer",
        "word",
        "--out",
        lm,
        "--hidden",
        "16",
        "--max-steps",
        "2",
        "--context",
        "8",
        "--quiet",
        "--device",
        "cpu",
        check=True,
    )
    out = tmp_path / "ft.nlpk"
    nlpkit(
        "ner",
        "train",
        TRAIN,
        "--init-from",
        lm,
        "--out",
        out,
        "--max-steps",
        "2",
        "--quiet",
        "--device",
        "cpu",
        check=True,
    )
    info = json.loads(nlpkit("info", out, "--format", "json", check=True).stdout)
    assert info["model"]["char_features"] == "none" and info["model"]["encoder"]["hidden_size"] == 16
    char_lm = tmp_path / "chars.nlpk"
    nlpkit(
        "lm",
        "train",
        corpus,
        "--out",
        char_lm,
        "--hidden",
        "16",
        "--max-steps",
        "1",
        "--context",
        "8",
        "--quiet",
        "--device",
        "cpu",
        check=True,
    )
    proc = nlpkit("ner", "train", TRAIN, "--init-from", char_lm, "--out", out, "--max-steps", "1", "--device", "cpu")
    assert proc.returncode == 1 and "needs a word-level one" in proc.stderr
