"""How closely a CTranslate2 export translates like its .nlpk on real data: greedy and beam search
over a test set, identical lines, the largest score difference, BLEU of each.

    python bench/ct2_agreement.py --model bench/work/T.nlpk --src test.fr --ref test.en
"""

import argparse
import tempfile
from pathlib import Path

import sacrebleu
from common import machine, write

import nlpkit
from nlpkit.export.ct2 import export_file


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--src", type=Path, required=True)
    p.add_argument("--ref", type=Path, required=True)
    args = p.parse_args()
    lines = args.src.read_text(encoding="utf-8").splitlines()
    refs = args.ref.read_text(encoding="utf-8").splitlines()
    rows, records = [], []
    with tempfile.TemporaryDirectory() as tmp:
        torch_model = nlpkit.load(args.model, device="cpu", threads=2, quantize="none", runtime="torch")
        for int8 in (False, True):
            target, _ = export_file(args.model, Path(tmp) / f"ct2-{int8}", int8=int8)
            ct2_model = nlpkit.load(target, threads=2)
            for beam in (1, 5):
                want = list(torch_model.predict(lines, beam=beam))
                have = list(ct2_model.predict(lines, beam=beam))
                same = sum(w["translation"] == h["translation"] for w, h in zip(want, have, strict=True))
                gap = max(
                    abs(w["translations"][0]["score"] - h["translations"][0]["score"])
                    for w, h in zip(want, have, strict=True)
                    if w["translation"] == h["translation"]
                )
                bleu = [sacrebleu.corpus_bleu([r["translation"] for r in x], [refs]).score for x in (want, have)]
                form = f"CTranslate2 {'int8' if int8 else 'float32'}"
                records.append(
                    {
                        "form": form,
                        "beam": beam,
                        "identical": same,
                        "lines": len(lines),
                        "max_score_difference": gap,
                        "bleu_pytorch": bleu[0],
                        "bleu_ct2": bleu[1],
                    }
                )
                rows.append(
                    f"| {form} | {beam} | {same:,} / {len(lines):,} | {gap:.2g} | {bleu[0]:.2f} | {bleu[1]:.2f} |"
                )
                print(rows[-1], flush=True)
    m = machine()
    md = f"""# CTranslate2 export against its .nlpk on real data

Measured {m["date"]} on {m["cpu"]}, {m["cores"]} cores, torch {m["torch"]}. Command:
`python bench/ct2_agreement.py --model {args.model} --src {args.src} --ref {args.ref}`.
Identical: lines whose best translation is the same text; score difference: the largest
difference of the best hypothesis's score over those lines (log-probability over GNMT's length
penalty at beam 5, the log-probability at beam 1). BLEU: sacreBLEU, cased, detokenized.

| form | beam | identical lines | largest score difference | BLEU PyTorch float32 | BLEU export |
|---|---:|---:|---:|---:|---:|
""" + "\n".join(rows)
    write("ct2-agreement", {"benchmark": "ct2-agreement", "machine": m, "results": records}, md)


if __name__ == "__main__":
    main()
