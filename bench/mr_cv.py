"""MR (rt-polarity) 10-fold cross-validated accuracy: nlpkit's from-scratch BiLSTM recipe of
bench/sst2.py with a fixed budget per fold, and TF-IDF + logistic regression on the same folds.
Published reference: Kim (2014) CNN-rand 76.1, CNN-static 81.0, CNN-non-static 81.5.

    python bench/mr_cv.py --fold-budget 75s [--vectors bench/work/vectors/imdb-300.txt]

With --vectors, nlpkit trains bench/sst2.py's word-vector recipe (sst2-vectors) instead, and the
result goes to mr-10fold-vectors.
"""

import argparse
import json
import random
import sys
import time

from common import SHARED, WORK, machine, need, run, write
from sst2 import SCRATCH, VECTORS


def folds(k: int = 10, seed: int = 0):
    rows = []
    for label in ("pos", "neg"):
        path = need(SHARED / "mr" / f"rt-polarity.{label}")
        rows += [(label, line.strip()) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    random.Random(seed).shuffle(rows)
    return [rows[i::k] for i in range(k)]


def tfidf_acc(train, test) -> float:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    clf = LogisticRegression(C=4.0, max_iter=2000).fit(vec.fit_transform([t for _, t in train]), [y for y, _ in train])
    predicted = clf.predict(vec.transform([t for _, t in test]))
    return sum(p == y for p, (y, _) in zip(predicted, test, strict=True)) / len(test)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--fold-budget", default="75s")
    p.add_argument("--folds", type=int, default=10)
    p.add_argument("--vectors", default="", help="word vectors: train the sst2-vectors recipe from them")
    args = p.parse_args()
    system = [*VECTORS, "--embeddings", args.vectors] if args.vectors else SCRATCH
    name = "mr-10fold" + ("-vectors" if args.vectors else "")
    parts = folds(args.folds)
    (WORK / "logs").mkdir(parents=True, exist_ok=True)
    record = {"benchmark": name, "machine": machine(), "fold_budget": args.fold_budget, "folds": []}
    t_start = time.perf_counter()
    for i, test in enumerate(parts):
        train = [row for j, part in enumerate(parts) if j != i for row in part]
        train_path, test_path = WORK / "mr.train.tsv", WORK / "mr.test.tsv"
        for path, rows in ((train_path, train), (test_path, test)):
            path.write_text("text\tlabel\n" + "".join(f"{t}\t{y}\n" for y, t in rows), encoding="utf-8")
        model = WORK / "mr.nlpk"
        cmd = [
            "nlpkit",
            "sentiment",
            "train",
            str(train_path),
            "--valid-fraction",
            "0.1",
            *system,
            "--time-budget",
            args.fold_budget,
            "--device",
            "cpu",
            "--out",
            str(model),
            "--quiet",
        ]
        trained = run(cmd, WORK / "logs" / "mr-fold.log")
        scores = json.loads(
            run(["nlpkit", "sentiment", "eval", str(model), str(test_path), "--format", "json"])["stdout"]
        )
        fold = {
            "fold": i,
            "nlpkit": round(scores["accuracy"], 4),
            "tfidf_lr_C4": round(tfidf_acc(train, test), 4),
            "train_s": trained["wall_s"],
        }
        record["folds"].append(fold)
        print(fold, file=sys.stderr, flush=True)
    mean = {k: round(sum(f[k] for f in record["folds"]) / len(record["folds"]), 4) for k in ("nlpkit", "tfidf_lr_C4")}
    record["mean"] = mean
    record["command"] = " ".join(cmd[:3] + ["TRAIN"] + cmd[4:])
    record["seconds"] = round(time.perf_counter() - t_start)
    lines = [
        f"# MR {args.folds}-fold cross-validated accuracy",
        "",
        f"Machine: {record['machine']['cpu']}, {record['machine']['cores']} cores, torch {record['machine']['torch']}, "
        f"{record['machine']['date']}. Command: `python bench/mr_cv.py {' '.join(sys.argv[1:])}` "
        f"({record['seconds']:,} s in all). Folds: a seeded shuffle of the 10,662 snippets, every 10th row.",
        "",
        f"- nlpkit BiLSTM {'from IMDB word vectors' if args.vectors else 'from scratch'} ({args.fold_budget} per fold, 10% of each training part held out for model choice): "
        f"**{100 * mean['nlpkit']:.2f}%**",
        f"- TF-IDF (1-2 grams) + logistic regression, C=4: **{100 * mean['tfidf_lr_C4']:.2f}%**",
        "- Published: Kim (2014) CNN-rand 76.1, CNN-non-static (word2vec) 81.5.",
        "",
        "| fold | nlpkit | tfidf-lr | nlpkit train s |",
        "|---:|---:|---:|---:|",
    ] + [
        f"| {f['fold']} | {100 * f['nlpkit']:.2f} | {100 * f['tfidf_lr_C4']:.2f} | {f['train_s']:.0f} |"
        for f in record["folds"]
    ]
    lines += ["", f"nlpkit command per fold: `{record['command']}`"]
    write(name, record, "\n".join(lines))


if __name__ == "__main__":
    main()
