"""Defaults chosen for the budget (nlpkit.budget_recipes): which recipe a run gets, that the
user's options win over it, that the model records it, and its bad inputs."""

import pytest

import nlpkit
from nlpkit import tasks
from nlpkit.budget_recipes import BudgetRecipe, choose, data_mb, resolve, table, tokenizer_level

from .conftest import ROOT
from .conftest import nlpkit as shell

SAMPLE = str(ROOT / "data" / "sample.txt")


@pytest.fixture
def large(tmp_path):
    """A training file past the word recipe's data size (its content is never read)."""
    path = tmp_path / "large.txt"
    with open(path, "wb") as f:
        f.truncate(3_000_000)
    return str(path)


@pytest.mark.parametrize("task", ["lm", "sentiment", "ner", "translate"])
def test_every_recipe_is_a_valid_set_of_its_tasks_options(task):
    for recipe in table(task):
        tasks.get(task).Options.create(recipe.values, where=recipe.name)
        assert "tokenizer" not in recipe.values  # the level is the user's choice; the recipe is chosen by it
        assert recipe.budget_s > 0 and recipe.measured


def test_the_recipe_follows_level_budget_and_data_size(large):
    lm = tasks.get("lm")
    assert resolve(lm, {"train": large, "time_budget": "5m"})[1].name == "lm-char-5m"  # char by default
    assert resolve(lm, {"train": large, "time_budget": "1h", "tokenizer": "word:30000"})[1].name == "lm-word-30m"
    assert resolve(lm, {"train": large, "time_budget": "20m", "tokenizer": "word"})[1].name == "lm-word-10m"
    assert resolve(lm, {"train": large, "time_budget": "9m", "tokenizer": "word"})[1].name == "lm-word-5m"
    assert resolve(lm, {"train": large, "time_budget": "30s", "tokenizer": "word"})[1].name == "lm-word-5m"
    assert resolve(lm, {"train": large, "time_budget": "5m", "tokenizer": "unigram:8000"})[1].name == "lm-subword-5m"
    assert resolve(lm, {"train": large, "time_budget": "29m", "tokenizer": "bpe:8000"})[1].name == "lm-subword-5m"
    assert resolve(lm, {"train": large, "time_budget": "30m", "tokenizer": "bpe:8000"})[1].name == "lm-subword-30m"
    # too little text for the word and subword recipes, a task without a table
    assert resolve(lm, {"train": SAMPLE, "time_budget": "5m", "tokenizer": "word"})[1] is None
    assert resolve(lm, {"train": SAMPLE, "time_budget": "5m", "tokenizer": "bpe:800"})[1] is None
    assert resolve(tasks.get("translate"), {"train": large, "time_budget": "5m"})[1] is None


def test_choose_takes_the_longest_budget_not_past_the_run_and_else_the_shortest(monkeypatch):
    recipes = (
        BudgetRecipe("a-5m", 300, {}, "-", level="word", shorter=True),
        BudgetRecipe("a-30m", 1800, {}, "-", level="word"),
        BudgetRecipe("a-30m-big", 1800, {}, "-", level="word", min_mb=100),
    )
    monkeypatch.setattr("nlpkit.budget_recipes.table", lambda task: recipes)
    assert choose("lm", "word", 60, 1.0).name == "a-5m"
    assert choose("lm", "word", 600, 1.0).name == "a-5m"
    assert choose("lm", "word", 7200, 1.0).name == "a-30m"
    assert choose("lm", "word", 7200, 500.0).name == "a-30m-big"
    assert choose("lm", "word", 7200, None).name == "a-30m"  # unknown size: no recipe that needs much data
    assert choose("lm", "char", 7200, 1.0) is None
    monkeypatch.setattr("nlpkit.budget_recipes.table", lambda task: recipes[1:])  # none says it serves shorter runs
    assert choose("lm", "word", 600, 1.0) is None and choose("lm", "word", 1800, 1.0).name == "a-30m"


def test_a_recipe_is_not_used_from_the_budget_where_it_lost(monkeypatch):
    recipes = (BudgetRecipe("a-5m", 300, {}, "-", level="char", until_s=1800),)
    monkeypatch.setattr("nlpkit.budget_recipes.table", lambda task: recipes)
    assert choose("lm", "char", 1799, 1.0).name == "a-5m"
    assert choose("lm", "char", 1800, 1.0) is None and choose("lm", "char", 7200, 1.0) is None


def test_the_character_sentiment_and_ner_recipes_are_not_used_for_half_an_hour_or_more(large):
    # at 30 minutes they lost to the plain defaults (bench/results/budget-defaults-30m.md, -30m-b.md)
    lm, ner, sentiment = tasks.get("lm"), tasks.get("ner"), tasks.get("sentiment")
    assert resolve(sentiment, {"train": large, "time_budget": "20m"})[1].name == "sentiment-word-10m"
    assert resolve(sentiment, {"train": large, "time_budget": "30m"})[1] is None
    assert resolve(lm, {"train": SAMPLE, "time_budget": "20m", "tokenizer": "char"})[1].name == "lm-char-5m"
    assert resolve(lm, {"train": SAMPLE, "time_budget": "30m", "tokenizer": "char"})[1] is None
    assert resolve(ner, {"train": large, "time_budget": "20m"})[1].name == "ner-10m"
    assert resolve(ner, {"train": large, "time_budget": "1h"})[1] is None


def test_the_ten_minute_sentiment_and_ner_recipes_are_not_used_for_shorter_runs(large):
    # measured at 5 minutes they lost to the plain defaults (bench/results/budget-defaults-5m.md)
    for task, name in (("sentiment", "sentiment-word-10m"), ("ner", "ner-10m")):
        assert resolve(tasks.get(task), {"train": large, "time_budget": "5m"})[1] is None
        assert resolve(tasks.get(task), {"train": large, "time_budget": "10m"})[1].name == name


def test_the_users_options_win_and_a_model_size_option_means_no_recipe(large):
    lm = tasks.get("lm")
    values, recipe = resolve(lm, {"train": large, "time_budget": "5m", "tokenizer": "word", "dropout": 0.4, "lr": 10})
    assert recipe.name == "lm-word-5m" and values["dropout"] == 0.4 and values["lr"] == 10
    assert values["hidden"] == 200 and values["budget_recipe"] == "lm-word-5m"
    for shape in ({"layers": 3}, {"hidden": 64}, {"encoder": "gru"}, {"embed": 32}, {"heads": 2}):
        values, recipe = resolve(lm, {"train": large, "time_budget": "5m", **shape})
        assert recipe is None and values["budget_recipe"] == "off" and "dropout" not in values
    assert resolve(lm, {"train": large, "max_steps": 100})[1] is None  # no budget, no budget recipe
    assert resolve(lm, {"train": large, "time_budget": "5m", "budget_recipe": "off"})[1] is None
    # named: applied whatever the budget; the vectors' size wins over the recipe's embed
    values, recipe = resolve(tasks.get("sentiment"), {"train": "x", "budget_recipe": "sentiment-word-10m"})
    assert recipe.name == "sentiment-word-10m" and values["embed"] == 128
    values, _ = resolve(tasks.get("sentiment"), {"train": "x", "time_budget": "12m", "embeddings": "v.txt"})
    assert "embed" not in values and values["hidden"] == 256


def test_data_size_is_unknown_for_stdin_and_datasets(large):
    assert data_mb(large) == pytest.approx(3.0)
    assert data_mb([large, large]) == pytest.approx(6.0)
    assert data_mb(["-"]) is None and data_mb([]) is None and data_mb(["/no/such/file"]) is None
    assert tokenizer_level("bpe:8000") == "subword" and tokenizer_level("word:30000") == "word"


def test_training_records_the_recipe_and_repeats_from_it(tmp_path):
    model = nlpkit.train("lm", train=SAMPLE, time_budget="2s", out=tmp_path / "m.nlpk", quiet=True, device="cpu")
    recipe = model.meta["recipe"]
    assert recipe["budget_recipe"] == "lm-char-5m" and recipe["encoder"] == "transformer" and recipe["layers"] == 3
    again = nlpkit.train("lm", **{**recipe, "out": str(tmp_path / "again.nlpk"), "quiet": True})
    assert again.meta["recipe"] == recipe  # the recorded recipe repeats the run: the same recipe again
    plain = nlpkit.train("lm", train=SAMPLE, time_budget="1s", budget_recipe="off", out=tmp_path / "p.nlpk", quiet=True)
    assert plain.meta["recipe"]["encoder"] == "lstm" and plain.meta["recipe"]["budget_recipe"] == "off"


def test_a_resumed_run_keeps_the_recipe_its_checkpoint_started_from(tmp_path, large):
    from nlpkit.modelfile import read_header

    out = tmp_path / "m.nlpk"
    nlpkit.train("lm", train=SAMPLE, time_budget="2s", out=out, quiet=True, device="cpu")
    ckpt = read_header(str(out) + ".ckpt")
    assert ckpt["recipe"]["budget_recipe"] == "lm-char-5m"
    values, recipe = resolve(tasks.get("lm"), {"train": SAMPLE, "resume": True, "time_budget": "4s", "out": str(out)})
    assert recipe.name == "lm-char-5m" and values["layers"] == 3


def test_an_unknown_recipe_is_a_one_line_error():
    with pytest.raises(nlpkit.NlpkitError, match=r"budget_recipe.*no recipe 'nope'.*lm-char-5m"):
        nlpkit.train("lm", train=SAMPLE, budget_recipe="nope")


def test_the_start_up_line_names_the_recipe_and_info_says_so(tmp_path):
    out = tmp_path / "m.nlpk"
    proc = shell("lm", "train", SAMPLE, "--time-budget", "2s", "--out", out, "--device", "cpu", check=True)
    assert "starting from the budget recipe lm-char-5m" in proc.stderr and "--budget-recipe off" in proc.stderr
    shown = shell("info", out, "--recipe", check=True).stdout
    assert "started from the budget recipe lm-char-5m" in shown and 'encoder = "transformer"' in shown
    bad = shell("lm", "train", SAMPLE, "--time-budget", "2s", "--budget-recipe", "big", "--out", tmp_path / "x.nlpk")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "no recipe 'big'" in bad.stderr
    assert "Traceback" not in bad.stderr and not (tmp_path / "x.nlpk").exists()


def test_the_docs_list_every_recipe_as_the_code_holds_it():
    docs = (ROOT / "docs" / "tuning.md").read_text(encoding="utf-8")
    for task in ("lm", "sentiment", "ner"):
        for recipe in table(task):
            row = next(line for line in docs.splitlines() if line.startswith(f"| `{recipe.name}` |"))
            assert recipe.measured in row and all(f"`{k} {v}`" in row for k, v in recipe.values.items())
