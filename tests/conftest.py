import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import nlpkit as api

from . import forked

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"

torch.set_num_threads(1)  # tiny models: threads cost more than they give, and CI has 2 cores
os.environ.setdefault("NLPKIT_THREADS", "1")  # the same for the API calls made in this process
if "NLPKIT_CACHE" not in os.environ:  # runtime conversions (nlpkit.export.auto) of this run only, never the user's
    import atexit
    import shutil
    import tempfile

    os.environ["NLPKIT_CACHE"] = tempfile.mkdtemp(prefix="nlpkit-test-cache-")
    atexit.register(shutil.rmtree, os.environ["NLPKIT_CACHE"], True)


# every command in a new interpreter: asked for, or where there is no fork (Windows); slower
FRESH = os.environ.get("NLPKIT_TEST_FRESH") == "1" or not hasattr(os, "fork")


def nlpkit(*args, input=None, check=False, timeout=180, env=None, fresh=False):
    """Run the CLI in its own process, as a user's shell would: a fork of this one (tests/forked.py)
    or, with fresh=True, with --threads or a changed environment, a new interpreter."""
    args = [str(a) for a in args]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200", **(env or {})}
    if fresh or FRESH or env or "--threads" in args:
        proc = subprocess.run(
            [sys.executable, "-m", "nlpkit", *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            env=environment,
        )
    else:
        proc = forked.run(args, input, timeout, environment)
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


# Tiny models of every task, trained once through the Python API for the whole session:
# (path, loaded model). Shared by the API, bad-input corpus and property tests.
TINY_API = dict(hidden=16, layers=1, device="cpu", quiet=True, seed=0)


@pytest.fixture(scope="session")
def lm_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("api") / "lm.nlpk"
    model = api.train(
        "lm", train=ROOT / "data" / "sample.txt", valid=str(ROOT / "data" / "sample.valid.txt"), out=out, context=16,
        max_steps=20, batch_size=8, **TINY_API,
    )  # fmt: skip
    return out, model


@pytest.fixture(scope="session")
def sentiment_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("api") / "s.nlpk"
    model = api.train(
        "sentiment", train=ROOT / "data" / "sentiment.train.tsv", valid=ROOT / "data" / "sentiment.valid.tsv", out=out, epochs=2,
        tokenizer="word", **TINY_API,
    )  # fmt: skip
    return out, model


@pytest.fixture(scope="session")
def ner_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("api") / "n.nlpk"
    model = api.train(
        "ner", train=ROOT / "data" / "ner.train.conll", valid=ROOT / "data" / "ner.valid.conll", crf=True, out=out, max_steps=30,
        embed=16, char_size=8, **TINY_API,
    )  # fmt: skip
    return out, model


@pytest.fixture(scope="session")
def translate_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("api") / "t.nlpk"
    model = api.train(
        "translate", src=ROOT / "data" / "translate.train.en", tgt=ROOT / "data" / "translate.train.fr", out=out, encoder="gru",
        attention="luong-general", tokenizer="word", vocab="separate", batch_tokens=512, max_steps=20, **TINY_API,
    )  # fmt: skip
    return out, model


@pytest.fixture
def cli(capsys):
    """Run the CLI in this process (fast: torch is imported once): (exit code, stdout, stderr)."""
    import signal

    from nlpkit import console, errors
    from nlpkit.cli import main

    def run(*args):
        handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGPIPE)}
        console.silence(False)
        argv, sys.argv = sys.argv, ["nlpkit", *map(str, args)]
        capsys.readouterr()
        try:
            main.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            sys.argv = argv
            errors.use_flags(False)  # the CLI names options as flags; the API tests expect field names
            console.silence(False)
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
