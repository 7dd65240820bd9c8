"""Shared helpers for the benchmark scripts: the machine, timed subprocesses, result files."""

from __future__ import annotations

import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
WORK = ROOT / "bench" / "work"
SHARED = ROOT.parent / "shared" / "data"
RECIPES = ROOT / "bench" / "recipes"


def recipe(name: str) -> list[str]:
    """The flags that train with bench/recipes/NAME.toml (flags after them override it)."""
    return ["--config", str(RECIPES / f"{name}.toml")]


def machine() -> dict:
    import torch

    cpu, flags = "unknown", []
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags"):  # what the matrix kernels can use (VNNI decides int8 speed)
                have = line.split(":", 1)[1].split()
                flags = [
                    f
                    for f in (
                        "avx2",
                        "fma",
                        "avx512f",
                        "avx512_vnni",
                        "avx_vnni",
                        "avx512_bf16",
                        "amx_bf16",
                        "amx_int8",
                    )
                    if f in have
                ]
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cpu_flags": flags,
        "cores": os.cpu_count(),
        "memory_gib": round(mem, 1),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }


def stored_recipe(name: str) -> str:
    """The tuned recipe a result file's report shows (bench/results/NAME.md), for a rerun of one row."""
    return (RESULTS / f"{name}.md").read_text().split("```toml\n", 1)[1].split("\n```", 1)[0]


def commands_and_recipe(rows: list[dict], recipe: str) -> list[str]:
    """The end of a tuned-recipe table's report (bench/tune*.py): each row's command, then the recipe."""
    return ["Commands:", "", *(f"- {r['recipe']}: `{r['command']}`" for r in rows), "", "The tuned recipe:", "",
            "```toml", recipe, "```"]  # fmt: skip


def run(cmd: list[str], log: Path | None = None) -> dict:
    """Run a command, returning its stdout, wall time and the peak RSS of the child."""
    print("+", shlex.join(cmd), file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    with open(log, "w") if log else open(os.devnull, "w") as err:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {shlex.join(cmd)}; see {log}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # MiB, max over children so far
    return {"stdout": proc.stdout, "wall_s": round(wall, 2), "peak_rss_mib_so_far": round(peak, 1)}


def write(name: str, record: dict, markdown: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown.rstrip() + "\n")
    print(markdown)


def need(path: Path) -> Path:
    if not path.exists():
        raise SystemExit(f"{path} is missing: the benchmarks read the corpora in ../shared/data")
    return path


def spacy_python() -> Path:
    """The Python of bench/work/spacy-env (created with spaCy on first use): spaCy stays out of
    nlpkit's own environment."""
    env = WORK / "spacy-env"
    py = env / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
        subprocess.run([str(env / "bin" / "pip"), "install", "-q", "spacy"], check=True)
    return py


def spacy_config(cfg: Path, pipeline: str) -> None:
    """spaCy's own CPU "efficiency" training config for an English `pipeline` (textcat, ner)."""
    subprocess.run(
        [
            str(spacy_python()),
            "-m",
            "spacy",
            "init",
            "config",
            str(cfg),
            "--lang",
            "en",
            "--pipeline",
            pipeline,
            "--optimize",
            "efficiency",
            "--force",
        ],
        check=True,
        capture_output=True,
    )


def spacy_train(cfg: Path, data: Path, out: Path, budget_s: float, log: Path) -> tuple[float, str]:
    """`spacy train` on data/{train,dev}.spacy for at most budget_s seconds (then Ctrl-C, which
    keeps model-best); returns the wall time and what stopped it."""
    import shutil
    import signal

    shutil.rmtree(out, ignore_errors=True)
    cmd = [
        str(spacy_python()),
        "-m",
        "spacy",
        "train",
        str(cfg),
        "--output",
        str(out),
        "--paths.train",
        str(data / "train.spacy"),
        "--paths.dev",
        str(data / "dev.spacy"),
    ]
    print("+", shlex.join(cmd), file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    with open(log, "w") as f:
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT)
        try:
            proc.wait(timeout=budget_s)
            stopped = "finished (patience or max steps)"
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)  # spaCy keeps model-best; 3.8 was seen to go on after it
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            stopped = "time budget"
    return time.perf_counter() - t0, stopped
