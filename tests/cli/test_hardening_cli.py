"""Hostile and unlucky surroundings: full disks, closed stdin, damaged .gz files, planted markup,
the umask. Each is a one-line error with exit 1, or the documented behaviour."""

import gzip
import json
import os
import shlex
import subprocess
import sys

import pytest

from ..conftest import ROOT, nlpkit


def shell(command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_output_to_a_full_disk_is_one_line(char_model):
    for args in (f"info {char_model}", "--help", f"lm score {char_model} data/sample.valid.txt"):
        proc = shell(f"{shlex.quote(sys.executable)} -m nlpkit {args} > /dev/full")
        assert proc.returncode == 1, (args, proc.stderr)
        assert proc.stderr.strip() == "error: cannot write the output: No space left on device", args


def test_closed_stdin_is_one_line(char_model):
    proc = shell(f"{shlex.quote(sys.executable)} -m nlpkit lm score {char_model} <&-")
    assert (
        proc.returncode == 1
        and proc.stderr.strip() == "error: standard input is closed: give input files, or pipe text in"
    )


def test_damaged_and_cut_gzip_files(tmp_path, char_model):
    bad = tmp_path / "bad.txt.gz"
    bad.write_bytes(b"not gzip at all")
    data = gzip.compress(b"the harbour at dawn\n" * 20000)
    cut = tmp_path / "cut.txt.gz"
    cut.write_bytes(data[: len(data) // 2])
    for path in (bad, cut):
        proc = nlpkit("lm", "eval", char_model, path)
        assert proc.returncode == 1 and f"{path}" in proc.stderr and "not a readable gzip file" in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_info_shows_planted_markup_as_text(tmp_path, char_model):
    from nlpkit.modelfile import load, save

    saved = load(char_model)
    saved.meta["data"] = {"sources": ["[link=https://example.invalid]click[/link] [bold]x[/bold]"]}
    planted = tmp_path / "planted.nlpk"
    save(planted, saved)
    out = nlpkit("info", planted, check=True, env={"COLUMNS": "400"}).stdout
    assert "[link=https://example.invalid]click[/link]" in out


def test_model_files_honour_the_umask(tmp_path, char_model):
    out = tmp_path / "m.nlpk"
    proc = shell(
        f"umask 022 && {shlex.quote(sys.executable)} -m nlpkit lm train data/sample.txt --hidden 8 --layers 1 "
        f"--max-steps 1 --context 16 --quiet --device cpu --out {out}"
    )
    assert proc.returncode == 0, proc.stderr
    assert os.stat(out).st_mode & 0o777 == 0o644


def test_translate_eval_on_empty_files(tmp_path):
    empty_src, empty_ref = tmp_path / "e.src", tmp_path / "e.ref"
    empty_src.write_text("")
    empty_ref.write_text("")
    model = tmp_path / "t.nlpk"
    nlpkit(
        "translate", "train", "--src", "data/translate.train.en", "--tgt", "data/translate.train.fr", "--out", model,
        "--encoder", "gru", "--layers", "1", "--hidden", "8", "--tokenizer", "word", "--max-steps", "2", "--quiet",
        check=True,
    )  # fmt: skip
    proc = nlpkit("translate", "eval", model, "--src", empty_src, "--ref", empty_ref)
    assert proc.returncode == 1 and "no sentence pairs to evaluate" in proc.stderr and "Traceback" not in proc.stderr
    assert json.loads(nlpkit("info", model, "--format", "json", check=True).stdout)["task"] == "translation"


def test_a_closed_pipe_ends_commands_at_once_like_a_unix_filter(char_model, tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("the harbour at dawn\n" * 50000)
    py = shlex.quote(sys.executable)
    for args in (f"lm score {char_model} {big}", f"generate {char_model} -p At -n 1000000 --seed 1"):
        proc = shell(f'{py} -m nlpkit {args} | head -1; echo "status ${{PIPESTATUS[0]}}"')
        lines = proc.stdout.splitlines()
        assert len(lines) == 2 and lines[1] == "status 141", (args, proc.stdout, proc.stderr)
        assert proc.stderr == "", args  # quietly: no traceback, no message


def test_quiet_silences_warnings_but_not_errors(tmp_path):
    model = tmp_path / "t.nlpk"
    nlpkit(
        "translate", "train", "--src", "data/translate.train.en", "--tgt", "data/translate.train.fr", "--out", model,
        "--encoder", "gru", "--layers", "1", "--hidden", "8", "--tokenizer", "word", "--max-steps", "2", "--quiet",
        check=True,
    )  # fmt: skip
    line = "the proud weaver walks to the green chapel .\n"
    loud = nlpkit("translate", "predict", model, "--max-src-len", "3", "--beam", "1", input=line, check=True)
    assert "longer than --max-src-len 3" in loud.stderr
    quiet = nlpkit("translate", "predict", model, "--max-src-len", "3", "--beam", "1", "-q", input=line, check=True)
    assert quiet.stderr == "" and quiet.stdout == loud.stdout
    proc = nlpkit("translate", "predict", model, "--n-best", "2", "--quiet", input=line)
    assert proc.returncode == 1 and "--format jsonl" in proc.stderr


def test_a_second_ctrl_c_ends_at_once_without_a_traceback():
    import signal

    from nlpkit.cli import main

    previous = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(KeyboardInterrupt):  # the first: a graceful stop (checkpoint written)
            main._interrupted(signal.SIGINT, None)
        assert signal.getsignal(signal.SIGINT) is main._interrupted_again
    finally:
        signal.signal(signal.SIGINT, previous)
    code = "from nlpkit.cli.main import _interrupted_again; _interrupted_again(2, None); print('not reached')"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 130 and "stopped at once" in proc.stderr and "not reached" not in proc.stdout


def test_a_run_never_writes_over_its_own_data_or_recipe(tmp_path):
    data = tmp_path / "s.train.tsv"
    data.write_bytes((ROOT / "data" / "sentiment.train.tsv").read_bytes())
    proc = nlpkit("sentiment", "train", data, "--metrics-out", data, "--out", tmp_path / "m.nlpk", "--quiet")
    assert proc.returncode == 1 and "is an input of this run" in proc.stderr and "Traceback" not in proc.stderr
    recipe = tmp_path / "me.toml"
    recipe.write_text(f'train = ["{data}"]\nmax_steps = 2\n', encoding="utf-8")
    proc = nlpkit("sentiment", "train", "--config", recipe, "--out", recipe, "--quiet")
    assert proc.returncode == 1 and "is an input of this run" in proc.stderr
    assert data.read_bytes() == (ROOT / "data" / "sentiment.train.tsv").read_bytes()
    assert recipe.read_text(encoding="utf-8").startswith("train = ")
