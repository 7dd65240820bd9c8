"""Option values written as text (nlpkit.option_parsing): durations; recipes are in test_options.py."""

import pytest

from nlpkit.option_parsing import parse_duration


@pytest.mark.parametrize("text,seconds", [("90", 90), ("90s", 90), ("10m", 600), ("1h30m", 5400), ("1.5m", 90)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "ten", "5x", "m"])
def test_parse_duration_rejects(bad):
    with pytest.raises(ValueError, match="empty duration|bad duration .*; write for example 90s, 10m or 1h30m"):
        parse_duration(bad)
