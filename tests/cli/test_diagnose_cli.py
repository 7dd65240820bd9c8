"""`nlpkit diagnose` through a subprocess: well-formed outputs and clean errors."""

import json

import pytest

from tests.conftest import nlpkit


def test_gradients_json_has_a_curve_per_encoder_and_the_exploding_case():
    proc = nlpkit(
        "diagnose", "gradients", "--length", "20", "--batch", "2", "--hidden", "8", "--format", "json", check=True
    )
    data = json.loads(proc.stdout)
    names = list(data["results"])
    assert names == [
        "rnn (untrained)",
        "rnn (W_hh x3)",
        "lstm (untrained)",
        "lstm (W_hh x3)",
        "gru (untrained)",
        "gru (W_hh x3)",
        "transformer (untrained)",
    ]
    for r in data["results"].values():
        assert len(r["norms"]) == 20 and all(n >= 0 for n in r["norms"])
        assert 0 < r["update_scale_after_clip"] <= 1


def test_gradients_table_for_a_trained_model_on_text(char_model, corpus):
    proc = nlpkit(
        "diagnose", "gradients", "--model", char_model, "--text", corpus, "--length", "30", "--batch", "4", check=True
    )
    assert "(trained)" in proc.stdout and "(untrained)" in proc.stdout and "t-25" in proc.stdout


def test_memory_and_speed_json():
    proc = nlpkit(
        "diagnose",
        "memory",
        "--task",
        "recall",
        "--encoder",
        "rnn,transformer",
        "--distances",
        "2,3",
        "--steps",
        "3",
        "--hidden",
        "8",
        "--format",
        "json",
        "--quiet",
        check=True,
    )
    results = json.loads(proc.stdout)["results"]
    assert [(r["encoder"], r["distance"]) for r in results] == [
        ("rnn", 2),
        ("rnn", 3),
        ("transformer", 2),
        ("transformer", 3),
    ]
    proc = nlpkit(
        "diagnose",
        "speed",
        "--encoder",
        "gru",
        "--lengths",
        "4,8",
        "--hidden",
        "8",
        "--batch",
        "2",
        "--repeats",
        "1",
        "--format",
        "json",
        "--quiet",
        check=True,
    )
    assert [r["length"] for r in json.loads(proc.stdout)["results"]] == [4, 8]


def test_plot_is_written(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "g.png"
    nlpkit(
        "diagnose",
        "gradients",
        "--encoder",
        "rnn",
        "--length",
        "10",
        "--batch",
        "1",
        "--hidden",
        "4",
        "--plot",
        out,
        check=True,
    )
    assert out.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["gradients", "--encoder", "cnn"], "unknown encoder cnn"),
        (["memory", "--distances", "5,x"], "comma list of whole numbers"),
    ],
)
def test_bad_options_are_one_line_errors(args, message):
    proc = nlpkit("diagnose", *args)
    assert proc.returncode == 1 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_an_unknown_choice_is_a_usage_error():
    proc = nlpkit("diagnose", "memory", "--task", "parity")
    assert proc.returncode == 2 and "'parity' is not one of 'recall', 'agreement', 'both'" in proc.stderr
