"""`nlpkit demo`: the main job on the bundled sample, end to end, in about a minute."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nlpkit.cli import common as c


def sample_dir() -> Path:
    """data/ of the source checkout (the README installs nlpkit editable), else ./data."""
    for candidate in (Path(__file__).resolve().parents[2] / "data", Path.cwd() / "data"):
        if (candidate / "sample.txt").is_file():
            return candidate
    raise c.fail("cannot find data/sample.txt: run the demo from the nlpkit checkout")


def demo(
    out_dir: Annotated[str, typer.Option("--out-dir", help="Where the demo writes its model files.")] = "runs/demo",
    time_budget: Annotated[str, typer.Option("--time-budget", help="Training time for the language model.")] = "60s",
    device: c.DeviceOpt = c.Device.auto,
    quiet: c.QuietOpt = False,
) -> None:
    """Train a small character-level LSTM language model on data/sample.txt, evaluate it and
    generate from it; then train a sentiment classifier on data/sentiment.train.tsv, evaluate
    it and label a few new reviews; then train a named-entity tagger on data/ner.train.conll,
    score it and tag two new sentences; then train an English-to-French GRU translator with
    attention on data/translate.train.*, score it and translate two new sentences."""
    from nlpkit.cli.main import app  # the demo runs the same commands a user types

    data = sample_dir()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = str(out / "sample-lm.nlpk")
    common = ["--device", device.value]
    steps = [
        (
            f"training a character LSTM on {data / 'sample.txt'} for {time_budget}",
            ["lm", "train", str(data / "sample.txt"), "--valid", str(data / "sample.valid.txt"), "--out", model]
            + "--tokenizer char --encoder lstm --layers 2 --hidden 256 --embed 64 --dropout 0.1 --context 96".split()
            + "--batch-size 32 --lr 3e-3 --warmup 20 --eval-every 100".split()
            + ["--time-budget", time_budget, *common, *(["--quiet"] if quiet else [])],
        ),
        (f"perplexity on {data / 'sample.valid.txt'}", ["lm", "eval", model, str(data / "sample.valid.txt"), *common]),
        (
            "generating from the prompt 'At dawn, '",
            ["generate", model, "--prompt", "At dawn, ", "-n", "300", "--temperature", "0.7", "--top-p", "0.95"]
            + ["--seed", "0", *common],
        ),
    ]
    classifier = str(out / "sample-sentiment.nlpk")
    reviews = out / "new-reviews.txt"
    reviews.write_text(
        "The coffee at the Anchor Inn was not cold at all.\n"
        "I would never go back to the night ferry; the staff was rude.\n"
        "The rooms seemed gloomy at first, but in the end the harbour bakery was lovely.\n",
        encoding="utf-8",
    )
    steps += [
        (
            f"training a BiLSTM sentiment classifier on {data / 'sentiment.train.tsv'}",
            ["sentiment", "train", str(data / "sentiment.train.tsv"), "--valid", str(data / "sentiment.valid.tsv")]
            + ["--out", classifier, "--tokenizer", "unigram:400", "--hidden", "64", "--epochs", "8", "--lr", "3e-3"]
            + ["--pooling", "max,last", *common, *(["--quiet"] if quiet else [])],
        ),
        (
            f"scores on {data / 'sentiment.valid.tsv'}",
            ["sentiment", "eval", classifier, str(data / "sentiment.valid.tsv"), *common],
        ),
        (f"labelling the reviews in {reviews}", ["sentiment", "predict", classifier, str(reviews), *common]),
    ]
    tagger = str(out / "sample-ner.nlpk")
    sentences = out / "new-sentences.txt"
    sentences.write_text(
        "Greta Sato sailed from Gull Point to Northwick.\nThe Salt Guild opened a new office in Saltmere.\n",
        encoding="utf-8",
    )
    steps += [
        (
            f"training a BiLSTM-CRF entity tagger on {data / 'ner.train.conll'}",
            ["ner", "train", str(data / "ner.train.conll"), "--valid", str(data / "ner.valid.conll"), "--out", tagger]
            + "--crf --hidden 64 --embed 50 --char-size 25 --epochs 3 --lr 5e-3".split()
            + [*common, *(["--quiet"] if quiet else [])],
        ),
        (
            f"entity scores on {data / 'ner.valid.conll'}",
            ["ner", "eval", tagger, str(data / "ner.valid.conll"), *common],
        ),
        (f"tagging {sentences}", ["ner", "tag", tagger, str(sentences), "--format", "inline", *common]),
    ]
    translator = str(out / "sample-translate.nlpk")
    english = out / "new-english.txt"
    english.write_text(
        "The proud weaver walks to the green chapel .\n\nA tired dog sleeps behind the mill at night .\n",
        encoding="utf-8",
    )
    steps += [
        (
            f"training a GRU translator with attention on {data / 'translate.train.en'} -> .fr",
            ["translate", "train", "--src", str(data / "translate.train.en"), "--tgt", str(data / "translate.train.fr")]
            + ["--valid-src", str(data / "translate.valid.en"), "--valid-tgt", str(data / "translate.valid.fr")]
            + ["--out", translator, "--encoder", "gru", "--attention", "luong-general", "--layers", "1"]
            + "--hidden 32 --tokenizer word --vocab separate --batch-tokens 512 --max-steps 150 --lr 1e-2".split()
            + "--warmup 10 --eval-every 150".split()
            + [*common, *(["--quiet"] if quiet else [])],
        ),
        (
            f"BLEU and chrF on {data / 'translate.valid.en'}",
            ["translate", "eval", translator, "--src", str(data / "translate.valid.en")]
            + ["--ref", str(data / "translate.valid.fr"), *common],
        ),
        (
            f"translating {english} (beam 5; the empty line stays empty; attention in {out / 'alignments.jsonl'})",
            ["translate", "predict", translator, str(english), "--alignments", str(out / "alignments.jsonl"), *common],
        ),
    ]
    for number, (title, args) in enumerate(steps, start=1):
        c.info(f"[bold]{number}/{len(steps)}[/bold] {title}: nlpkit {' '.join(args)}", quiet)
        app(args, standalone_mode=False)
    c.info(f"models written to {model}, {classifier}, {tagger} and {translator}; try: nlpkit info {model}", quiet)
