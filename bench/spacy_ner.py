"""spaCy's side of the NER benchmark; runs inside bench/work/spacy-env (made by bench/sst2.py
or bench/conll.py), so nlpkit's environment stays untouched.

    python spacy_ner.py prepare TRAIN DEV OUTDIR      # CoNLL (token ... IOB2 tag) -> .spacy DocBins
    python spacy_ner.py predict MODEL_DIR TEST OUT    # IOB2 predictions on TEST's tokens; JSON speed
"""

import json
import sys
import time
from pathlib import Path


def read_conll(path):
    sentences, tokens, tags = [], [], []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if tokens:
                sentences.append((tokens, tags))
            tokens, tags = [], []
            continue
        cells = line.split()
        if cells[0] == "-DOCSTART-":
            continue
        tokens.append(cells[0])
        tags.append(cells[-1])
    if tokens:
        sentences.append((tokens, tags))
    return sentences


def prepare(train, dev, out_dir):
    import spacy
    from spacy.tokens import Doc, DocBin

    nlp = spacy.blank("en")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, path in (("train", train), ("dev", dev)):
        db = DocBin()
        for words, tags in read_conll(path):
            db.add(Doc(nlp.vocab, words=words, ents=tags))
        db.to_disk(out / f"{name}.spacy")


def predict(model_dir, test, out):
    import spacy
    from spacy.tokens import Doc

    nlp = spacy.load(model_dir)
    sentences = read_conll(test)
    docs = [Doc(nlp.vocab, words=words) for words, _ in sentences]
    t0 = time.perf_counter()
    docs = list(nlp.pipe(docs, batch_size=256))
    seconds = time.perf_counter() - t0
    words = sum(len(w) for w, _ in sentences)
    with open(out, "w", encoding="utf-8") as f:
        for doc in docs:
            f.write(
                json.dumps(
                    [t.ent_iob_ + ("-" + t.ent_type_ if t.ent_type_ else "") if t.ent_iob_ != "O" else "O" for t in doc]
                )
                + "\n"
            )
    print(json.dumps({"seconds": seconds, "words": words, "words_per_s": words / seconds}))


if __name__ == "__main__":
    {"prepare": prepare, "predict": predict}[sys.argv[1]](*sys.argv[2:])
