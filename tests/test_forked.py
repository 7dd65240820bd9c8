"""The test suite runs most CLI commands in a fork of the test process (tests/forked.py) to spare
a fresh interpreter's start-up; these tests hold it to what a fresh `python -m nlpkit` does."""

import torch

from nlpkit import console

from .conftest import nlpkit


def _same(*args, input=None):
    forked = nlpkit(*args, input=input)
    fresh = nlpkit(*args, input=input, fresh=True)
    assert (forked.returncode, forked.stdout, forked.stderr) == (fresh.returncode, fresh.stdout, fresh.stderr)
    return forked


def test_a_forked_command_answers_as_a_fresh_interpreter_does(char_model, tmp_path):
    scored = _same("lm", "score", char_model, input="the harbour\n\nat dawn\n")
    assert scored.returncode == 0 and len(scored.stdout.splitlines()) == 3
    missing = _same("lm", "score", tmp_path / "nope.nlpk", input="x\n")
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1 and "Traceback" not in missing.stderr
    usage = _same("lm", "score", "--no-such-option")
    assert usage.returncode == 2 and "No such option" in usage.stderr


def test_the_child_changes_nothing_in_the_test_process(char_model):
    threads = torch.get_num_threads()
    nlpkit("lm", "score", char_model, "--quiet", input="x\n", check=True)  # --quiet silences the child's console
    assert torch.get_num_threads() == threads and console._silent is False
