"""spaCy's side of the sentiment benchmarks; runs inside the venv that has spaCy
(bench/work/spacy-env, made by bench/sst2.py), so nlpkit's environment stays untouched.

    python spacy_textcat.py prepare TRAIN DEV OUTDIR      # label<TAB>text files -> .spacy DocBins
    python spacy_textcat.py predict MODEL_DIR TEST         # accuracy and sentences/s as JSON
    python spacy_textcat.py label MODEL_DIR TEXTS OUT      # one label per input line (a whole command to time)
"""

import json
import sys
import time
from pathlib import Path


def read(path):
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        label, _, text = line.partition("\t")
        rows.append((label, text))
    return rows


def prepare(train, dev, out_dir):
    import spacy
    from spacy.tokens import DocBin

    nlp = spacy.blank("en")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, path in (("train", train), ("dev", dev)):
        rows = read(path)
        labels = sorted({label for label, _ in rows})
        db = DocBin()
        for label, text in rows:
            doc = nlp.make_doc(text)
            doc.cats = {lab: float(lab == label) for lab in labels}
            db.add(doc)
        db.to_disk(out / f"{name}.spacy")


def predict(model_dir, test):
    import spacy

    nlp = spacy.load(model_dir)
    rows = read(test)
    texts = [text for _, text in rows]
    t0 = time.perf_counter()
    docs = list(nlp.pipe(texts, batch_size=256))
    seconds = time.perf_counter() - t0
    correct = sum(max(doc.cats, key=doc.cats.get) == label for doc, (label, _) in zip(docs, rows, strict=True))
    print(json.dumps({"accuracy": correct / len(rows), "predict_s": seconds, "sentences_per_s": len(rows) / seconds}))


def label(model_dir, texts, out):
    import spacy

    nlp = spacy.load(model_dir)
    with open(texts, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as w:
        lines = (line.rstrip("\n") for line in f)
        for doc in nlp.pipe(lines, batch_size=256):
            w.write(max(doc.cats, key=doc.cats.get) + "\n")


if __name__ == "__main__":
    {"prepare": prepare, "predict": predict, "label": label}[sys.argv[1]](*sys.argv[2:])
