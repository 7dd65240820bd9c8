"""End-to-end sentiment classification through a subprocess, as a user runs it."""

import json

import pytest

from tests.conftest import ROOT, SHARED, nlpkit

TRAIN = ROOT / "data" / "sentiment.train.tsv"
VALID = ROOT / "data" / "sentiment.valid.tsv"
SMALL = "--hidden 32 --embed 32 --batch-size 16 --quiet --seed 1 --device cpu".split()


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    out = tmp_path_factory.mktemp("sentiment") / "s.nlpk"
    nlpkit(
        "sentiment", "train", TRAIN, "--valid", VALID, "--out", out, *SMALL, "--epochs", "3", "--lr", "5e-3", check=True
    )
    return out


def test_trained_model_beats_chance_on_the_sample(classifier):
    proc = nlpkit("sentiment", "eval", classifier, VALID, "--format", "json", check=True)
    scores = json.loads(proc.stdout)
    assert scores["labels"] == ["neg", "pos"] and scores["count"] == 200
    assert scores["accuracy"] > 0.75
    assert set(scores["per_class"]["pos"]) == {"precision", "recall", "f1", "support"}
    assert sum(map(sum, scores["confusion"])) == 200


def test_eval_table_shows_classes_and_confusion_matrix(classifier):
    proc = nlpkit("sentiment", "eval", classifier, VALID, check=True)
    assert "macro avg" in proc.stdout and "confusion matrix" in proc.stdout and "accuracy" in proc.stdout


def test_predict_one_line_per_input_line_in_order_empty_lines_included(classifier):
    lines = ["The staff at the Anchor Inn was rude.", "", "The view at the harbour bakery was lovely.", "   "]
    proc = nlpkit("sentiment", "predict", classifier, "--chunk-lines", "2", input="\n".join(lines) + "\n", check=True)
    rows = proc.stdout.splitlines()
    assert len(rows) == 4
    for row in rows:
        label, prob = row.split("\t")
        assert label in ("pos", "neg") and 0.5 <= float(prob) <= 1.0
    assert rows[0].startswith("neg") and rows[2].startswith("pos")


def test_predict_jsonl_with_all_probabilities_matches_tsv(classifier):
    text = "the coffee was not cold at all\nthe rooms were filthy\n"
    tsv = nlpkit("sentiment", "predict", classifier, "--all-probs", input=text, check=True).stdout.splitlines()
    jsonl = nlpkit("sentiment", "predict", classifier, "--format", "jsonl", "--all-probs", input=text, check=True)
    for t, j in zip(tsv, jsonl.stdout.splitlines(), strict=True):
        record = json.loads(j)
        cells = t.split("\t")
        assert cells[0] == record["label"] and float(cells[1]) == pytest.approx(record["prob"], abs=1e-4)
        assert sum(record["probs"].values()) == pytest.approx(1.0, abs=1e-3)
        assert cells[2].startswith("neg=") and cells[3].startswith("pos=")


def test_train_from_stdin_label_first_and_csv(  # FastText lines: tests/data/test_labeled.py
    tmp_path,
):
    rows = [line.split("\t") for line in TRAIN.read_text().splitlines()[1:200]]
    label_first = "".join(f"{label} {text}\n" for label, text in rows)
    out = tmp_path / "a.nlpk"
    nlpkit(
        "sentiment",
        "train",
        "-",
        "--input-format",
        "label-first",
        "--out",
        out,
        *SMALL,
        "--max-steps",
        "3",
        input=label_first,
        check=True,
    )
    csv = tmp_path / "train.csv"
    csv.write_text("review,stars\n" + "".join(f'"{text}",{label}\n' for label, text in rows))
    nlpkit(
        "sentiment",
        "train",
        csv,
        "--text-column",
        "review",
        "--label-column",
        "stars",
        "--out",
        out,
        *SMALL,
        "--max-steps",
        "3",
        check=True,
    )
    info = json.loads(nlpkit("info", out, "--format", "json", check=True).stdout)
    assert info["model"]["labels"] == ["neg", "pos"]


def test_transformer_with_attention_pooling_class_weights_and_validation_split(tmp_path):
    out = tmp_path / "t.nlpk"
    proc = nlpkit(
        "sentiment",
        "train",
        TRAIN,
        "--out",
        out,
        "--encoder",
        "transformer",
        "--layers",
        "1",
        "--heads",
        "2",
        "--pooling",
        "attention,mean",
        "--class-weights",
        "balanced",
        "--valid-fraction",
        "0.1",
        "--hidden",
        "16",
        "--max-steps",
        "5",
        "--device",
        "cpu",
        check=True,
    )
    assert "best valid_accuracy" in proc.stderr
    assert len(nlpkit("sentiment", "predict", out, input="a\nb\n", check=True).stdout.splitlines()) == 2


def test_init_from_a_language_model_with_gradual_unfreezing(tmp_path, char_model):
    out = tmp_path / "ft.nlpk"
    proc = nlpkit(
        "sentiment",
        "train",
        TRAIN,
        "--valid",
        VALID,
        "--init-from",
        char_model,
        "--gradual-unfreeze",
        "--max-steps",
        "6",
        "--batch-size",
        "8",
        "--device",
        "cpu",
        "--out",
        out,
        check=True,
    )
    assert f"from {char_model}" in proc.stderr
    info = json.loads(nlpkit("info", out, "--format", "json", check=True).stdout)
    assert info["transfer"]["lr_decay"] == 0.5 and info["tokenizer"]["kind"] == "char"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("text\tlabel\ngood\tpos\n\tneg\n", ":3: row has no text"),
        ("text\tlabel\ngood\tpos\nbad\t\n", ":3: row has no label"),
        ("sentence\tlabel\ngood\tpos\n", ":1: no column 'text'"),
        ("text\tlabel\ngood\tpos\n", "at least 2 labels"),
    ],
)
def test_bad_training_data_is_one_line_exit_1(tmp_path, content, message):
    path = tmp_path / "bad.tsv"
    path.write_text(content)
    proc = nlpkit("sentiment", "train", path, "--out", tmp_path / "x.nlpk", *SMALL, "--max-steps", "1")
    assert proc.returncode == 1, proc.stderr
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_skip_bad_counts_what_it_skipped(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("text\tlabel\ngood\tpos\n\tneg\nbad\tneg\nfine\t\n")
    proc = nlpkit(
        "sentiment", "train", path, "--skip-bad", "--out", tmp_path / "x.nlpk", "--max-steps", "1", "--device", "cpu"
    )
    assert proc.returncode == 0, proc.stderr
    assert "skipped 2 row(s)" in proc.stderr


def test_unseen_label_at_eval_time_names_the_line(classifier, tmp_path):
    path = tmp_path / "test.tsv"
    path.write_text("text\tlabel\nlovely\tpos\nso so\tmixed\n")
    proc = nlpkit("sentiment", "eval", classifier, path)
    assert proc.returncode == 1
    assert "test.tsv:3: label 'mixed' was not seen in training (the model knows: neg, pos)" in proc.stderr


def test_a_model_of_another_task_is_refused(char_model):
    proc = nlpkit("sentiment", "predict", char_model, input="x\n")
    assert proc.returncode == 1 and "a model for 'nlpkit lm', not for 'nlpkit sentiment'" in proc.stderr


def test_ensemble_of_two_seeds_predicts_their_average(classifier, tmp_path):
    second = tmp_path / "s2.nlpk"
    train = ("sentiment", "train", TRAIN, "--valid", VALID, "--out", second, *SMALL[:-4], "--seed", "2")
    nlpkit(*train, "--device", "cpu", "--epochs", "3", "--lr", "5e-3", check=True)
    out = tmp_path / "e.nlpk"
    proc = nlpkit("sentiment", "ensemble", classifier, second, "--out", out, check=True)
    assert "e.nlpk: ensemble of 2 members: lstm x2" in proc.stderr
    text = "the coffee was not cold at all\n\nthe rooms were filthy\n"
    probs = [
        [json.loads(line)["probs"]["pos"] for line in nlpkit("sentiment", "predict", m, "--format", "jsonl", "--all-probs", input=text, check=True).stdout.splitlines()]
        for m in (classifier, second, out)
    ]  # fmt: skip
    assert len(probs[2]) == 3
    for a, b, both in zip(*probs, strict=True):
        assert both == pytest.approx((a + b) / 2, abs=2e-5)
    scores = json.loads(nlpkit("sentiment", "eval", out, VALID, "--format", "json", check=True).stdout)
    assert scores["count"] == 200 and scores["accuracy"] > 0.75
    shown = nlpkit("info", out, check=True).stdout
    assert "model.members" in shown and "ensemble.2" in shown and "seed 2" in shown
    recipe = nlpkit("info", out, "--recipe")
    assert recipe.returncode == 1 and "an ensemble of 2 models, each with its own recipe" in recipe.stderr
    nlpkit("quantize", out, tmp_path / "q.nlpk", check=True)  # int8 members, still one line per input line
    int8 = nlpkit("sentiment", "predict", tmp_path / "q.nlpk", input=text, check=True).stdout.splitlines()
    assert len(int8) == 3 and all(row.split("\t")[0] in ("pos", "neg") for row in int8)


def test_ensemble_bad_input_is_one_line(classifier, char_model, tmp_path):
    cases = [
        (("sentiment", "ensemble", classifier, "--out", tmp_path / "e.nlpk"), "at least two sentiment models"),
        (("sentiment", "ensemble", classifier, classifier, "--out", classifier), "is an input of this run"),
        (
            ("sentiment", "ensemble", classifier, char_model, "--out", tmp_path / "e.nlpk"),
            "a model for 'nlpkit lm', not for 'nlpkit sentiment'",
        ),
        (("sentiment", "ensemble", classifier, tmp_path / "none.nlpk"), "none.nlpk"),
    ]
    for args, message in cases:
        proc = nlpkit(*args)
        assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "e.nlpk").exists()


@pytest.mark.skipif(not (SHARED / "sst2").exists(), reason="needs ../shared/data/sst2")
def test_real_corpus_sst2(tmp_path):
    sst = SHARED / "sst2"
    out = tmp_path / "sst.nlpk"
    nlpkit(
        "sentiment",
        "train",
        sst / "stsa.binary.train",
        "--valid",
        sst / "stsa.binary.dev",
        "--out",
        out,
        *SMALL,
        "--max-steps",
        "40",
        check=True,
    )
    scores = json.loads(
        nlpkit("sentiment", "eval", out, sst / "stsa.binary.test", "--format", "json", check=True).stdout
    )
    assert scores["count"] == 1821 and scores["labels"] == ["0", "1"]


def test_resume_continues_from_the_checkpoint(tmp_path):
    out = tmp_path / "r.nlpk"
    args = [
        "sentiment",
        "train",
        TRAIN,
        "--out",
        out,
        "--hidden",
        "16",
        "--device",
        "cpu",
        "--metrics-out",
        tmp_path / "m.json",
    ]
    nlpkit(*args, "--max-steps", "4", check=True)
    assert (tmp_path / "r.nlpk.ckpt").exists()
    nlpkit(*args, "--max-steps", "9", "--resume", check=True)
    assert json.loads((tmp_path / "m.json").read_text())["train"]["steps"] == 9


def test_the_bag_encoder_end_to_end(tmp_path):
    """Train a bag of words and bigrams, score it, predict one line per input line (empty ones
    included), read it back in Python, and run it in onnxruntime with the same probabilities."""
    out = tmp_path / "bag.nlpk"
    flags = ["--encoder", "bag", "--ngrams", "2", "--buckets", "4096", "--pooling", "mean"]
    nlpkit("sentiment", "train", TRAIN, "--valid", VALID, "--out", out, *flags, *SMALL, "--epochs", "8",
           "--lr", "1e-2", check=True)  # fmt: skip
    scores = json.loads(nlpkit("sentiment", "eval", out, VALID, "--format", "json", check=True).stdout)
    assert scores["accuracy"] > 0.75
    info = json.loads(nlpkit("info", out, "--format", "json", check=True).stdout)
    assert info["model"]["encoder"]["kind"] == "bag" and info["model"]["ngram_buckets"] == 4096
    lines = "a wonderful , moving film\n\nthe plot is a dull mess\n"
    proc = nlpkit("sentiment", "predict", out, "--runtime", "torch", "--format", "jsonl", input=lines, check=True)
    torch_rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(torch_rows) == 3
    import nlpkit as api

    model = api.load(str(out), runtime="torch")
    assert [r["label"] for r in model.predict(lines.splitlines())] == [r["label"] for r in torch_rows]
    pytest.importorskip("onnxruntime")
    proc = nlpkit("sentiment", "predict", out, "--runtime", "onnx", "--format", "jsonl", input=lines, check=True)
    onnx_rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["label"] for r in onnx_rows] == [r["label"] for r in torch_rows]
    assert all(abs(a["prob"] - b["prob"]) < 1e-4 for a, b in zip(onnx_rows, torch_rows, strict=True))


@pytest.mark.parametrize(
    "args, message",
    [
        (["sentiment", "train", TRAIN, "--ngrams", "3"], "--ngrams goes with --encoder bag, not lstm"),
        (["sentiment", "train", TRAIN, "--encoder", "bag", "--ngrams", "7"], "--ngrams"),
        (["ner", "train", ROOT / "data" / "ner.train.conll", "--encoder", "bag"], "is a classifier's"),
        (["lm", "train", ROOT / "data" / "sample.txt", "--encoder", "bag"], "is a classifier's"),
    ],
)
def test_bag_options_where_they_do_not_apply_are_one_line_errors(tmp_path, args, message):
    proc = nlpkit(*args, "--out", tmp_path / "x.nlpk", "--max-steps", "1", "--device", "cpu")
    assert proc.returncode != 0 and message in proc.stderr
    lines = proc.stderr.strip().splitlines()  # one line; a bound the parser checks ends its usage note
    assert "Traceback" not in proc.stderr and (len(lines) == 1 or lines[-1].startswith("Error: Invalid value"))
    assert not (tmp_path / "x.nlpk").exists()
