"""nlpkit.workers.Predictor: a model loaded once per worker, predicting column batches; run for
real under Ray Data on a local Ray instance when ray is installed (nlpkit[ray])."""

import numpy as np
import pytest

import nlpkit
from nlpkit.workers import Predictor

pytestmark = pytest.mark.extras  # CI runs these again with the extras blocked (.ci/run)


def test_predictions_become_columns_row_for_row(char_model):
    texts = ["At dawn", "", "the harbour"]
    out = Predictor(str(char_model))({"text": np.array(texts, dtype=object), "id": np.arange(3)})
    expected = list(nlpkit.load(char_model).predict(texts))
    assert list(out["text"]) == texts and list(out["id"]) == [0, 1, 2]
    assert out["loglik"] == [r["loglik"] for r in expected] and out["tokens"] == [r["tokens"] for r in expected]


def test_a_missing_column_is_named(char_model):
    with pytest.raises(nlpkit.NlpkitError, match="no column 'text'.*column="):
        Predictor(str(char_model))({"review": np.array(["x"])})


def test_ray_data_runs_a_model_over_a_text_file_in_order(char_model, corpus, tmp_path):
    ray = pytest.importorskip("ray")
    lines = corpus.read_text().splitlines()[:60]
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(lines) + "\n")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        ray.data.DataContext.get_current().execution_options.preserve_order = True
        rows = (
            ray.data.read_text(str(path), drop_empty_lines=False)  # every line, as nlpkit reads them
            .map_batches(
                Predictor, fn_constructor_kwargs={"model": str(char_model)}, concurrency=2, num_cpus=0.5, batch_size=7
            )
            .take_all()
        )
    finally:
        ray.shutdown()
    expected = list(nlpkit.load(char_model).predict(lines))
    assert [r["text"] for r in rows] == lines
    assert [r["loglik"] for r in rows] == pytest.approx([r["loglik"] for r in expected], abs=1e-3)
