"""Generation speed: new tokens per second for a 6-layer d=384 Transformer and a 2x512 LSTM at
batch 1 and 16, in every runtime form side by side in one run: PyTorch float32 and int8
(`--runtime torch [--quantize int8]`), the same code at an earlier commit (`--before`, run from a
git worktree), for the Transformer CTranslate2 float32 and int8 (`--runtime ct2`, converted once
into the cache), and the default path (`nlpkit.load(path)` with no options: what `auto` picks,
marked `default` on the form it ran).

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


def measure(path: str, quantize: str, batch: int, runtime: str) -> dict:
    """In a worker process: load, warm up, time one generation."""
    import nlpkit

    t0 = time.perf_counter()
    if runtime == "default":  # what a user gets with no options (an earlier commit has no runtime=)
        model = nlpkit.load(path, device="cpu", threads=2)
    else:
        model = nlpkit.load(path, device="cpu", threads=2, quantize=quantize, runtime=runtime)
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
        "runtime": getattr(model, "runtime", "PyTorch float32"),
    }


def worker(form: dict, batch: int) -> dict:
    env = dict(os.environ)
    if form.get("root"):
        env["PYTHONPATH"] = form["root"]
    cmd = [sys.executable, __file__, "--measure", form["path"], form["quantize"], str(batch), form["runtime"]]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=form.get("root") or ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{form['name']} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--before", default="", help="an earlier commit to time beside this checkout")
    p.add_argument("--measure", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure[0], args.measure[1], int(args.measure[2]), args.measure[3])))
        return
    import nlpkit

    WORK.mkdir(parents=True, exist_ok=True)
    os.environ["NLPKIT_CACHE"] = str(WORK / "runtime-cache")  # conversions made here, before any timing
    before = None
    if args.before:
        before = tempfile.mkdtemp(prefix="nlpkit-before-")
        subprocess.run(["git", "worktree", "add", "--detach", before, args.before], check=True, cwd=ROOT)
    forms = []
    for kind in ("transformer", "lstm"):
        path = build(kind)
        if before:
            forms.append({"model": kind, "name": f"PyTorch float32 ({args.before})", "path": str(path),
                          "quantize": "none", "runtime": "default", "root": before})  # fmt: skip
        forms.append(
            {"model": kind, "name": "PyTorch float32", "path": str(path), "quantize": "none", "runtime": "torch"}
        )
        forms.append({"model": kind, "name": "PyTorch int8", "path": str(path), "quantize": "int8", "runtime": "torch"})
        if kind == "transformer":
            for quantize in ("none", "int8"):
                nlpkit.load(path, device="cpu", quantize=quantize, runtime="ct2")  # converted into the cache now
                name = f"CTranslate2 {'int8' if quantize == 'int8' else 'float32'}"
                forms.append({"model": kind, "name": name, "path": str(path), "quantize": quantize, "runtime": "ct2"})
        nlpkit.load(path, device="cpu")  # the default path's conversion, if any, made before timing
        forms.append({"model": kind, "name": "default", "path": str(path), "quantize": "auto", "runtime": "default"})
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
    ran = {(m, b): found[0]["runtime"] for (m, name, b), found in runs.items() if name == "default"}
    for (model, name, batch), found in runs.items():
        if name == "default":
            continue
        tps = statistics.median(f["tokens"] / f["seconds"] for f in found)
        load = statistics.median(f["load_s"] for f in found)
        default = "(" not in name and ran.get((model, batch)) == name
        results.append(
            {
                "model": model,
                "form": name,
                "batch": batch,
                "tokens_per_s": round(tps, 1),
                "load_s": round(load, 3),
                **({"default": True} if default else {}),
                "rounds": found,
            }
        )
        rows.append(f"| {model} | {name}{' **(default)**' if default else ''} | {batch} | {tps:,.0f} | {load:.2f} |")
    for (model, name, batch), found in runs.items():  # the default path itself, loading included
        if name == "default":
            tps = statistics.median(f["tokens"] / f["seconds"] for f in found)
            load = statistics.median(f["load_s"] for f in found)
            rows.append(
                f"| {model} | default path (`nlpkit.load(path)`: {found[0]['runtime']}) | {batch} | {tps:,.0f} | {load:.2f} |"
            )
            results.append({"model": model, "form": "default path", "runtime": found[0]["runtime"], "batch": batch,
                            "tokens_per_s": round(tps, 1), "load_s": round(load, 3), "rounds": found})  # fmt: skip
    m = machine()
    md = f"""# Generation speed (random weights, greedy, 32-token prompt, {NEW} new tokens)

Measured {m["date"]} on {m["cpu"]} (flags: {", ".join(m["cpu_flags"])}), {m["cores"]} cores, torch {m["torch"]}, 2 threads. Command:
`python bench/generation.py --rounds {args.rounds}{f" --before {args.before}" if args.before else ""}`.
Load average before {load_before[0]:.2f}, after {load_after[0]:.2f}; nothing else ran.
Each figure is the median of {args.rounds} rounds, each a fresh process (forms alternating);
loading is timed apart from decoding (the default path's load includes hashing the file and
checking its cached conversion). The JSON file has every round; **(default)** marks the form
`runtime="auto"` ran.

| model | form | batch | new tokens/s (all rows) | load s |
|---|---|---:|---:|---:|
""" + "\n".join(rows)
    write("generation", {"benchmark": "generation", "machine": m, "results": results}, md)


if __name__ == "__main__":
    main()
