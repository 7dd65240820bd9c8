"""What a user who installed only `nlpkit[dev]` sees from the commands that need an extra: one
line naming the extra to install, exit code 1, no traceback. The extras are blocked in the child
process (.ci/no-extras/sitecustomize.py), so this runs whether or not they are installed."""

import pytest

from tests.conftest import ROOT, nlpkit

pytestmark = pytest.mark.extras  # CI runs these again with the extras blocked (.ci/run)

BLOCKED = {"PYTHONPATH": str(ROOT / ".ci" / "no-extras")}


def test_export_without_onnx_names_the_extra(sentiment_model, tmp_path):
    proc = nlpkit("export", sentiment_model[0], "--out", tmp_path / "m.onnx", env=BLOCKED)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == "error: export needs onnx and onnxruntime: pip install 'nlpkit[onnx]'"
    assert not (tmp_path / "m.onnx").exists()


def test_vectors_train_without_gensim_names_the_extra(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat\n" * 20, encoding="utf-8")
    proc = nlpkit("vectors", "train", corpus, "--out", tmp_path / "v.txt", env=BLOCKED)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == "error: vectors train needs gensim: pip install 'nlpkit[vectors]'"


def test_bad_inputs_are_named_before_the_missing_extra(tmp_path):
    proc = nlpkit("vectors", "train", tmp_path / "missing.txt", "--out", tmp_path / "v.txt", env=BLOCKED)
    assert proc.returncode == 1 and "missing.txt: no such file" in proc.stderr


def test_trackers_without_their_extra_name_it_before_training(tmp_path):
    data = ROOT / "data" / "sample.txt"
    for flag, extra in ((["--tensorboard", tmp_path / "tb"], "tensorboard"), (["--mlflow"], "mlflow")):
        proc = nlpkit("lm", "train", data, "--out", tmp_path / "m.nlpk", "--max-steps", "2", *flag, env=BLOCKED)
        assert proc.returncode == 1 and f"pip install 'nlpkit[{extra}]'" in proc.stderr, proc.stderr
        assert not (tmp_path / "m.nlpk").exists()


def test_tune_without_optuna_names_the_extra(tmp_path):
    data = ROOT / "data" / "sample.valid.txt"
    proc = nlpkit("tune", "lm", data, "--valid-fraction", "0.1", "--out", tmp_path / "best.toml", env=BLOCKED)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == "error: nlpkit tune needs optuna: pip install 'nlpkit[tune]'"
    assert list(tmp_path.iterdir()) == []


def test_serve_without_starlette_names_the_extra(ner_model):
    proc = nlpkit("serve", ner_model[0], "--port", "0", env=BLOCKED)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == "error: nlpkit serve needs Starlette and uvicorn: pip install 'nlpkit[serve]'"
