"""nlpkit.outputs.check_output and the writers that use it: a device, a FIFO, a folder or one of
the run's inputs is refused in one line through the Python API, and is left as it was."""

import os
import stat

import pytest

import nlpkit
from nlpkit.outputs import check_output, claim


def test_check_output_refuses_what_must_not_be_written(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("x\n", encoding="utf-8")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    cases = [("", "give a file name"), (tmp_path, "not a regular file"), (fifo, "not a regular file")]
    cases += [("/dev/null", "not a regular file"), (source, "an input of this run")]
    for path, message in cases:
        with pytest.raises(nlpkit.NlpkitError, match=message):
            check_output(path, [source])
    assert check_output(tmp_path / "new" / "m.nlpk", [source]) == tmp_path / "new" / "m.nlpk"
    assert stat.S_ISFIFO(fifo.stat().st_mode) and source.read_text(encoding="utf-8") == "x\n"


def test_save_and_ensemble_never_replace_a_device_a_folder_or_a_member(sentiment_model, tmp_path):
    path, model = sentiment_model
    for target in ("/dev/null", tmp_path):
        with pytest.raises(nlpkit.NlpkitError, match="not a regular file"):
            model.save(target)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    before = path.read_bytes()
    with pytest.raises(nlpkit.NlpkitError, match="an input of this run"):
        nlpkit.ensemble([path, path], out=path)
    assert path.read_bytes() == before
    with pytest.raises(nlpkit.NlpkitError, match="expected a list of sentiment models"):
        nlpkit.ensemble(str(path))


def test_eval_outputs_and_plots_are_checked_before_any_work(ner_model, translate_model, tmp_path):
    from nlpkit.diagnostics.options import SpeedOptions
    from tests.conftest import ROOT

    test = tmp_path / "test.conll"
    test.write_bytes((ROOT / "data" / "ner.valid.conll").read_bytes())
    with pytest.raises(nlpkit.NlpkitError, match="predictions: .* is an input of this run"):
        ner_model[1].evaluate(str(test), predictions=str(test))
    src = tmp_path / "src.en"
    src.write_text("a dog runs\n", encoding="utf-8")
    with pytest.raises(nlpkit.NlpkitError, match="hypotheses: .* is an input of this run"):
        translate_model[1].evaluate((str(src), str(src)), hypotheses=str(src))
    with pytest.raises(nlpkit.NlpkitError, match="plot: .* a figure is written as .png, .svg, .pdf"):
        SpeedOptions.create({"plot": str(tmp_path)})
    (tmp_path / "taken.png").mkdir()
    with pytest.raises(nlpkit.NlpkitError, match="plot: .* not a regular file"):
        claim(SpeedOptions.create({"plot": str(tmp_path / "taken.png")}))
    assert test.read_bytes() == (ROOT / "data" / "ner.valid.conll").read_bytes()
    assert src.read_text(encoding="utf-8") == "a dog runs\n"
