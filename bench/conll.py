"""CoNLL-2003 NER (IOB2, ../shared/data/conll2003): nlpkit's BiLSTM-CRF with character CNN
against spaCy's CPU "efficiency" NER pipeline, the same files and the same wall clock, in one
run; test micro F1 (seqeval) and tagging speed. Then WNUT-17 with the same nlpkit recipe.

    python bench/conll.py --budget 15m --wnut-budget 5m [--only nlpkit,vectors,spacy,wnut,wnut-spacy]

WNUT-17 (`wnut`) uses the same recipe, validating every 200 steps, and the vectors below when they exist.
`vectors` trains the same recipe from word vectors made by `nlpkit vectors train` on unlabelled
text only (the CoNLL training sentences without tags, PTB's training text and the IMDB reviews,
lower-cased as the tagger's word lookups are); their training time is reported apart.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

from common import SHARED, WORK, machine, need, recipe, run, spacy_config, spacy_python, spacy_train, write

RECIPE = recipe("conll-bilstm-crf")


VECTORS_FLAGS = ["--dim", "100", "--epochs", "5", "--min-count", "3", "--lowercase"]  # word2vec skip-gram


def news_vectors(out, conll_train) -> dict:
    """Word vectors from unlabelled text: CoNLL training tokens (tags dropped), PTB train, IMDB."""
    from sst2 import imdb_text

    text = WORK / "conll-unlabelled.txt"
    sentences, words = [], []
    for line in conll_train.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if words:
                sentences.append(" ".join(words))
            words = []
        elif not line.startswith("-DOCSTART-"):
            words.append(line.split()[0])
    ptb = need(SHARED / "ptb" / "ptb.train.txt").read_text(encoding="utf-8")
    text.write_text("\n".join(sentences) + "\n" + ptb, encoding="utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["nlpkit", "vectors", "train", str(text), str(imdb_text()), "--out", str(out), *VECTORS_FLAGS]
    done = run(cmd, WORK / "logs" / "conll-vectors.log")
    return {"seconds": done["wall_s"], "command": " ".join(cmd)}


def nlpkit_run(name, train, valid, test, budget, extra=()) -> dict:
    model, metrics = WORK / f"{name}.nlpk", WORK / f"{name}.json"
    cmd = [
        "nlpkit",
        "ner",
        "train",
        str(train),
        "--valid",
        str(valid),
        *RECIPE,
        *extra,
        "--time-budget",
        budget,
        "--device",
        "cpu",
        "--out",
        str(model),
        "--metrics-out",
        str(metrics),
    ]
    trained = run(cmd, WORK / "logs" / f"{name}.log")
    scores = json.loads(run(["nlpkit", "ner", "eval", str(model), str(test), "--format", "json"])["stdout"])
    words = sum(
        1
        for line in test.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("-DOCSTART-")
    )
    tagged = run(["nlpkit", "ner", "tag", str(model), str(test), "--input-format", "conll", "--format", "conll"])
    m = json.loads(metrics.read_text())
    return {
        "f1": round(scores["f1"], 4),
        "precision": round(scores["precision"], 4),
        "recall": round(scores["recall"], 4),
        "per_type_f1": {k: round(v["f1"], 4) for k, v in scores["per_type"].items()},
        "train_s": trained["wall_s"],
        "epochs": m["train"]["epochs"],
        "best_valid_f1": m["valid"]["valid_f1"],
        "words_per_s": round(words / tagged["wall_s"]),
        "tag_note": f"{words:,} words, wall time of the whole `ner tag` command (start-up included)",
        "command": " ".join(cmd),
    }


def spacy_run(train, valid, test, budget_s, name="conll") -> dict:
    from nlpkit.tasks.ner.scores import entity_scores
    from nlpkit.text.schemes import convert

    py = spacy_python()
    helper = str(WORK.parent / "spacy_ner.py")
    data = WORK / f"spacy-{name}"
    subprocess.run([str(py), helper, "prepare", str(train), str(valid), str(data)], check=True)
    cfg = data / "ner.cfg"
    spacy_config(cfg, "ner")
    out = data / "model"
    train_s, stopped = spacy_train(cfg, data, out, budget_s, WORK / "logs" / f"{name}-spacy.log")
    predictions = data / "test.pred.jsonl"
    speed = json.loads(
        subprocess.run(
            [str(py), helper, "predict", str(out / "model-best"), str(test), str(predictions)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    gold, tags = [], []
    for line in test.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if tags:
                gold.append(tags)
            tags = []
        elif not line.startswith("-DOCSTART-"):
            tags.append(line.split()[-1])
    predicted = [json.loads(line) for line in predictions.read_text().splitlines()]
    to_bioes = lambda seqs: [convert(s, "iob2", "bioes")[0] for s in seqs]  # noqa: E731
    scores = entity_scores(to_bioes(gold), to_bioes(predicted))
    return {
        "f1": round(scores["f1"], 4),
        "precision": round(scores["precision"], 4),
        "recall": round(scores["recall"], 4),
        "per_type_f1": {k: round(v["f1"], 4) for k, v in scores["per_type"].items()},
        "train_s": round(train_s, 1),
        "stopped": stopped,
        "words_per_s": round(speed["words_per_s"]),
        "tag_note": "nlp.pipe over pre-tokenized Docs, timed inside Python (no start-up)",
        "command": "spacy init config --pipeline ner --optimize efficiency; spacy train (model-best)",
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--budget", default="20m")
    p.add_argument("--wnut-budget", default="10m")
    p.add_argument("--only", default="nlpkit,vectors,spacy,wnut")
    p.add_argument("--vectors", default=str(WORK / "vectors" / "news-100.txt"), help="word vectors for `vectors`")
    args = p.parse_args()
    from nlpkit.option_parsing import parse_duration

    only = set(args.only.split(","))
    (WORK / "logs").mkdir(parents=True, exist_ok=True)
    d = need(SHARED / "conll2003")
    train, valid, test = d / "train.txt", d / "valid.txt", d / "test.txt"
    from common import RESULTS

    record = {"benchmark": "conll2003", "machine": machine(), "budget": args.budget, "runs": {}}
    previous = RESULTS / "conll2003.json"
    if previous.exists() and only != {"nlpkit", "vectors", "spacy", "wnut"}:  # a partial rerun keeps the other rows
        record["runs"] = json.loads(previous.read_text())["runs"]
    earlier = dict(record["runs"])
    if "nlpkit" in only:
        record["runs"]["nlpkit-bilstm-crf-charcnn"] = nlpkit_run("conll-nlpkit", train, valid, test, args.budget)
    if "vectors" in only:
        made = {"seconds": 0, "command": "made before this run"}
        if not Path(args.vectors).exists():
            made = news_vectors(Path(args.vectors), train)
        entry = nlpkit_run(
            "conll-nlpkit-vectors", train, valid, test, args.budget, ["--embeddings", args.vectors, "--embed", "0"]
        )
        entry["vectors_pretraining_s"], entry["vectors_command"] = made["seconds"], made["command"]
        record["runs"]["nlpkit-bilstm-crf-charcnn-vectors"] = entry
    if "spacy" in only:
        record["runs"]["spacy-ner-efficiency"] = spacy_run(train, valid, test, parse_duration(args.budget))
    if "wnut" in only:
        w = need(SHARED / "wnut17")
        record["runs"]["nlpkit-wnut17"] = nlpkit_run(
            "wnut-nlpkit",
            w / "wnut17train.conll",
            w / "emerging.dev.conll",
            w / "emerging.test.annotated",
            args.wnut_budget,
            # 3,394 training sentences: validate every ~epoch, not every 5; start from the vectors if made
            ["--eval-every", "200"]
            + (["--embeddings", args.vectors, "--embed", "0"] if Path(args.vectors).exists() else []),
        )
    if "wnut-spacy" in only:
        w = need(SHARED / "wnut17")
        record["runs"]["spacy-wnut17"] = spacy_run(
            w / "wnut17train.conll",
            w / "emerging.dev.conll",
            w / "emerging.test.annotated",
            parse_duration(args.wnut_budget),
            name="wnut",
        )
    # rows of an earlier run that this one did not redo: their date is said in the table
    kept = {k for k, r in record["runs"].items() if earlier.get(k) is r}
    for key in record["runs"]:
        if key not in kept:
            record["runs"][key]["measured"] = record["machine"]["date"]
    lines = [
        "# CoNLL-2003 NER (and WNUT-17)",
        "",
        f"Machine: {record['machine']['cpu']}, {record['machine']['cores']} cores, torch {record['machine']['torch']}, "
        f"{record['machine']['date']}. Command: `python bench/conll.py {' '.join(sys.argv[1:])}`.",
        "",
        "| system | data | test micro F1 | P | R | training time (s) | tagging words/s | note |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for key, r in record["runs"].items():
        data = "WNUT-17" if "wnut" in key else "CoNLL-2003"
        note = r.get("stopped", "")
        if "epochs" in r:
            note = f"{r['epochs']:g} epochs, best dev F1 {r['best_valid_f1']:.4f}"
        if key in kept:
            note += f" (kept from an earlier run: {r.get('measured', 'before 2026-12-01')})"
        if "vectors_pretraining_s" in r:
            note += f"; vectors pretraining {r['vectors_pretraining_s']:.0f} s (`{r['vectors_command']}`)"
        lines.append(
            f"| {key} | {data} | {100 * r['f1']:.2f} | {100 * r['precision']:.2f} | {100 * r['recall']:.2f} | "
            f"{r['train_s']:.0f} | {r['words_per_s']:,} | {note} |"
        )
    lines += [
        "",
        "Tagging speed: " + "; ".join(f"{k}: {r['tag_note']}" for k, r in record["runs"].items()),
        "",
        "Commands:",
        "",
    ]
    lines += [f"- {k}: `{r['command']}`" for k, r in record["runs"].items()]
    write("conll2003", record, "\n".join(lines))


if __name__ == "__main__":
    main()
