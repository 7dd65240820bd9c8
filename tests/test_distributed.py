"""Training on two CPU processes under torchrun (gloo) makes exactly the steps of one process
accumulating two batches a step, and its checkpoints resume only the same way."""

import os
import subprocess
import sys

import pytest

import nlpkit
from tests.conftest import ROOT
from tests.conftest import nlpkit as run_cli

DATA = ROOT / "data"
ARGS = [
    str(DATA / "sentiment.train.tsv"),
    "--valid",
    str(DATA / "sentiment.valid.tsv"),
    *"--max-steps 5 --dropout 0 --word-dropout 0 --hidden 24 --batch-size 16 --seed 3 --quiet".split(),
]


def torchrun(*args):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node",
            "2",
            "-m",
            "nlpkit",
            *map(str, args),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env={**os.environ, "NLPKIT_THREADS": "1", "OMP_NUM_THREADS": "1"},
    )


@pytest.fixture(scope="module")
def two_process_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp") / "two.nlpk"
    proc = torchrun("sentiment", "train", *ARGS, "--out", out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_two_processes_equal_one_process_accumulating(two_process_model, tmp_path):
    one = tmp_path / "one.nlpk"
    run_cli("sentiment", "train", *ARGS, "--accumulate", "2", "--out", one, check=True)
    a, b = nlpkit.load(two_process_model, runtime="torch"), nlpkit.load(one, runtime="torch")
    assert a.meta["training"]["world_size"] == 2 and b.meta["training"]["world_size"] == 1
    for name, tensor in a.model.state_dict().items():
        assert (tensor - b.model.state_dict()[name]).abs().max().item() < 1e-5, name
    ta, tb = a.meta["metrics"]["train"], b.meta["metrics"]["train"]
    assert ta["steps"] == tb["steps"] == 5 and ta["tokens"] == tb["tokens"] > 0
    assert ta["train_loss"] == pytest.approx(tb["train_loss"], abs=1e-4)


def test_a_two_process_checkpoint_resumes_only_on_two_processes(two_process_model):
    proc = run_cli("sentiment", "train", *ARGS, "--max-steps", "8", "--resume", "--out", two_process_model)
    assert proc.returncode == 1
    assert "written by 2 process(es)" in proc.stderr and "Traceback" not in proc.stderr
    proc = torchrun("sentiment", "train", *ARGS, "--max-steps", "8", "--resume", "--out", two_process_model)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert nlpkit.load(two_process_model).meta["metrics"]["train"]["steps"] == 8
