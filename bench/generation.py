"""Generation speed: new tokens per second for a 6-layer d=384 Transformer and a 2x512 LSTM at
batch 1 and 16, in every runtime form side by side in one run: PyTorch float32 and int8
(`--quantize int8`), the same code at an earlier commit (`--before`, run from a git worktree:
the decode loop before the lean one), and for the Transformer the CTranslate2 exports
(`nlpkit export --format ctranslate2`, float32 and `--int8`).

Weights are random (speed does not depend on them); greedy decoding, a 64-character vocabulary,
a 32-token prompt and 256 new tokens (the Transformer's context is 256, so its context slides
once). Each measurement is a fresh process: loading is timed apart from decoding, then one
warm-up and the timed generation through `nlpkit.load(...).generate(...)`. Forms alternate
within each round; medians over the rounds.

    python bench/generation.py --rounds 3 --before 1418381
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, WORK, machine, write

PROMPT = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcde"
NEW = 256


def build(kind: str) -> Path:
    """The random-weight model file of `kind` (written once, by this checkout)."""
    import torch

    from nlpkit.encoders import EncoderConfig
    from nlpkit.tasks.lm import model as lm
    from nlpkit.tasks.lm.task import LanguageModelTask
    from nlpkit.text.tokenizers import VocabTokenizer

    path = WORK / f"generation-{kind}.nlpk"
    if path.exists():
        return path
    torch.manual_seed(0)
    tok = VocabTokenizer("char", ["<pad>", "<unk>", "<bos>", "<eos>", "\n", *[chr(c) for c in range(65, 65 + 59)]])
    enc = (
        EncoderConfig(kind="transformer", hidden_size=384, layers=6, heads=6)
        if kind == "transformer"
        else EncoderConfig(kind="lstm", hidden_size=512, layers=2)
    )
    config = lm.LMConfig(vocab_size=tok.vocab_size, embed_size=enc.hidden_size, encoder=enc, context=256)
    LanguageModelTask(lm.build_model(config).eval(), tok).save(path)
    return path


def measure(path: str, quantize: str, batch: int) -> dict:
    """In a worker process: load, warm up, time one generation."""
    import nlpkit

    t0 = time.perf_counter()
    model = nlpkit.load(path, device="cpu", threads=2, quantize=quantize)
    load_s = time.perf_counter() - t0
    model.generate(PROMPT, max_new_tokens=8, temperature=0, num_samples=batch)
    t0 = time.perf_counter()
    texts = model.generate(PROMPT, max_new_tokens=NEW, temperature=0, num_samples=batch)
    seconds = time.perf_counter() - t0
    return {
        "load_s": load_s,
        "seconds": seconds,
        "tokens": batch * NEW,
        "text": texts[0][:40],
        "nlpkit": nlpkit.__file__,
    }


def worker(form: dict, batch: int) -> dict:
    env = dict(os.environ)
    if form.get("root"):
        env["PYTHONPATH"] = form["root"]
    cmd = [sys.executable, __file__, "--measure", form["path"], form["quantize"], str(batch)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=form.get("root") or ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{form['name']} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--before", default="", help="an earlier commit to time beside this checkout")
    p.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure[0], args.measure[1], int(args.measure[2]))))
        return
    from nlpkit.export.ct2 import export_file

    WORK.mkdir(parents=True, exist_ok=True)
    before = None
    if args.before:
        before = tempfile.mkdtemp(prefix="nlpkit-before-")
        subprocess.run(["git", "worktree", "add", "--detach", before, args.before], check=True, cwd=ROOT)
    forms = []
    for kind in ("transformer", "lstm"):
        path = build(kind)
        if before:
            forms.append(
                {
                    "model": kind,
                    "name": f"PyTorch float32 ({args.before})",
                    "path": str(path),
                    "quantize": "none",
                    "root": before,
                }
            )
        forms.append({"model": kind, "name": "PyTorch float32", "path": str(path), "quantize": "none"})
        forms.append({"model": kind, "name": "PyTorch int8", "path": str(path), "quantize": "int8"})
        if kind == "transformer":
            for int8 in (False, True):
                target = WORK / f"generation-{kind}-ct2{'-int8' if int8 else ''}"
                export_file(path, target, int8=int8)
                forms.append(
                    {
                        "model": kind,
                        "name": f"CTranslate2 {'int8' if int8 else 'float32'}",
                        "path": str(target),
                        "quantize": "auto",
                    }
                )
    load_before = os.getloadavg()
    runs: dict[tuple, list[dict]] = {}
    for r in range(args.rounds):
        for form in forms:
            for batch in (1, 16):
                result = worker(form, batch)
                runs.setdefault((form["model"], form["name"], batch), []).append(result)
                tps = result["tokens"] / result["seconds"]
                print(f"round {r + 1}: {form['model']} {form['name']} batch {batch}: {tps:,.0f} tokens/s", flush=True)
    load_after = os.getloadavg()
    if before:
        subprocess.run(["git", "worktree", "remove", "--force", before], cwd=ROOT)
    rows, results = [], []
    for (model, name, batch), found in runs.items():
        tps = statistics.median(f["tokens"] / f["seconds"] for f in found)
        load = statistics.median(f["load_s"] for f in found)
        results.append(
            {
                "model": model,
                "form": name,
                "batch": batch,
                "tokens_per_s": round(tps, 1),
                "load_s": round(load, 3),
                "rounds": found,
            }
        )
        rows.append(f"| {model} | {name} | {batch} | {tps:,.0f} | {load:.2f} |")
    m = machine()
    md = f"""# Generation speed (random weights, greedy, 32-token prompt, {NEW} new tokens)

Measured {m["date"]} on {m["cpu"]}, {m["cores"]} cores, torch {m["torch"]}, 2 threads. Command:
`python bench/generation.py --rounds {args.rounds}{f" --before {args.before}" if args.before else ""}`.
Load average before {load_before[0]:.2f}, after {load_after[0]:.2f}; nothing else ran.
Each figure is the median of {args.rounds} rounds, each a fresh process (forms alternating);
loading is timed apart from decoding. The JSON file has every round: on this machine a process
is either fast or about 2x slower at the recurrent batch-16 step (seen with both commits, the
same inputs), so look at the rounds, not only the medians.

| model | form | batch | new tokens/s (all rows) | load s |
|---|---|---:|---:|---:|
""" + "\n".join(rows)
    write("generation", {"benchmark": "generation", "machine": m, "results": results}, md)


if __name__ == "__main__":
    main()
