"""Bad-input pass four (issue 34), each finding as a shell user meets it: nothing the user gave is
destroyed, every refusal is one line with exit 1 (2 for a flag out of its declared bounds), and
nothing is written but what the command was asked to write."""

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import nlpkit as api
from tests.conftest import ROOT, TINY_API, nlpkit

DATA = ROOT / "data"


def one_line_error(proc, *wanted: str, code: int = 1) -> None:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for text in wanted:
        assert text in proc.stderr, (text, proc.stderr)


def copies(folder: Path, **files) -> dict:
    placed = {}
    for name, source in files.items():
        placed[name] = folder / name.replace("_", ".")
        shutil.copyfile(source, placed[name])
    return placed


@pytest.fixture(scope="module")
def transformer_lm(tmp_path_factory):
    out = tmp_path_factory.mktemp("tlm") / "tlm.nlpk"
    api.train(
        "lm", train=DATA / "sample.txt", out=out, encoder="transformer", heads=2, context=16, max_steps=3,
        batch_size=4, **TINY_API,
    )  # fmt: skip
    return out


# ----- 1-5: outputs that destroyed an input or the model ---------------------------------------


def test_alignments_never_overwrite_an_input_or_the_model(cli, translate_model, tmp_path, monkeypatch):
    f = copies(tmp_path, in_en=DATA / "translate.valid.en", tr_nlpk=translate_model[0])
    monkeypatch.chdir(tmp_path)  # the spellings a user types in the folder of their files
    before = {k: p.read_bytes() for k, p in f.items()}
    for target in ("./in.en", "tr.nlpk", "../" + tmp_path.name + "/in.en"):
        code, out, err = cli("translate", "predict", "tr.nlpk", "in.en", "--alignments", target)
        assert code == 1 and out == "" and len(err.strip().splitlines()) == 1 and "input of this run" in err, err
    assert {k: p.read_bytes() for k, p in f.items()} == before


def test_hypotheses_and_predictions_never_overwrite_the_model(translate_model, ner_model, tmp_path):
    f = copies(tmp_path, tr_nlpk=translate_model[0], ner_nlpk=ner_model[0], valid_conll=DATA / "ner.valid.conll")
    before = {k: p.read_bytes() for k, p in f.items()}
    proc = nlpkit(
        "translate", "eval", f["tr_nlpk"], "--src", DATA / "translate.valid.en", "--ref", DATA / "translate.valid.fr",
        "--hypotheses", f["tr_nlpk"],
    )  # fmt: skip
    one_line_error(proc, "--hypotheses", "input of this run")
    proc = nlpkit("ner", "eval", f["ner_nlpk"], f["valid_conll"], "--predictions", f"{tmp_path}/./ner.nlpk")
    one_line_error(proc, "--predictions", "input of this run")
    assert {k: p.read_bytes() for k, p in f.items()} == before
    assert api.info(f["ner_nlpk"])["task"] == "tagger"


def test_an_export_never_replaces_a_folder_holding_its_source(sentiment_model, tmp_path):
    folder = tmp_path / "earlier"
    folder.mkdir()
    (folder / "nlpkit.nlpk").write_bytes(b"an earlier export")
    source = copies(folder, src_nlpk=sentiment_model[0])["src_nlpk"]
    before = source.read_bytes()
    one_line_error(nlpkit("export", source, "--format", "ctranslate2", "--out", folder), "holds", "input of this run")
    assert source.read_bytes() == before


def test_an_export_never_deletes_a_users_file_in_an_earlier_export(sentiment_model, tmp_path):
    earlier = tmp_path / "m-ct2"
    earlier.mkdir()
    for name in ("nlpkit.nlpk", "model.bin", "config.json", "vocabulary.json"):
        (earlier / name).write_bytes(b"x")
    (earlier / "notes.md").write_text("mine\n", encoding="utf-8")
    proc = nlpkit("export", sentiment_model[0], "--format", "ctranslate2", "--out", earlier)
    one_line_error(proc, "also holds 'notes.md'")
    assert (earlier / "notes.md").read_text(encoding="utf-8") == "mine\n"


# ----- 6-11 ------------------------------------------------------------------------------------


def test_a_long_stop_string_is_never_printed_while_streaming(char_model):
    args = ("generate", char_model, "--prompt", "The ", "-n", "80", "--seed", "3", "-t", "0.8")
    text = nlpkit(*args, check=True).stdout
    # 14 characters of the completion, within a line: longer than the old 8-character hold-back
    start = next(i for i in range(6, len(text) - 14) if "\n" not in text[i : i + 14])
    stop = text[start : start + 14]
    streamed = nlpkit(*args, "--stop", stop, check=True).stdout
    assert streamed == text[: text.index(stop)] + "\n"


@pytest.mark.parametrize(
    ("flag", "value", "code"),
    [("-t", "1e-40", 1), ("-t", "inf", 2), ("--repetition-penalty", "1e-40", 2), ("-n", str(10**12), 2),
     ("--num-samples", str(10**12), 2), ("--stop", "", 1)],
)  # fmt: skip
def test_sampling_options_at_their_extremes_are_one_line_errors(char_model, flag, value, code):
    proc = nlpkit("generate", char_model, "--prompt", "a", flag, value)
    assert proc.returncode == code and "Traceback" not in proc.stderr and proc.stdout == "", proc.stderr
    for name, bad in (("temperature", 1e-40), ("temperature", float("inf")), ("repetition_penalty", 1e-40),
                      ("max_new_tokens", 10**12), ("num_samples", 10**12), ("stop", [""])):  # fmt: skip
        with pytest.raises(api.NlpkitError, match=name):
            api.load(char_model).generate("a", **{name: bad})


def test_a_folder_name_as_out_is_refused_before_training(tmp_path):
    proc = nlpkit("lm", "train", DATA / "sample.valid.txt", "--out", f"{tmp_path}/newdir/", "--max-steps", "1")
    one_line_error(proc, "names a folder")
    assert list(tmp_path.iterdir()) == []  # no newdir, no newdir/.ckpt


def test_tensorboard_and_the_model_file_may_not_share_a_name(tmp_path):
    out = tmp_path / "x.nlpk"
    proc = nlpkit("lm", "train", DATA / "sample.valid.txt", "--out", out, "--tensorboard", out, "--max-steps", "1")
    one_line_error(proc, "is also another output of this run")
    assert list(tmp_path.iterdir()) == []


def test_exporting_a_ctranslate2_folder_is_one_line(tmp_path):
    folder = tmp_path / "m-ct2"
    folder.mkdir()
    one_line_error(nlpkit("export", folder, "--out", tmp_path / "x.onnx"), "a CTranslate2 export (a folder)")


def test_diagnose_length_beyond_a_transformers_positions_is_one_line(transformer_lm):
    proc = nlpkit("diagnose", "gradients", "--model", transformer_lm, "--length", "3000", "--batch", "1")
    one_line_error(proc, "--length: 3000 steps", "positions for 1024")


# ----- 12: inputs without line ends -----------------------------------------------------------


def test_a_file_without_line_ends_is_refused_with_flat_memory(sentiment_model):
    start = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run(
        [sys.executable, "-m", "nlpkit", "sentiment", "predict", str(sentiment_model[0]), "/dev/zero"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    one_line_error(proc, "/dev/zero:1: a line longer than 16 MiB")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB: the largest child so far
    assert peak < 2_000_000 or peak == start, peak  # torch and the model; the stream never held whole
    with pytest.raises(api.NlpkitError, match="/dev/zero:1: a line longer than 16 MiB"):
        sentiment_model[1].evaluate("/dev/zero")
    with pytest.raises(api.NlpkitError, match="/dev/zero: not a regular file"):
        api.train("lm", recipe="/dev/zero")


# ----- 13-15: resume and JSON logs ---------------------------------------------------------------


def test_resume_refuses_options_that_cannot_apply(tmp_path):
    out = tmp_path / "r.nlpk"
    common = dict(train=DATA / "sample.valid.txt", out=out, context=16, batch_size=4, **TINY_API)
    api.train("lm", max_steps=2, **common)
    for changed in ({"hidden": 32}, {"seed": 5}, {"lr": 0.1}, {"train": DATA / "sample.txt"}):
        name = next(iter(changed))
        with pytest.raises(api.NlpkitError, match=f"{name} .* there, .* now"):
            api.train("lm", max_steps=4, resume=True, **{**common, **changed})
    model = api.train("lm", max_steps=4, resume=True, **common)  # only the length changed: allowed
    assert model.meta["recipe"]["max_steps"] == 4 and model.meta["recipe"]["hidden"] == 16


def test_json_logs_are_json_lines_only_even_with_an_infinite_clip(tmp_path):
    def strict(text):
        return json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))

    proc = nlpkit(
        "lm", "train", DATA / "sample.valid.txt", "--out", tmp_path / "m.nlpk", "--max-steps", "2", "--hidden", "16",
        "--layers", "1", "--context", "16", "--log-format", "json", "--clip", "inf",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    records = [strict(line) for line in proc.stderr.splitlines()]
    assert [r["event"] for r in records][0] == "start" and records[-1]["event"] == "end"
    assert records[0]["recipe"]["clip"] is None and records[-1]["interrupted"] is False


# ----- 16-22 -----------------------------------------------------------------------------------


@pytest.mark.extras
def test_an_unreachable_mlflow_server_fails_within_seconds(tmp_path):
    pytest.importorskip("mlflow")
    t0 = time.monotonic()
    proc = nlpkit(
        "lm", "train", DATA / "sample.valid.txt", "--out", tmp_path / "m.nlpk", "--max-steps", "1", "--mlflow",
        env={"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"},
    )  # fmt: skip
    one_line_error(proc, "--mlflow: cannot start an MLflow run")
    assert time.monotonic() - t0 < 60 and not (tmp_path / "m.nlpk").exists()


def test_alignments_are_written_whole_or_not_at_all(translate_model, tmp_path):
    good = "a dog runs\n" * 40
    src = tmp_path / "in.en"
    src.write_bytes(good.encode() + b"a bad \xff byte\n")  # fails after the first chunk is translated
    aligned = tmp_path / "a.jsonl"
    aligned.write_text("earlier\n", encoding="utf-8")
    proc = nlpkit("translate", "predict", translate_model[0], src, "--alignments", aligned)
    one_line_error(proc, "invalid UTF-8")
    assert aligned.read_text(encoding="utf-8") == "earlier\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "in.en"]  # no temporary file left
    src.write_text(good, encoding="utf-8")
    nlpkit("translate", "predict", translate_model[0], src, "--alignments", aligned, check=True)
    assert len(aligned.read_text(encoding="utf-8").splitlines()) == 40


@pytest.mark.extras
def test_export_through_a_symlink_updates_its_target(transformer_lm, tmp_path):
    pytest.importorskip("ctranslate2")
    target = tmp_path / "real-ct2"
    nlpkit("export", transformer_lm, "--format", "ctranslate2", "--out", target, check=True)
    link = tmp_path / "link"
    link.symlink_to(target)
    nlpkit("export", transformer_lm, "--format", "ctranslate2", "--out", link, check=True)
    assert link.is_symlink() and (link / "model.bin").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real-ct2"]  # no .link.old-PID left


@pytest.mark.extras
def test_an_export_refuses_options_before_printing_anything(transformer_lm, tmp_path):
    pytest.importorskip("ctranslate2")
    target = tmp_path / "m-ct2"
    nlpkit("export", transformer_lm, "--format", "ctranslate2", "--out", target, check=True)
    for flags in (["--repetition-penalty", "1.2"], ["--no-cache"]):
        proc = nlpkit("generate", target, "--prompt", "The harbour", *flags)
        one_line_error(proc, flags[0])
        assert proc.stdout == ""


def test_plot_refuses_a_fifo_and_deeply_nested_json(tmp_path):
    fifo = tmp_path / "run.json"
    os.mkfifo(fifo)
    one_line_error(nlpkit("plot", fifo, "--out", tmp_path / "c.png", timeout=60), "not a regular file")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000, encoding="utf-8")
    one_line_error(nlpkit("plot", deep, "--out", tmp_path / "c.png"), "nested too deeply")


@pytest.mark.extras
def test_a_full_disk_under_tensorboard_is_one_warning_without_a_thread_traceback(tmp_path, capfd):
    pytest.importorskip("tensorboard")
    from nlpkit.tracking import RunLog, TensorBoard

    sink = TensorBoard(str(tmp_path / "tb"), {"lr": 0.1})
    writer = sink.writer.file_writer.event_writer._async_writer

    def full(data):
        raise OSError(28, "No space left on device")

    writer._writer.write = full  # what the writer thread calls for each record
    log = RunLog([sink], every=1.0)
    for step in range(1, 30):
        log.emit({"event": "eval", "step": step, "valid_loss": 1.0})
        time.sleep(0.01)
    log.close(None)
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception in thread" not in err, err
    assert err.count("tensorboard: stopped recording this run") == 1, err


# ----- 24: messages ----------------------------------------------------------------------------


def test_a_model_of_another_task_is_named_as_the_commands_name_it(sentiment_model):
    proc = nlpkit("diagnose", "gradients", "--model", sentiment_model[0], "--length", "4")
    one_line_error(proc, "a model for 'nlpkit sentiment', not for 'nlpkit lm'")


def test_a_plot_name_is_checked_before_measuring():
    t0 = time.monotonic()
    proc = nlpkit("diagnose", "memory", "--plot", "memory.txt", "--steps", "100000")
    one_line_error(proc, "a figure is written as .png, .svg, .pdf")
    assert time.monotonic() - t0 < 30


def test_plot_draws_the_metric_the_run_kept_its_model_by(sentiment_model, tmp_path):
    proc = nlpkit("plot", sentiment_model[0], "--out", tmp_path / "c.png", check=True)
    assert "valid_accuracy by step" in proc.stderr


# ----- what a command writes -------------------------------------------------------------------


def test_no_command_writes_outside_the_paths_it_was_given(cli, lm_model, ner_model, translate_model, tmp_path,
                                                          monkeypatch):  # fmt: skip
    """A clean folder before and after a day's work: only the files named on the command lines
    (and a model file's documented checkpoint beside it) appear; dot files count."""
    monkeypatch.chdir(tmp_path)
    f = copies(tmp_path, lm_nlpk=lm_model[0], ner_nlpk=ner_model[0], tr_nlpk=translate_model[0])
    steps = [
        ["lm", "train", DATA / "sample.valid.txt", "--out", "new.nlpk", "--max-steps", "2", "--hidden", "16",
         "--layers", "1", "--context", "16", "--metrics-out", "new.json", "--quiet"],
        ["lm", "eval", f["lm_nlpk"], DATA / "sample.valid.txt"],
        ["generate", f["lm_nlpk"], "--prompt", "a", "-n", "5"],
        ["ner", "eval", f["ner_nlpk"], DATA / "ner.valid.conll", "--predictions", "pred.conll"],
        ["translate", "predict", f["tr_nlpk"], DATA / "translate.valid.en", "--alignments", "al.jsonl"],
        ["translate", "eval", f["tr_nlpk"], "--src", DATA / "translate.valid.en", "--ref", DATA / "translate.valid.fr",
         "--hypotheses", "hyp.txt"],
        ["quantize", f["lm_nlpk"], "small.nlpk"],
        ["plot", "new.nlpk", "--out", "curves.png"],
        ["info", "new.nlpk"],
    ]  # fmt: skip
    for args in steps:
        code, _, err = cli(*args)
        assert code == 0, (args, err)
    made = {"new.nlpk", "new.nlpk.ckpt", "new.json", "pred.conll", "al.jsonl", "hyp.txt", "small.nlpk", "curves.png"}
    assert {p.name for p in tmp_path.iterdir()} == made | {p.name for p in f.values()}
