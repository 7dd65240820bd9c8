"""Training options from the shell: recipe files (`train --config`, flags overriding them, `info
--recipe` to repeat a run), and messages that name flags."""

import json

from ..conftest import nlpkit

TINY = ["--hidden", "16", "--layers", "1", "--device", "cpu", "--quiet"]


def test_recipe_round_trip_repeats_the_run(tmp_path):
    recipe = tmp_path / "lm.toml"
    recipe.write_text('train = ["data/sample.txt"]\ntokenizer = "char"\ncontext = 16\nbatch-size = 8\nmax_steps = 6\n')
    first = tmp_path / "a.nlpk"
    nlpkit("lm", "train", "--config", recipe, "--max-steps", "4", "--out", first, *TINY, check=True)
    meta = json.loads(nlpkit("info", first, "--format", "json", check=True).stdout)
    assert meta["metrics"]["train"]["steps"] == 4  # the flag overrode the recipe's 6
    assert meta["recipe"]["context"] == 16 and meta["recipe"]["batch_size"] == 8

    printed = nlpkit("info", first, "--recipe", check=True).stdout
    assert "\nmax_steps = 4\n" in printed and "\nout =" not in printed
    again = tmp_path / "again.toml"
    again.write_text(printed)
    second = tmp_path / "b.nlpk"
    nlpkit("lm", "train", "--config", again, "--out", second, "--quiet", check=True)
    a = json.loads(nlpkit("lm", "eval", first, "data/sample.valid.txt", "--format", "json", check=True).stdout)
    b = json.loads(nlpkit("lm", "eval", second, "data/sample.valid.txt", "--format", "json", check=True).stdout)
    assert a == b  # same recipe, same seed, CPU: the same model


def test_bad_recipes_are_one_line_errors(tmp_path):
    cases = [
        ("hiden = 16\n", "unknown option 'hiden'; did you mean --hidden?"),
        ('hidden = "wide"\n', "--hidden: expected int, got 'wide'"),
        ("hidden = \n", "not a valid TOML recipe"),
    ]
    for content, message in cases:
        recipe = tmp_path / "bad.toml"
        recipe.write_text(content)
        proc = nlpkit("sentiment", "train", "data/sentiment.train.tsv", "--config", recipe, "--out", tmp_path / "x")
        assert proc.returncode == 1, proc.stderr
        assert message in proc.stderr and str(recipe) in proc.stderr and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    proc = nlpkit("ner", "train", "--config", tmp_path / "missing.toml")
    assert proc.returncode == 1 and "no such recipe file" in proc.stderr


def test_info_recipe_of_a_file_without_one(tmp_path, char_model):
    from nlpkit.modelfile import load, save

    saved = load(char_model)
    saved.meta.pop("recipe", None)
    old = tmp_path / "old.nlpk"
    save(old, saved)
    proc = nlpkit("info", old, "--recipe")
    assert proc.returncode == 1 and "records no recipe" in proc.stderr


def test_library_messages_name_flags_in_the_shell(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("text\tlabel\ngood\tpos\n\tneg\n")
    proc = nlpkit("sentiment", "train", bad, "--out", tmp_path / "x.nlpk", "--max-steps", "1")
    assert proc.returncode == 1 and "bad.tsv:3: row has no text (or pass --skip-bad" in proc.stderr
    proc = nlpkit("ner", "train", "data/ner.train.conll", "--dropout", "0.99", "--out", tmp_path / "y.nlpk")
    assert proc.returncode == 2  # out of the declared range: a usage error, as for any flag


def test_every_train_command_lists_the_shared_options():
    for task in ("lm", "sentiment", "ner", "translate"):
        out = nlpkit(task, "train", "--help", check=True).stdout
        for flag in ("--config", "--time-budget", "--max-steps", "--lr", "--clip", "--resume", "--seed", "--encoder"):
            assert flag in out, (task, flag)


def test_out_is_checked_before_training(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("the harbour at dawn\n" * 50)
    for out, message in ((corpus, "is an input of this run"), (tmp_path, "exists and is not a regular file")):
        proc = nlpkit("lm", "train", corpus, "--out", out, *TINY, "--max-steps", "1")
        assert proc.returncode == 1 and f"--out: {out} " in proc.stderr and message in proc.stderr
        assert "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    assert corpus.read_text() == "the harbour at dawn\n" * 50


def test_threads_option_and_environment(char_model):
    plain = nlpkit("lm", "score", char_model, input="the harbour\n", check=True).stdout
    assert nlpkit("lm", "score", char_model, "--threads", "1", input="the harbour\n", check=True).stdout == plain
    auto = nlpkit("lm", "score", char_model, input="the harbour\n", env={"NLPKIT_THREADS": "auto"}, check=True)
    assert auto.stdout == plain
    proc = nlpkit("lm", "score", char_model, input="x\n", env={"NLPKIT_THREADS": "many"})
    assert proc.returncode == 1 and "NLPKIT_THREADS='many'" in proc.stderr and "Traceback" not in proc.stderr
