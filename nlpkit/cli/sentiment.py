"""`nlpkit sentiment train|predict|eval|ensemble`: text classification (nlpkit.tasks.sentiment)."""

from __future__ import annotations

from dataclasses import dataclass

import typer

from nlpkit.cli import common as c
from nlpkit.cli.options import command, train_command
from nlpkit.options import InputOptions, LoadOptions, ModelArgument, Options, RunOptions, TableOutput, opt, reuse
from nlpkit.tasks.sentiment.options import EvalOptions, PredictOptions, SentimentOptions

app = typer.Typer(
    help="Sentiment (text) classification: train, predict labels with probabilities, evaluate, ensemble.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

train_command(
    app,
    "sentiment",
    SentimentOptions,
    "Train a text classifier on labeled texts (any label strings, two or more classes) and write it to --out.",
)


@dataclass
class PredictCommand(ModelArgument, InputOptions, PredictOptions, LoadOptions):
    format: str = opt(
        "tsv",
        'tsv: label<TAB>probability | jsonl: {"label", "prob"[, "probs"]} | html: one self-contained page, the '
        "lines sortable by confidence (docs/pages.md).",
        choices=("tsv", "jsonl", "html"),
    )
    all_probs: bool = opt(
        False, "Also give every label's probability (TSV: extra label=prob columns).", flags=("--all-probs",)
    )


@command(app, PredictCommand)
def predict(o: PredictCommand) -> None:
    """Label each input line: exactly one output line per input line, in order (an empty line
    is classified too). Input is read in chunks, so memory stays flat on large files."""
    from nlpkit.data import inputs

    model = c.load(o, "sentiment")
    if o.format == "html":
        _page(model, o)
        return
    cut = 0
    for chunk in inputs.chunks(o, o.chunk_size):
        rows = []
        for r in model.predict(chunk, **o.pick(PredictOptions)):
            cut += r["truncated"]
            if o.format == "jsonl":
                rows.append(c.json_line(model.record(r, all_probs=o.all_probs)))
            else:
                cells = [r["label"], f"{r['prob']:.5f}"]
                rows.append("\t".join(cells + ([f"{k}={q:.5f}" for k, q in r["probs"].items()] if o.all_probs else [])))
        c.write_lines(rows)
    _say_cut(model, cut)


def _page(model, o) -> None:
    """The predictions as one HTML page, written as each chunk is labelled."""
    from nlpkit.data import inputs
    from nlpkit.tasks.sentiment import page

    cut, number = 0, 0
    c.write_page([page.start(o.model)])
    for chunk in inputs.chunks(o, o.chunk_size):
        rows = []
        for text, r in zip(chunk, model.predict(chunk, **o.pick(PredictOptions)), strict=True):
            number, cut = number + 1, cut + r["truncated"]
            rows.append(page.fragment(number, text, r))
        c.write_page(rows)
    c.write_page([page.end()])
    _say_cut(model, cut)


def _say_cut(model, cut: int) -> None:
    if cut:
        c.warn(
            f"{cut:,} line(s) longer than the model's {model.model.config.max_len} tokens were classified from their start"
        )


@dataclass
class EvalCommand(ModelArgument, EvalOptions, TableOutput, LoadOptions):
    tests: list[str] = opt(
        list, "Labeled test file(s), in a training format.", argument=2, required=True, metavar="TEST"
    )


@command(app, EvalCommand, "eval")
def evaluate(o: EvalCommand) -> None:
    """Accuracy, per-class precision/recall/F1, macro averages and the confusion matrix."""
    model = c.load(o, "sentiment")
    scores = model.evaluate(o.tests, **o.pick(EvalOptions))
    c.print_json(scores) if o.format == "json" else render_scores(scores)


@dataclass
class EnsembleCommand(Options):
    models: list[str] = opt(
        list, "Two or more sentiment model files (.nlpk) with the same labels and tokenizer.", argument=1,
        required=True, metavar="MODEL...",
    )  # fmt: skip
    out: str = opt("ensemble.nlpk", "The ensemble's model file to write.", flags=("--out", "-o"), writes="file")
    quiet: bool = reuse(RunOptions, "quiet")


@command(app, EnsembleCommand)
def ensemble(o: EnsembleCommand) -> None:
    """Write one model file that predicts the average class probabilities of MODELs, e.g. the
    same recipe trained with different --seed values (more accurate than each, and as many times
    slower to run). The members must share labels and tokenizer: train them on the same data with
    the same --tokenizer and --min-freq. predict, eval, export and quantize take the result like
    any sentiment model; nlpkit info lists its members with their recipes and validation scores."""
    from pathlib import Path

    import nlpkit
    from nlpkit import console as stderr

    stderr.silence(o.quiet)
    model = nlpkit.ensemble(o.models, out=o.out, device="cpu")
    size = Path(o.out).stat().st_size
    stderr.info(f"{o.out}: ensemble of {model.model.config.describe()}, {size / 1e6:,.1f} MB", o.quiet)


def render_scores(scores: dict) -> None:
    macro = [
        "macro avg",
        *(f"{scores[f'macro_{k}']:.4f}" for k in ("precision", "recall", "f1")),
        f"{scores['count']:,}",
    ]
    rows = c.prf_rows(scores["per_class"]) + [macro]
    title = f"{scores['count']:,} examples: accuracy {100 * scores['accuracy']:.2f}%"
    c.table(title, ["label", "precision", "recall", "F1", "support"], rows, bold={len(rows) - 1})
    confusion = [
        [label, *(f"{v:,}" for v in row)] for label, row in zip(scores["labels"], scores["confusion"], strict=True)
    ]
    c.table("confusion matrix (rows: gold, columns: predicted)", ["", *scores["labels"]], confusion)
