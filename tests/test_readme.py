"""The Python examples of the README and of docs/python-api.md run as printed (a user's first
contact with the API)."""

import os
import re
import subprocess
import sys

from .conftest import ROOT


def python_block(path, start: str, end: str) -> str:
    text = (ROOT / path).read_text(encoding="utf-8")
    section = text[text.index(start) : text.index(end)]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def run_example(code: str, tmp_path) -> list[str]:
    (tmp_path / "data").symlink_to(ROOT / "data")
    (tmp_path / "example.py").write_text(code, encoding="utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.splitlines()


def test_readme_python_example_runs(tmp_path):
    code = python_block("README.md", "## One example, from Python", "## Where to go next")
    lines = run_example(code, tmp_path)
    assert len(lines) == 4, lines  # two labels, an accuracy, one sentence's entities
    for line in lines[:2]:
        label, prob = line.split()
        assert label in {"pos", "neg"} and 0.5 <= float(prob) <= 1.0  # the label is the likelier class
    assert 0.5 < float(lines[2]) <= 1.0  # better than chance on the sample's validation set
    assert "Greta Sato" in lines[3] and lines[3].startswith("[(")
    assert {"sentiment.nlpk", "ner.nlpk"} <= {p.name for p in tmp_path.iterdir()}


def test_python_api_guide_example_runs(tmp_path):
    code = python_block("docs/python-api.md", "# The Python API", "`nlpkit.train(task")
    lines = run_example(code, tmp_path)
    assert any("Greta Sato" in line for line in lines) and (tmp_path / "mt.nlpk").exists()
