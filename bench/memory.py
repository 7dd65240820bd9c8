"""Peak memory of the predict commands over 100,000 and 1,000,000 lines and over one 1 MB line.

    python bench/memory.py            # about 45 minutes on 2 cores; results in bench/results/memory.*

What is measured: the peak resident set size (ru_maxrss from wait4, this command's process
alone) and the wall time of `lm score`, `sentiment predict`, `ner tag` and `translate predict
--beam 1` on the models `nlpkit demo` trains (small models: the figures are the commands'
own memory, not a large model's weights), and that every input line gave one output line.
The inputs are the lines of data/sample.txt repeated; the 1 MB line is its words in random order.
Memory is not timing: other processes slow the run down but do not change its peak RSS.
"""

from __future__ import annotations

import itertools
import os
import random
import subprocess
import sys
import time

from common import ROOT, WORK, machine, write

FOLDER = WORK / "memory"
COMMANDS = {
    "lm score": ["lm", "score", "sample-lm.nlpk"],
    "sentiment predict": ["sentiment", "predict", "sample-sentiment.nlpk"],
    "ner tag": ["ner", "tag", "sample-ner.nlpk"],
    "translate predict": ["translate", "predict", "sample-translate.nlpk", "--beam", "1"],
}


def inputs() -> dict[str, tuple]:
    FOLDER.mkdir(parents=True, exist_ok=True)
    lines = (ROOT / "data" / "sample.txt").read_text().splitlines()
    made = {}
    for n in (100_000, 1_000_000):
        path = FOLDER / f"lines-{n}.txt"
        if not path.exists():
            path.write_text("".join(f"{line}\n" for line in itertools.islice(itertools.cycle(lines), n)))
        made[f"{n:,} lines"] = (path, n)
    path = FOLDER / "one-1mb-line.txt"
    if not path.exists():
        rng, words, text, size = random.Random(0), " ".join(lines).split(), [], 0
        while size < 1_000_000:
            text.append(rng.choice(words))
            size += len(text[-1]) + 1
        path.write_text(" ".join(text)[:1_000_000] + "\n")
    made["one 1 MB line"] = (path, 1)
    return made


def measure(command: list[str], path, expected_lines: int) -> dict:
    """Run one command; its own peak RSS (wait4), wall time and output line count."""
    cmd = ["nlpkit", *command[:2], str(FOLDER / command[2]), str(path), *command[3:], "--quiet"]
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    lines = 0
    while block := proc.stdout.read(1 << 20):
        lines += block.count(b"\n")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    return {
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "wall_s": round(time.perf_counter() - t0, 1),
        "output_lines": lines,
        "one_per_input": lines == expected_lines,
    }


def main() -> None:
    if not (FOLDER / "sample-lm.nlpk").exists():
        subprocess.run(["nlpkit", "demo", "--time-budget", "5s", "--out-dir", str(FOLDER), "--quiet"], check=True)
    load_before = os.getloadavg()
    record = {"machine": machine(), "load_before": load_before, "command": "python bench/memory.py", "runs": {}}
    for name, (path, n) in inputs().items():
        for label, command in COMMANDS.items():
            record["runs"][f"{label} | {name}"] = measure(command, path, n)
            print(label, name, record["runs"][f"{label} | {name}"], file=sys.stderr, flush=True)
    record["load_after"] = os.getloadavg()
    rows = [
        f"| {key.split(' | ')[0]} | {key.split(' | ')[1]} | {r['peak_rss_mib']:,.0f} | {r['wall_s']:,.1f} | "
        f"{'yes' if r['one_per_input'] else 'NO'} |"
        for key, r in record["runs"].items()
    ]
    m = record["machine"]
    markdown = f"""# Peak memory of the predict commands (1,000,000 lines; one 1 MB line)

Command: `python bench/memory.py` on {m["cpu"]}, {m["cores"]} cores, {m["memory_gib"]} GiB, torch {m["torch"]}, {m["date"]}.
Models: the ones `nlpkit demo --time-budget 5s` trains (small: the figures are the commands' own
memory). Peak RSS is each command's own (wait4). Load average before {load_before[0]:.2f}, after
{record["load_after"][0]:.2f}. Memory, not speed, is the measure here; wall times are indicative only.

| command | input | peak RSS (MiB) | wall (s) | one output line per input line |
|---|---|---:|---:|---|
{chr(10).join(rows)}
"""
    write("memory", record, markdown)


if __name__ == "__main__":
    main()
