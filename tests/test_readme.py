"""The README's Python API example runs as printed (a user's first contact with the API)."""

import os
import re
import subprocess
import sys

from .conftest import ROOT


def test_readme_python_example_runs(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Python API") : readme.index("## Recipe files")]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    (tmp_path / "data").symlink_to(ROOT / "data")
    (tmp_path / "example.py").write_text(code, encoding="utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert any("Greta Sato" in line for line in lines) and (tmp_path / "mt.nlpk").exists()
