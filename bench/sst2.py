"""SST-2 sentence-level sentiment: nlpkit from scratch, from word vectors trained on IMDB reviews
and from an IMDB language model, against
scikit-learn TF-IDF + logistic regression and spaCy's text classifier (CPU efficiency config),
on the same split, in one run. Accuracy on the 1,821 test sentences, training time, and
prediction speed in sentences/s.

    python bench/sst2.py --budget 10m --ft-budget 8m [--lm-budget 20m] [--only tfidf,spacy,scratch,vectors,lm,pair]

`pair` pretrains a forward and a backward IMDB language model (bench/recipes/imdb-lm-fast.toml,
--lm-budget each) and fine-tunes a classifier on both (--init-from + --init-from-backward).

Without bench/work/vectors/imdb-300.txt the vectors are trained first (`nlpkit vectors train`
with the flags of VECTORS_FLAGS on the same IMDB text); their time is reported apart.

Without bench/work/imdb-lm.nlpk the language model is pretrained first: the 50,000 IMDB
reviews (train and test, labels dropped) in SST-2's spelling (bench/imdb_lm_text.py), then
`nlpkit lm train` with LM_RECIPE for --lm-budget.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from common import SHARED, WORK, machine, need, recipe, run, spacy_config, spacy_python, spacy_train, write

# Recipes from 90-second trials on the dev set (docs/benchmarks.md): embed 256 / min-freq 1 and
# embed 128 / min-freq 2 / word dropout 0.25 / weight decay 0.1 both reached 0.79; the second
# runs 1.4x faster. Fine-tuning: gradual unfreezing with --lr-decay 0.4 reached 0.64 in 90 s,
# all layers at once with --lr-decay 0.7 0.69.
SCRATCH = recipe("sst2-scratch")
LM_RECIPE = recipe("imdb-lm")
FINETUNE = recipe("sst2-finetune")
VECTORS = recipe("sst2-vectors")
LM_FAST = recipe("imdb-lm-fast")  # the forward and backward LMs of the `pair` system
VECTORS_FLAGS = ["--dim", "300", "--epochs", "10", "--min-count", "3"]  # word2vec skip-gram


def files():
    d = need(SHARED / "sst2")
    return d / "stsa.binary.train", d / "stsa.binary.dev", d / "stsa.binary.test"


def as_tsv(path, out):
    """label<TAB>text, for the peers."""
    rows = [line.split(" ", 1) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    out.write_text("".join(f"{label}\t{text}\n" for label, text in rows), encoding="utf-8")
    return rows


def prepare(copies: int):
    """The split's files; their rows as label<TAB>text files for the peers; and the test texts
    repeated `copies` times (for prediction speed: start-up weighs less)."""
    (WORK / "logs").mkdir(parents=True, exist_ok=True)
    train, dev, test = files()
    train_rows = as_tsv(train, WORK / "sst2.train.tsv")
    as_tsv(dev, WORK / "sst2.dev.tsv")
    test_rows = as_tsv(test, WORK / "sst2.test.tsv")
    test_texts = WORK / f"sst2.test.x{copies}.txt"
    test_texts.write_text("".join(f"{t}\n" for _, t in test_rows) * copies, encoding="utf-8")
    return train, dev, test, train_rows, test_rows, test_texts


def tfidf(train, test) -> dict:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts = [t for _, t in train]
    labels = [lab for lab, _ in train]
    out = {}
    for c in (1.0, 4.0):
        t0 = time.perf_counter()
        vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
        clf = LogisticRegression(C=c, max_iter=2000).fit(vec.fit_transform(texts), labels)
        train_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        predicted = clf.predict(vec.transform([t for _, t in test]))
        predict_s = time.perf_counter() - t0
        accuracy = sum(p == lab for p, (lab, _) in zip(predicted, test, strict=True)) / len(test)
        out[f"tfidf-lr-C{c:g}"] = {
            "accuracy": round(accuracy, 4),
            "train_s": round(train_s, 2),
            "sentences_per_s": round(len(test) / predict_s),
            "command": f"TfidfVectorizer(ngram_range=(1,2), sublinear_tf=True) + LogisticRegression(C={c:g})",
        }
    return out


def spacy(train_tsv, dev_tsv, test_tsv, budget_s: float) -> dict:
    py = spacy_python()
    helper = str(WORK.parent / "spacy_textcat.py")
    data = WORK / "spacy-sst2"
    subprocess.run([str(py), helper, "prepare", str(train_tsv), str(dev_tsv), str(data)], check=True)
    cfg = data / "textcat.cfg"
    spacy_config(cfg, "textcat")
    out = data / "model"
    train_s, stopped = spacy_train(cfg, data, out, budget_s, WORK / "logs" / "sst2-spacy.log")
    result = json.loads(
        subprocess.run(
            [str(py), helper, "predict", str(out / "model-best"), str(test_tsv)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    return {
        "spacy-textcat-bow": {
            "accuracy": round(result["accuracy"], 4),
            "train_s": round(train_s, 1),
            "stopped": stopped,
            "sentences_per_s": round(result["sentences_per_s"]),
            "command": "spacy init config --pipeline textcat --optimize efficiency; spacy train (model-best)",
        }
    }


def nlpkit_run(name, train, dev, test, test_texts, recipe, budget) -> dict:
    model, metrics = WORK / f"sst2-{name}.nlpk", WORK / f"sst2-{name}.json"
    cmd = [
        "nlpkit",
        "sentiment",
        "train",
        str(train),
        "--valid",
        str(dev),
        *recipe,
        "--time-budget",
        budget,
        "--device",
        "cpu",
        "--out",
        str(model),
        "--metrics-out",
        str(metrics),
    ]
    trained = run(cmd, WORK / "logs" / f"sst2-{name}.log")
    scores = json.loads(run(["nlpkit", "sentiment", "eval", str(model), str(test), "--format", "json"])["stdout"])
    predicted = run(["nlpkit", "sentiment", "predict", str(model), str(test_texts)])
    lines = len(predicted["stdout"].splitlines())
    m = json.loads(metrics.read_text())
    return {
        "accuracy": round(scores["accuracy"], 4),
        "macro_f1": round(scores["macro_f1"], 4),
        "train_s": trained["wall_s"],
        "epochs": m["train"]["epochs"],
        "best_valid_accuracy": m["valid"]["valid_accuracy"],
        "sentences_per_s": round(lines / predicted["wall_s"]),
        "predict_note": f"{lines:,} lines, wall time of the whole command (start-up included)",
        "command": " ".join(cmd),
    }


def imdb_text() -> Path:
    text = WORK / "imdb-lm.txt"
    if text.exists():
        return text
    imdb = need(SHARED / "imdb")
    run(
        [
            sys.executable,
            str(WORK.parent / "imdb_lm_text.py"),
            str(imdb / "train.tsv.gz"),
            str(imdb / "test.tsv.gz"),
            "-o",
            str(text),
        ]
    )
    return text


def train_vectors(out: Path) -> dict:
    """IMDB word vectors with `nlpkit vectors train` (seconds taken, command)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["nlpkit", "vectors", "train", str(imdb_text()), "--out", str(out), *VECTORS_FLAGS]
    done = run(cmd, WORK / "logs" / "imdb-vectors.log")
    return {"seconds": done["wall_s"], "command": " ".join(cmd)}


def pretrain(out: str, budget: str) -> None:
    text = imdb_text()
    run(
        ["nlpkit", "lm", "train", str(text), *LM_RECIPE, "--time-budget", budget, "--device", "cpu", "--out", out],
        WORK / "logs" / "imdb-lm.log",
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--budget", default="10m", help="training budget of the from-scratch model and of spaCy")
    p.add_argument("--ft-budget", default="8m", help="fine-tuning budget of the pretrained model")
    p.add_argument("--lm", default=str(WORK / "imdb-lm.nlpk"), help="language model for --init-from")
    p.add_argument(
        "--lm-budget", default="20m", help="pretraining budget (per model) when a language model does not exist yet"
    )
    p.add_argument("--vectors", default=str(WORK / "vectors" / "imdb-300.txt"), help="word vectors for --embeddings")
    p.add_argument("--vectors-seconds", type=float, default=0, help="their training time, if made before this run")
    p.add_argument("--only", default="tfidf,spacy,scratch,vectors,lm")
    p.add_argument("--tag", default="")
    args = p.parse_args()
    from nlpkit.option_parsing import parse_duration

    only = set(args.only.split(","))
    train, dev, test, train_rows, test_rows, test_texts = prepare(copies=10)
    record = {"benchmark": "sst2", "machine": machine(), "budget": args.budget, "ft_budget": args.ft_budget, "runs": {}}
    if "tfidf" in only:
        record["runs"].update(tfidf(train_rows, test_rows))
    if "spacy" in only:
        record["runs"].update(
            spacy(WORK / "sst2.train.tsv", WORK / "sst2.dev.tsv", WORK / "sst2.test.tsv", parse_duration(args.budget))
        )
    if "scratch" in only:
        record["runs"]["nlpkit-bilstm-scratch"] = nlpkit_run(
            "scratch", train, dev, test, test_texts, SCRATCH, args.budget
        )
    if "vectors" in only:
        made = {"seconds": args.vectors_seconds, "command": "made before this run"}
        if not Path(args.vectors).exists():
            made = train_vectors(Path(args.vectors))
        entry = nlpkit_run(
            "vectors", train, dev, test, test_texts, [*VECTORS, "--embeddings", args.vectors], args.budget
        )
        entry["vectors_pretraining_s"] = made["seconds"]
        entry["vectors_command"] = made["command"]
        record["runs"]["nlpkit-bilstm-imdb-vectors"] = entry
    if "lm" in only and not Path(args.lm).exists():
        pretrain(args.lm, args.lm_budget)
    if "lm" in only:
        lm_meta = json.loads(run(["nlpkit", "info", args.lm, "--format", "json"])["stdout"])
        lm_train = lm_meta["metrics"]["train"]
        entry = nlpkit_run("imdb-lm", train, dev, test, test_texts, ["--init-from", args.lm, *FINETUNE], args.ft_budget)
        entry["lm_pretraining_s"] = lm_train["seconds"]
        entry["lm_valid_ppl"] = lm_meta["metrics"].get("valid", {}).get("valid_ppl")
        entry["lm_epochs"] = lm_train["epochs"]
        record["runs"]["nlpkit-lstm-imdb-lm"] = entry
    if "pair" in only:  # ELMo style: a forward and a backward IMDB language model, then the classifier
        pair = {}
        for direction in ("forward", "backward"):
            out = WORK / f"imdb-lm-{direction}.nlpk"
            if not out.exists():
                cmd = ["nlpkit", "lm", "train", str(imdb_text()), *LM_FAST, "--direction", direction]
                run(
                    [*cmd, "--time-budget", args.lm_budget, "--device", "cpu", "--out", str(out)],
                    WORK / "logs" / f"imdb-lm-{direction}.log",
                )
            meta = json.loads(run(["nlpkit", "info", str(out), "--format", "json"])["stdout"])
            pair[direction] = {
                "seconds": meta["metrics"]["train"]["seconds"],
                "epochs": meta["metrics"]["train"]["epochs"],
                "valid_ppl": meta["metrics"].get("valid", {}).get("valid_ppl"),
            }
        flags = [
            "--init-from",
            str(WORK / "imdb-lm-forward.nlpk"),
            "--init-from-backward",
            str(WORK / "imdb-lm-backward.nlpk"),
            *FINETUNE,
        ]
        entry = nlpkit_run("imdb-lm-pair", train, dev, test, test_texts, flags, args.ft_budget)
        entry["lm_pretraining_s"] = round(pair["forward"]["seconds"] + pair["backward"]["seconds"])
        entry["lm_epochs"] = min(p["epochs"] for p in pair.values())
        entry["lm_valid_ppl"] = f"{pair['forward']['valid_ppl']} / {pair['backward']['valid_ppl']}"
        entry["lm_pair"] = pair
        record["runs"]["nlpkit-lstm-imdb-lm-pair"] = entry
    name = "sst2" + (f"-{args.tag}" if args.tag else "")
    lines = [
        f"# SST-2 test accuracy ({name})",
        "",
        f"Machine: {record['machine']['cpu']}, {record['machine']['cores']} cores, torch {record['machine']['torch']}, "
        f"{record['machine']['date']}. Command: `python bench/sst2.py {' '.join(sys.argv[1:])}`.",
        "",
        "| system | test accuracy | training time (s) | prediction (sentences/s) | note |",
        "|---|---:|---:|---:|---|",
    ]
    for key, r in record["runs"].items():
        note = r.get("stopped", "")
        if "epochs" in r:
            note = f"{r['epochs']:g} epochs, best dev {r['best_valid_accuracy']:.4f}"
        if "vectors_pretraining_s" in r:
            note += f"; vectors pretraining {r['vectors_pretraining_s']:.0f} s (IMDB, word2vec)"
        if "lm_pretraining_s" in r:
            note += f"; LM pretraining {r['lm_pretraining_s']:.0f} s ({r['lm_epochs']:g} epochs of IMDB, valid ppl {r['lm_valid_ppl']})"
        lines.append(f"| {key} | {100 * r['accuracy']:.2f}% | {r['train_s']:.1f} | {r['sentences_per_s']:,} | {note} |")
    lines += ["", "Commands:", ""] + [f"- {k}: `{r['command']}`" for k, r in record["runs"].items()]
    write(name, record, "\n".join(lines))


if __name__ == "__main__":
    main()
