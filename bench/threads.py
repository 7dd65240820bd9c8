"""Jobs that share the cores: N `ner tag` jobs over the CoNLL-2003 test file started side by side
(as `xargs -P N` does) against the same N jobs one after the other, for each thread setting.

    python bench/threads.py MODEL.nlpk [--jobs 1,2,4] [--variants default,threads1,passive,auto]

MODEL is a CoNLL tagger (bench/recipes/conll-bilstm-crf.toml). Every job's output is checked to
be identical to a single job's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import time

from common import SHARED, WORK, machine, need, write

# name -> (environment for each job, what it means)
VARIANTS = {
    "default": ({"NLPKIT_THREADS": "2"}, "2 intra-op threads, OpenMP's default waiting (nlpkit before --threads)"),
    "threads1": ({"NLPKIT_THREADS": "1"}, "1 thread each (as OMP_NUM_THREADS=1)"),
    "passive": ({"NLPKIT_THREADS": "2", "OMP_WAIT_POLICY": "PASSIVE"}, "2 threads that sleep instead of spinning"),
    "auto": ({}, "nlpkit's default: threads from the cores free at start"),
}


def run_jobs(cmd: list[str], env: dict, n: int, parallel: bool) -> tuple[float, list[str]]:
    """Wall time of n jobs, side by side or one after the other, and a digest of each output."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    full_env.update(env)
    t0 = time.perf_counter()
    if parallel:
        procs = [
            subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=full_env) for _ in range(n)
        ]
        outputs = [p.communicate()[0] for p in procs]
        codes = [p.returncode for p in procs]
    else:
        done = [subprocess.run(cmd, capture_output=True, env=full_env) for _ in range(n)]
        outputs, codes = [d.stdout for d in done], [d.returncode for d in done]
    wall = time.perf_counter() - t0
    if any(codes):
        raise SystemExit(f"a job failed: {codes}")
    return wall, [hashlib.sha256(o).hexdigest()[:16] for o in outputs]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--jobs", default="1,2,4")
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--tag", default="")
    args = p.parse_args()
    test = need(SHARED / "conll2003" / "test.txt")
    cmd = ["nlpkit", "ner", "tag", args.model, str(test), "--input-format", "conll", "--format", "conll"]
    jobs = [int(j) for j in args.jobs.split(",")]
    record = {"benchmark": "threads", "machine": machine(), "command": " ".join(cmd), "rows": []}
    reference = None
    for name in args.variants.split(","):
        env, meaning = VARIANTS[name]
        for n in jobs:
            load = os.getloadavg()[0]
            seq, seq_out = run_jobs(cmd, env, n, parallel=False)
            par, par_out = run_jobs(cmd, env, n, parallel=True)
            reference = reference or seq_out[0]
            same = all(o == reference for o in seq_out + par_out)
            row = {"variant": name, "meaning": meaning, "jobs": n, "sequential_s": round(seq, 2),
                   "parallel_s": round(par, 2), "parallel_over_sequential": round(par / seq, 3),
                   "identical_output": same, "load_before": round(load, 2)}  # fmt: skip
            record["rows"].append(row)
            print(json.dumps(row), flush=True)
    lines = [
        "# Jobs sharing the cores: N `ner tag` jobs side by side vs one after the other",
        "",
        f"Measured {record['machine']['date']} on {record['machine']['cpu']}, {record['machine']['cores']} cores, "
        f"torch {record['machine']['torch']}. Each job tags the CoNLL-2003 test file (46,435 words, CoNLL in and out).",
        f"Command per job: `{' '.join(cmd)}` (model: bench/recipes/conll-bilstm-crf.toml).",
        "Script: `python bench/threads.py MODEL`. Nothing else ran on the machine.",
        "",
        "| setting | jobs | one after the other (s) | side by side (s) | side by side / one after the other | same output |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in record["rows"]:
        lines.append(
            f"| {r['variant']}: {r['meaning']} | {r['jobs']} | {r['sequential_s']:.2f} | {r['parallel_s']:.2f} | "
            f"{r['parallel_over_sequential']:.2f} | {'yes' if r['identical_output'] else 'NO'} |"
        )
    write("threads" + (f"-{args.tag}" if args.tag else ""), record, "\n".join(lines))


if __name__ == "__main__":
    WORK.mkdir(parents=True, exist_ok=True)
    main()
