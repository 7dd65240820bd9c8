"""Training you can watch (nlpkit.tracking): lines on stderr for batch jobs, JSON lines, and the
trackers users already have (TensorBoard, MLflow), read back with their own readers."""

import json

import pytest

import nlpkit
from tests.conftest import ROOT, TINY_API

LM = dict(train=str(ROOT / "data" / "sample.txt"), valid=str(ROOT / "data" / "sample.valid.txt"), context=16)


def train(tmp_path, **options):
    return nlpkit.train("lm", out=str(tmp_path / "lm.nlpk"), max_steps=12, eval_every=6, **LM, **(TINY_API | options))


def test_a_batch_job_log_shows_each_evaluation_and_progress_between(tmp_path, capsys):
    train(tmp_path, quiet=False, log_every="0.001s")
    err = capsys.readouterr().err.splitlines()  # captured: not a terminal, as in `nohup ... > log`
    evals = [line for line in err if line.startswith("eval: ")]
    assert len(evals) == 2 and "step 6" in evals[0] and "valid_loss" in evals[0] and "best valid_loss" in evals[0]
    assert any(line.startswith("step ") and "tok/s" in line and "eta" in line for line in err)
    assert "the model goes to" in err[0] and any(line.startswith("end: 12 steps") for line in err)


def test_json_lines_have_the_documented_keys(tmp_path, capsys):
    train(tmp_path, quiet=False, log_format="json", log_every="0.001s")
    records = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    events = [r["event"] for r in records]
    assert events[0] == "start" and events[-1] == "end" and events.count("eval") == 2 and "progress" in events
    ev = next(r for r in records if r["event"] == "eval")
    assert {"step", "epoch", "elapsed", "tokens_per_s", "train_loss", "lr", "eta", "valid_loss", "best"} <= set(ev)
    assert ev["best"]["metric"] == "valid_loss" and ev["best"]["step"] == 6


def test_quiet_logs_nothing_and_bad_log_options_fail_first(tmp_path, capsys):
    train(tmp_path, quiet=True, log_every="0.001s")
    assert capsys.readouterr().err == ""
    with pytest.raises(nlpkit.NlpkitError, match="log_every"):
        train(tmp_path, log_every="soon")
    (tmp_path / "file").write_text("x")
    with pytest.raises(nlpkit.NlpkitError, match="tensorboard: .* exists and is not a folder|needs tensorboard"):
        train(tmp_path, tensorboard=str(tmp_path / "file"))


@pytest.mark.extras
def test_tensorboard_scalars_read_back_with_tensorboards_reader(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    train(tmp_path, tensorboard=str(tmp_path / "tb"), log_every="0.001s")
    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    tags = events.Tags()["scalars"]
    assert {"valid/valid_loss", "train/train_loss", "train/lr"} <= set(tags)
    assert [e.step for e in events.Scalars("valid/valid_loss")] == [6, 12]


@pytest.mark.extras
def test_an_mlflow_run_holds_the_recipe_metrics_and_model(tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    train(tmp_path, mlflow=True)
    client = mlflow.tracking.MlflowClient()
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert len(runs) == 1
    run = runs[0]
    assert run.data.params["hidden"] == "16" and run.data.params["context"] == "16"
    assert [m.step for m in client.get_metric_history(run.info.run_id, "valid_loss")] == [6, 12]
    assert [a.path for a in client.list_artifacts(run.info.run_id)] == ["lm.nlpk"]


def test_long_predict_runs_say_how_far_they_are(sentiment_model, capsys):
    from nlpkit.tracking import follow

    assert len(list(follow(([i] * 10 for i in range(5)), every=1e-9, what="records"))) == 5
    err = capsys.readouterr().err
    assert "10 records done" in err and "50 records done in" in err and "records/s" in err
    assert list(follow(iter([[1]]), every=0)) == [[1]] and capsys.readouterr().err == ""
    from tests.conftest import nlpkit as cli

    text = "a fine inn\n" * 3000
    proc = cli("sentiment", "predict", sentiment_model[0], "--log-every", "0.001s", "--chunk-size", "500", input=text)
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 3000 and "records done" in proc.stderr


def test_a_tracker_that_fails_mid_run_is_a_warning_not_a_lost_run(capsys):
    from nlpkit.tracking import RunLog

    class Broken:
        name = "tensorboard"

        def write(self, record):
            raise OSError("No space left on device")

        def close(self, model_path):
            raise AssertionError("a dropped tracker is not closed")

    seen = []

    class Kept:
        name = "log"

        def write(self, record):
            seen.append(record["event"])

        def close(self, model_path):
            seen.append(f"closed {model_path}")

    log = RunLog([Broken(), Kept()], every=1.0)
    for event in ("progress", "eval"):
        log.emit({"event": event, "step": 1})
    log.close("m.nlpk")
    assert seen == ["progress", "eval", "closed m.nlpk"]
    err = capsys.readouterr().err
    assert err.count("tensorboard: stopped recording this run (No space left on device)") == 1


def test_long_eval_runs_say_how_far_they_are_too(sentiment_model, translate_model, capsys):
    records = [("a fine inn", "pos"), ("rude staff", "neg")] * 5000
    scores = sentiment_model[1].evaluate(records, log_every="0.000001s")
    assert scores["count"] == 10000 and "examples done" in capsys.readouterr().err
    pairs = [("a dog runs", "un chien court")] * 3
    translate_model[1].evaluate(pairs, log_every="0", beam=1)
    assert "sentences done" not in capsys.readouterr().err  # 0: no progress lines
