"""Property tests of the Python API's arguments (hypothesis): whatever types and values a caller
passes to load, predict, evaluate, generate or train, the only exception that escapes is
nlpkit.NlpkitError, with a one-line message (issue 29: the API as strict as the shell)."""

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nlpkit

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Values of every type a caller might pass by mistake, and the edge values of numbers.
ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**25), max_value=10**25),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.just(math.nan),
    st.just(object()),
)
NAMES = {  # option names each method takes, plus a few it does not
    "lm_model": ["batch_tokens", "chunk_size", "batch_size", "text_field", "top_k", "temperature", "bogus"],
    "sentiment_model": ["batch_tokens", "chunk_size", "input_format", "skip_bad", "bogus"],
    "ner_model": ["batch_tokens", "chunk_size", "scores", "window", "scheme", "strict", "bogus"],
    "translate_model": ["beam", "length_penalty", "n_best", "max_length_ratio", "batch_size", "bogus"],
}


def only_nlpkit_errors(call) -> None:
    try:
        call()
    except nlpkit.NlpkitError as exc:
        assert str(exc).strip() and "\n" not in str(exc).strip()


@pytest.mark.parametrize("fixture", NAMES)
def test_predict_and_evaluate_options_of_any_type(request, fixture):
    _, model = request.getfixturevalue(fixture)

    @SETTINGS
    @given(st.sampled_from(NAMES[fixture]), ANY)
    def check(name, value):
        only_nlpkit_errors(lambda: list(model.predict(["a line"], **{name: value})))

    check()


@pytest.mark.parametrize("fixture", NAMES)
def test_items_and_data_of_any_type(request, fixture):
    _, model = request.getfixturevalue(fixture)

    @SETTINGS
    @given(st.one_of(ANY, st.lists(ANY, max_size=3), st.lists(st.tuples(ANY, ANY), max_size=2)))
    def check(items):
        only_nlpkit_errors(lambda: list(model.predict(items)))
        only_nlpkit_errors(lambda: model.evaluate(items))

    check()


def test_generate_of_any_options(lm_model):
    _, model = lm_model
    names = ["max_new_tokens", "temperature", "top_k", "top_p", "repetition_penalty", "stop", "seed", "bogus"]

    @SETTINGS
    @given(st.sampled_from(names), ANY, ANY)
    def check(name, value, prompt):
        only_nlpkit_errors(lambda: model.generate(prompt, **{name: value, "max_new_tokens": 2} | {name: value}))

    check()


def test_load_and_train_of_any_arguments(sentiment_model, tmp_path):
    path, _ = sentiment_model

    @SETTINGS
    @given(ANY, st.sampled_from(["device", "threads", "quantize", "task"]), ANY)
    def check(where, name, value):
        only_nlpkit_errors(lambda: nlpkit.load(where))
        only_nlpkit_errors(lambda: nlpkit.load(path, **{name: value}))

    check()

    @SETTINGS
    @given(st.sampled_from(["hidden", "dropout", "layers", "lr", "epochs", "recipe", "train", "threads"]), ANY)
    def check_train(name, value):
        options = {"train": [], "out": str(tmp_path / "m.nlpk"), "max_steps": 1, "quiet": True, name: value}
        only_nlpkit_errors(lambda: nlpkit.train("sentiment", **options))

    check_train()


def test_save_and_ensemble_of_any_arguments(sentiment_model, tmp_path, monkeypatch):
    path, model = sentiment_model
    monkeypatch.chdir(tmp_path)  # a text that names a usable file is written here, not in the checkout

    @SETTINGS
    @given(ANY, ANY)
    def check(out, device):
        only_nlpkit_errors(lambda: model.save(out))
        only_nlpkit_errors(lambda: nlpkit.ensemble([path, path], out=out, device=device))

    check()
    assert path.exists()


SAMPLING_EXTREMES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1e-300, 1e-40, 1e-3, 0.01, 100.0, 1e300, -1.0, 2**62, 10**12]),
)


def test_generate_at_the_extremes_of_sampling_and_with_any_callbacks(lm_model):
    _, model = lm_model
    names = ["temperature", "top_p", "top_k", "repetition_penalty", "num_samples", "no_repeat_ngram"]

    @SETTINGS
    @given(st.sampled_from(names), SAMPLING_EXTREMES, ANY, ANY)
    def check(name, value, generator, on_token):
        small = {"num_samples": 1} if name != "num_samples" or value != value or not 0 < value <= 4 else {}
        only_nlpkit_errors(lambda: model.generate("a", max_new_tokens=2, **{**small, name: value}))
        only_nlpkit_errors(lambda: model.generate("a", max_new_tokens=2, generator=generator, on_token=on_token))

    check()
