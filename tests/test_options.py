import tomllib

import pytest

from nlpkit.errors import NlpkitError, option, use_flags
from nlpkit.option_parsing import read_recipe, to_toml
from nlpkit.tasks.ner.options import NEROptions
from nlpkit.tasks.sentiment.options import SentimentOptions
from nlpkit.tasks.translate.options import TranslateOptions


def test_create_coerces_and_checks_each_value():
    o = SentimentOptions.create({"train": "a.tsv", "valid": ["b.tsv"], "lr": 1, "max-steps": 3, "bidirectional": None})
    assert o.train == ["a.tsv"] and o.valid == ["b.tsv"] and o.lr == 1.0 and isinstance(o.lr, float)
    assert o.max_steps == 3 and o.bidirectional is None and o.layers == 1  # the task's own default
    with pytest.raises(NlpkitError, match="max_steps: expected int, got True"):
        SentimentOptions.create({"max_steps": True})
    with pytest.raises(NlpkitError, match="recipe.toml: layers: 0 is below the smallest allowed value, 1"):
        SentimentOptions.create({"layers": 0}, where="recipe.toml")


def test_a_hidden_option_is_unknown_to_its_task():
    assert "batch_size" not in {f.name for f in TranslateOptions.declared()}
    with pytest.raises(NlpkitError, match="unknown option 'batch_size'; did you mean batch_tokens"):
        TranslateOptions.create({"batch_size": 8})


def test_recipe_round_trips_through_toml(tmp_path):
    options = NEROptions.create({"train": ["t.conll"], "crf": True, "dropout": 0.25, "init_from": 'we"ird.nlpk'})
    text = to_toml(options.recipe())
    assert tomllib.loads(text) == options.recipe() and "out" not in options.recipe()
    path = tmp_path / "r.toml"
    path.write_text("[train]\n" + text)
    assert NEROptions.create(read_recipe(str(path))) == NEROptions.create({**options.recipe()})


def test_option_names_follow_the_reader():
    assert option("max_src_len") == "max_src_len"
    use_flags()
    try:
        assert option("max_src_len") == "--max-src-len"
    finally:
        use_flags(False)
