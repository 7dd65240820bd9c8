"""Start-up cost of the CLI: `--help` of every command, and a bare interpreter for reference.

python bench/startup.py
"""

import statistics
import subprocess
import sys
import time

from common import machine, write

COMMANDS = [
    [sys.executable, "-c", "pass"],
    ["nlpkit", "--help"],
    ["nlpkit", "lm", "train", "--help"],
    ["nlpkit", "lm", "score", "--help"],
    ["nlpkit", "generate", "--help"],
    ["nlpkit", "info", "--help"],
    [sys.executable, "-c", "import torch"],
]


def timed(cmd: list[str], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    rows, results = [], []
    for cmd in COMMANDS:
        seconds = timed(cmd)
        label = " ".join(["python", *cmd[1:]] if cmd[0] == sys.executable else cmd)
        results.append({"command": label, "median_s": round(seconds, 3)})
        rows.append(f"| `{label}` | {seconds:.3f} |")
    m = machine()
    md = f"""# CLI start-up (median of 7 runs)

Measured {m["date"]} on {m["cpu"]}, {m["cores"]} cores. Command: `python bench/startup.py`.
Target: every `--help` well under 0.5 s; torch is imported only when a command runs.

| command | seconds |
|---|---:|
""" + "\n".join(rows)
    write("startup", {"benchmark": "startup", "machine": m, "results": results}, md)


if __name__ == "__main__":
    main()
