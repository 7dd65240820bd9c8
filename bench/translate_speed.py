"""Translation speed and quality of trained Multi30k models in their runtime forms, side by side in
one run: the Transformer as PyTorch float32 and int8 (`--runtime torch [--quantize int8]`), as
CTranslate2 float32 and int8 (`--runtime ct2`, converted once into the cache), with no options
(the default path: what `--runtime auto` runs), and at an earlier commit (`--before`, from a git
worktree); the GRU + attention translator the same way.

For each form: sacreBLEU (cased, detokenized) of its translations of test_2016_flickr, beam 5;
the sentences per second of `predict` over those 1,000 sentences with loading timed apart; the
model's size on disk. Each measurement is a fresh process; forms alternate within each round;
medians over the rounds.

    python bench/translate_speed.py --transformer bench/work/T.nlpk --gru bench/work/G.nlpk --before 1418381
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

from common import ROOT, SHARED, WORK, machine, need, write


def measure(path: str, quantize: str, src: str, beam: int, alpha: float, out: str, runtime: str) -> dict:
    """In a worker process: load, warm up on 20 sentences, translate the file, write the lines."""
    import nlpkit

    lines = Path(src).read_text(encoding="utf-8").splitlines()
    t0 = time.perf_counter()
    if runtime == "default":  # what a user gets with no options (an earlier commit has no runtime=)
        model = nlpkit.load(path, device="cpu", threads=2)
    else:
        model = nlpkit.load(path, device="cpu", threads=2, quantize=quantize, runtime=runtime)
    load_s = time.perf_counter() - t0
    list(model.predict(lines[:20], beam=beam, length_penalty=alpha))
    t0 = time.perf_counter()
    found = [r["translation"] for r in model.predict(lines, beam=beam, length_penalty=alpha)]
    seconds = time.perf_counter() - t0
    Path(out).write_text("".join(f + "\n" for f in found), encoding="utf-8")
    return {"load_s": load_s, "seconds": seconds, "sentences": len(lines), "nlpkit": nlpkit.__file__,
            "runtime": getattr(model, "runtime", "PyTorch float32")}  # fmt: skip


def size_mb(path: Path) -> float:
    files = [p for p in path.iterdir()] if path.is_dir() else [path]
    return sum(f.stat().st_size for f in files) / 1e6


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--transformer", type=Path, help="a trained Transformer translation model (.nlpk)")
    p.add_argument("--gru", type=Path, help="a trained GRU + attention translation model (.nlpk)")
    p.add_argument("--pair", default="fr-en", help="source-target of the models, from de, en, fr")
    p.add_argument("--before", default="", help="an earlier commit to time beside this checkout")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--length-penalty", type=float, default=0.6)
    p.add_argument("--measure", nargs=7, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.measure:
        path, quantize, src, beam, alpha, out, runtime = args.measure
        print(json.dumps(measure(path, quantize, src, int(beam), float(alpha), out, runtime)))
        return
    import sacrebleu

    import nlpkit

    os.environ["NLPKIT_CACHE"] = str(WORK / "runtime-cache")  # conversions made here, before any timing

    src_lang, tgt_lang = args.pair.split("-")
    d = need(SHARED / "multi30k")
    src, ref = need(d / f"test_2016_flickr.{src_lang}"), d / f"test_2016_flickr.{tgt_lang}"
    references = ref.read_text(encoding="utf-8").splitlines()
    before = None
    if args.before:
        before = tempfile.mkdtemp(prefix="nlpkit-before-")
        subprocess.run(["git", "worktree", "add", "--detach", before, args.before], check=True, cwd=ROOT)
    forms = []  # (model, form, path, quantize, runtime, worktree)
    if args.transformer:
        t = need(args.transformer).resolve()  # workers of an earlier commit run from its worktree
        if before:
            forms.append(("transformer", f"PyTorch float32 ({args.before})", t, "none", "default", before))
        forms.append(("transformer", "PyTorch float32", t, "none", "torch", None))
        forms.append(("transformer", "PyTorch int8", t, "int8", "torch", None))
        for quantize in ("none", "int8"):
            nlpkit.load(t, device="cpu", quantize=quantize, runtime="ct2")  # converted into the cache now
            forms.append(
                ("transformer", f"CTranslate2 {'int8' if quantize == 'int8' else 'float32'}", t, quantize, "ct2", None)
            )
        forms.append(("transformer", "default", t, "auto", "default", None))
    if args.gru:
        g = need(args.gru).resolve()
        if before:
            forms.append(("gru", f"PyTorch float32 ({args.before})", g, "none", "default", before))
        forms.append(("gru", "PyTorch float32", g, "none", "torch", None))
        forms.append(("gru", "default", g, "auto", "default", None))
    load_before = os.getloadavg()
    runs: dict[tuple, list[dict]] = {}
    bleu: dict[tuple, float] = {}
    for r in range(args.rounds):
        for model, name, path, quantize, runtime, root in forms:
            out = WORK / f"translate-speed-{model}-{len(runs)}.txt"
            env = {**os.environ, **({"PYTHONPATH": root} if root else {})}
            cmd = [sys.executable, __file__, "--measure", str(path), quantize, str(src), str(args.beam),
                   str(args.length_penalty), str(out), runtime]  # fmt: skip
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=root or ROOT)
            if proc.returncode != 0:
                raise SystemExit(f"{model} {name} failed:\n{proc.stderr[-2000:]}")
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            runs.setdefault((model, name), []).append(result)
            hyps = out.read_text(encoding="utf-8").splitlines()
            bleu[(model, name)] = sacrebleu.corpus_bleu(hyps, [references]).score
            print(f"round {r + 1}: {model} {name}: {result['sentences'] / result['seconds']:.1f} sentences/s, "
                  f"BLEU {bleu[(model, name)]:.2f}", flush=True)  # fmt: skip
    load_after = os.getloadavg()
    if before:
        subprocess.run(["git", "worktree", "remove", "--force", before], cwd=ROOT)
    rows, results = [], []
    base = {}
    for (model, name), found in runs.items():
        speed = statistics.median(f["sentences"] / f["seconds"] for f in found)
        load = statistics.median(f["load_s"] for f in found)
        path = next(f[2] for f in forms if f[0] == model and f[1] == name)
        base.setdefault(model, speed)
        ran = found[0]["runtime"]
        label = f"default path (`nlpkit.load(path)`: {ran})" if name == "default" else name
        results.append({"model": model, "form": label, "runtime": ran, "sentences_per_s": round(speed, 2), "load_s": round(load, 3),
                        "bleu": round(bleu[(model, name)], 2), "size_mb": round(size_mb(Path(path)), 2), "rounds": found,
                        **({"default": True} if name == "default" else {})})  # fmt: skip
        rows.append(f"| {model} | {label} | {bleu[(model, name)]:.2f} | {speed:.1f} | {speed / base[model]:.2f}x | "
                    f"{load:.2f} | {size_mb(Path(path)):.1f} |")  # fmt: skip
    m = machine()
    command = " ".join(sys.argv[1:])
    md = f"""# Translation speed by runtime form (Multi30k {args.pair} test_2016_flickr, beam {args.beam})

Measured {m["date"]} on {m["cpu"]} (flags: {", ".join(m["cpu_flags"])}), {m["cores"]} cores, torch {m["torch"]}, 2 threads. Command:
`python bench/translate_speed.py {command}`. Load average before {load_before[0]:.2f}, after
{load_after[0]:.2f}; nothing else ran. Speed: `predict` over the 1,000 sentences after loading and a
20-sentence warm-up, median of {args.rounds} rounds (fresh processes, forms alternating); the ratio is
against the first form of the same model. BLEU: sacreBLEU, cased, detokenized.

| model | form | BLEU | sentences/s | vs first | load s | size MB |
|---|---|---:|---:|---:|---:|---:|
""" + "\n".join(rows)
    write("translate-speed", {"benchmark": "translate-speed", "machine": m, "command": command, "results": results}, md)


if __name__ == "__main__":
    main()
