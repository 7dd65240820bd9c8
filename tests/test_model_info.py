"""nlpkit.info and the history a model file records (nlpkit.model_info): read from the header
alone, shown as sparklines by `nlpkit info`, drawn by `nlpkit plot`."""

import json

import pytest

import nlpkit
from nlpkit.model_info import header, history, history_summary


def test_info_and_history_of_a_model_file(lm_model, tmp_path):
    path, _ = lm_model
    meta = nlpkit.info(path)
    assert meta["task"] == "lm" and meta["recipe"]["context"] == 16
    found = history(path)
    assert found and {"step", "epoch", "seconds", "train_loss", "valid_loss"} <= set(found[-1])
    brief = header(path, brief=True)
    assert "history" not in brief["metrics"]["train"] and brief["history"]["evaluations"].startswith(f"{len(found)} (")
    assert set(history_summary(found)) >= {"evaluations", "train_loss", "valid_loss"}
    metrics = tmp_path / "m.json"
    metrics.write_text(json.dumps(nlpkit.info(path)["metrics"]), encoding="utf-8")
    assert history(metrics) == found


def test_files_without_history_are_named(tmp_path):
    (tmp_path / "x.json").write_text('{"train": {}}', encoding="utf-8")
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    for name, message in (("x.json", "records no evaluation history"), ("bad.json", "not a metrics file")):
        with pytest.raises(nlpkit.NlpkitError, match=message):
            history(tmp_path / name)
    with pytest.raises(nlpkit.NlpkitError, match="expected the path of a model file"):
        nlpkit.info(None)


def test_training_curves_of_two_runs_on_one_chart(lm_model, sentiment_model, tmp_path):
    pytest.importorskip("matplotlib")
    from nlpkit.plots import training_curves

    out = tmp_path / "curves.svg"
    assert training_curves([str(lm_model[0]), str(sentiment_model[0])], "train_loss", "step", str(out))[1] >= 2
    assert out.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    with pytest.raises(nlpkit.NlpkitError, match="holds no valid_bleu .it holds train_loss, valid_loss"):
        training_curves([str(lm_model[0])], "valid_bleu", "step", str(tmp_path / "c.png"))
