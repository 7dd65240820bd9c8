"""TF-IDF + logistic regression as a command, the linear baseline of the sentiment speed benchmark.

python bench/tfidf_lr.py fit TRAIN MODEL      # "label sentence" lines (SST-2 as distributed)
python bench/tfidf_lr.py label MODEL TEXTS OUT  # one label per input line
"""

import pickle  # our own file, written by `fit` a moment before: not a stranger's
import sys


def fit(train, model):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    rows = [line.rstrip("\n").split(" ", 1) for line in open(train, encoding="utf-8")]
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
    clf = LogisticRegression(C=4.0, max_iter=2000).fit(
        vec.fit_transform([t for _, t in rows]), [lab for lab, _ in rows]
    )
    with open(model, "wb") as f:
        pickle.dump((vec, clf), f)


def label(model, texts, out):
    with open(model, "rb") as f:
        vec, clf = pickle.load(f)
    with open(texts, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f]
    with open(out, "w", encoding="utf-8") as w:
        w.writelines(f"{p}\n" for p in clf.predict(vec.transform(lines)))


if __name__ == "__main__":
    {"fit": fit, "label": label}[sys.argv[1]](*sys.argv[2:])
