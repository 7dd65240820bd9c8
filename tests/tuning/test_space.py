"""The search space read off the option declarations (nlpkit.tuning.space): ranges and choices
checked against each option's own bounds, fixed options and recurrent-only ones left out, a TOML
file that narrows, widens or excludes."""

import pytest

from nlpkit.errors import NlpkitError
from nlpkit.tasks.lm.options import LMOptions
from nlpkit.tasks.sentiment.options import SentimentOptions
from nlpkit.tuning.space import declared_space, read_space


def test_the_declared_space_leaves_out_fixed_and_recurrent_only_options():
    space = declared_space(LMOptions, {"lr": 1e-3}, "transformer")
    assert "lr" not in space and "weight_drop" not in space and "layer_dropout" not in space
    assert space["context"].choices == (32, 64, 128, 256) and space["hidden"].choices == (64, 128, 256, 512)
    assert {"dropout", "input_dropout", "batch_size", "layers"} <= set(space)
    recurrent = declared_space(LMOptions, {}, "lstm")
    assert recurrent["weight_drop"].high == 0.5 and recurrent["lr"].log
    assert "context" not in declared_space(SentimentOptions, {}, "lstm")  # declared by the lm options only


def test_a_space_file_narrows_widens_and_excludes(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text(
        'exclude = ["schedule"]\n[lr]\nlow = 1e-3\nhigh = 3e-3\nlog = true\n[heads]\nchoices = [2, 4]\n',
        encoding="utf-8",
    )
    space = read_space(str(path), LMOptions, declared_space(LMOptions, {}, "lstm"), {})
    assert (space["lr"].low, space["lr"].high) == (1e-3, 3e-3) and space["heads"].choices == (2, 4)
    assert "schedule" not in space


@pytest.mark.parametrize(
    ("text", "message"),
    [("[hiden]\nchoices = [1]\n", r"unknown option \[hiden\]; did you mean \[hidden\]\?"),
     ("[dropout]\nlow = 0.0\nhigh = 2.0\n", "dropout: 2.0 is above the largest allowed value, 0.95"),
     ("[layers]\nchoices = [0, 2]\n", "layers: 0 is below the smallest allowed value, 1"),
     ("[lr]\nlow = 0.0\nhigh = 0.1\nlog = true\n", r"\[lr\] needs low < high and low > 0 on a log scale"),
     ("[encoder]\nlow = 1\nhigh = 2\n", r"\[encoder\] is not a number: give its choices"),
     ("[min_freq]\nchoices = []\n", r"\[min_freq\] choices must be a non-empty list"),
     ('[tokenizer]\nchoices = ["bpe:100"]\n', r"\[tokenizer\] cannot be searched for a language model"),
     ("[hidden]\nstep = 8\n", r"\[hidden\] has step"),
     ("[seed]\nlow = 0\nhigh = 9\n", r"\[seed\] is fixed by the command")],
)  # fmt: skip
def test_a_bad_space_file_is_one_line(tmp_path, text, message):
    path = tmp_path / "space.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(NlpkitError, match=message):
        read_space(str(path), LMOptions, declared_space(LMOptions, {}, "lstm"), {"seed": 1})


def test_a_classifier_may_search_its_vocabulary(tmp_path):
    from nlpkit.tasks.sentiment.options import SentimentOptions

    path = tmp_path / "space.toml"
    path.write_text('[tokenizer]\nchoices = ["bpe:400", "unigram:800"]\n', encoding="utf-8")
    space = read_space(str(path), SentimentOptions, declared_space(SentimentOptions, {}, "lstm"), {})
    assert space["tokenizer"].choices == ("bpe:400", "unigram:800")


def test_a_space_file_may_search_the_precision_within_its_choices(tmp_path):
    # on a CPU with AMX a search can find whether bf16 pays for the model (docs/tuning.md)
    path = tmp_path / "space.toml"
    path.write_text('[precision]\nchoices = ["fp32", "bf16"]\n', encoding="utf-8")
    space = read_space(str(path), LMOptions, declared_space(LMOptions, {}, "lstm"), {})
    assert space["precision"].choices == ("fp32", "bf16") and "precision" not in declared_space(LMOptions, {}, "lstm")
    path.write_text('[precision]\nchoices = ["fp32", "half"]\n', encoding="utf-8")
    with pytest.raises(NlpkitError, match="half"):
        read_space(str(path), LMOptions, declared_space(LMOptions, {}, "lstm"), {})
