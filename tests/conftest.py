import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"

torch.set_num_threads(1)  # tiny models: threads cost more than they give, and CI has 2 cores
os.environ.setdefault("NLPKIT_THREADS", "1")  # the same for the API calls made in this process


def nlpkit(*args, input=None, check=False, timeout=180, env=None):
    """Run the CLI in a subprocess, as a user's shell would."""
    proc = subprocess.run(
        [sys.executable, "-m", "nlpkit", *map(str, args)],
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200", **(env or {})},
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"nlpkit {' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


TINY = "--encoder lstm --layers 1 --hidden 32 --context 16 --batch-size 4 --max-steps 30 --quiet --seed 1 --device cpu".split()
TINY_TRANSFORMER = "--encoder transformer --layers 1 --hidden 16 --heads 2 --context 8 --batch-size 4 --quiet".split()


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "train.txt"
    lines = (ROOT / "data" / "sample.txt").read_text(encoding="utf-8").splitlines()[:300]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def char_model(tmp_path_factory, corpus) -> Path:
    """A tiny character LSTM trained through the CLI once for the whole session."""
    out = tmp_path_factory.mktemp("models") / "char.nlpk"
    nlpkit("lm", "train", corpus, "--out", out, *TINY, check=True)
    return out
