"""The committed tuning benchmarks keep the result format other tools read (issue 36's schema):
a name, task, final budget in seconds, metric, direction and one row per recipe."""

import json
from pathlib import Path

import pytest

RESULTS = Path(__file__).resolve().parent.parent / "bench" / "results"
ROWS = {"defaults-before", "defaults", "hand", "tuned", "peer"}


def _tables():
    for path in sorted(RESULTS.glob("tune-*.json")):
        yield path.name, json.loads(path.read_text())
    for path in sorted(RESULTS.glob("budget-defaults*.json")):
        for name, case in json.loads(path.read_text())["cases"].items():
            yield f"{path.name}:{name}", case


@pytest.mark.parametrize("name,table", list(_tables()), ids=lambda v: v if isinstance(v, str) else "")
def test_result_format(name, table):
    assert isinstance(table["name"], str) and table["task"] in ("lm", "sentiment", "ner", "translate")
    assert isinstance(table["final_budget_s"], int | float) and table["final_budget_s"] > 0
    assert isinstance(table["metric"], str) and isinstance(table["lower_is_better"], bool)
    assert table["rows"] and {r["recipe"] for r in table["rows"]} <= ROWS
    assert all(isinstance(r["value"], int | float) for r in table["rows"])
    if name.startswith("tune-"):
        assert {"budget_s", "trials", "pruned"} <= set(table["tune"])


def test_results_are_there():
    assert any(True for _ in _tables())
