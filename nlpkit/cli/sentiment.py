"""`nlpkit sentiment train|predict|eval|ensemble`: text classification (nlpkit.tasks.sentiment)."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated

import typer

from nlpkit.cli import common as c
from nlpkit.cli.options import choices, train_command
from nlpkit.tasks.sentiment import INPUT_FORMATS, SentimentOptions

app = typer.Typer(
    help="Sentiment (text) classification: train, predict labels with probabilities, evaluate, ensemble.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

InputFormat = choices(SentimentOptions, "input_format")


class PredictFormat(str, Enum):
    tsv = "tsv"
    jsonl = "jsonl"


train_command(
    app,
    "sentiment",
    SentimentOptions,
    "Train a text classifier on labeled texts (any label strings, two or more classes) and write it to --out.",
)


@app.command()
def predict(
    model_path: c.ModelArg,
    inputs: c.InputsArg = None,
    fmt: Annotated[
        PredictFormat,
        typer.Option("--format", help='tsv: label<TAB>probability | jsonl: {"label", "prob"[, "probs"]}.'),
    ] = PredictFormat.tsv,
    all_probs: Annotated[
        bool,
        typer.Option("--all-probs", help="Also give every label's probability (TSV: extra label=prob columns)."),
    ] = False,
    batch_tokens: c.BatchTokensOpt = 16384,
    chunk_lines: c.ChunkLinesOpt = 4096,
    shard: c.ShardOpt = "",
    encoding_errors: c.EncodingErrorsOpt = c.EncodingErrors.strict,
    device: c.DeviceOpt = c.Device.auto,
    threads: c.ThreadsOpt = 0,
    quantize: c.QuantizeOpt = c.Quantize.auto,
    quiet: c.QuietOpt = False,
) -> None:
    """Label each input line: exactly one output line per input line, in order (an empty line
    is classified too). Input is read in chunks, so memory stays flat on large files."""
    model = c.load(model_path, "sentiment", device, threads, quiet, quantize)
    cut = 0
    for chunk in c.input_chunks(inputs, chunk_lines, encoding_errors, shard):
        rows = []
        for r in model.predict(chunk, batch_tokens=batch_tokens, chunk_size=chunk_lines):
            cut += r["truncated"]
            if fmt is PredictFormat.jsonl:
                record = {"label": r["label"], "prob": round(r["prob"], 5)}
                if all_probs:
                    record["probs"] = {label: round(q, 5) for label, q in r["probs"].items()}
                rows.append(c.json_line(record))
            else:
                cells = [r["label"], f"{r['prob']:.5f}"]
                rows.append("\t".join(cells + ([f"{k}={q:.5f}" for k, q in r["probs"].items()] if all_probs else [])))
        c.write_lines(rows)
    if cut:
        c.warn(
            f"{cut:,} line(s) longer than the model's {model.model.config.max_len} tokens were classified from their start"
        )


@app.command("eval")
def evaluate(
    model_path: c.ModelArg,
    inputs: Annotated[list[str], typer.Argument(metavar="TEST", help="Labeled test file(s), in a training format.")],
    fmt: c.EvalFormatOpt = c.EvalFormat.table,
    input_format: Annotated[
        InputFormat,
        typer.Option("--input-format", help="As for training: auto | " + " | ".join(INPUT_FORMATS[1:]) + "."),
    ] = InputFormat("auto"),
    text_column: Annotated[
        str, typer.Option("--text-column", help="Column holding the text (or its 1-based number).")
    ] = "text",
    label_column: Annotated[
        str, typer.Option("--label-column", help="Column holding the label (or its 1-based number).")
    ] = "label",
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Skip rows with no label or no text (counted).")] = False,
    encoding_errors: c.EncodingErrorsOpt = c.EncodingErrors.strict,
    device: c.DeviceOpt = c.Device.auto,
    threads: c.ThreadsOpt = 0,
    quantize: c.QuantizeOpt = c.Quantize.auto,
    quiet: c.QuietOpt = False,
) -> None:
    """Accuracy, per-class precision/recall/F1, macro averages and the confusion matrix."""
    model = c.load(model_path, "sentiment", device, threads, quiet, quantize)
    scores = model.evaluate(
        inputs,
        input_format=input_format.value,
        text_column=text_column,
        label_column=label_column,
        skip_bad=skip_bad,
        encoding_errors=encoding_errors.value,
    )
    if fmt is c.EvalFormat.json:
        print(json.dumps(scores))
    else:
        render_scores(scores)


@app.command()
def ensemble(
    models: Annotated[
        list[str],
        typer.Argument(
            metavar="MODEL...", help="Two or more sentiment model files (.nlpk) with the same labels and tokenizer."
        ),
    ],
    out: Annotated[str, typer.Option("--out", "-o", help="The ensemble's model file to write.")] = "ensemble.nlpk",
    quiet: c.QuietOpt = False,
) -> None:
    """Write one model file that predicts the average class probabilities of MODELs, e.g. the
    same recipe trained with different --seed values (more accurate than each, and as many times
    slower to run). The members must share labels and tokenizer: train them on the same data with
    the same --tokenizer and --min-freq. predict, eval, export and quantize take the result like
    any sentiment model; nlpkit info lists its members with their recipes and validation scores."""
    from pathlib import Path

    import nlpkit
    from nlpkit import console as stderr

    stderr.silence(quiet)
    target = Path(out)
    for path in models:
        if target.exists() and Path(path).exists() and target.samefile(path):
            raise c.fail(f"{out}: one of the members; give a new path for the ensemble")
    if target.exists() and not target.is_file():
        raise c.fail(f"{out}: not a regular file")
    model = nlpkit.ensemble(models, out=out, device="cpu")
    size = target.stat().st_size
    stderr.info(f"{out}: ensemble of {model.model.config.describe()}, {size / 1e6:,.1f} MB", quiet)


def render_scores(scores: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    labels = scores["labels"]
    out = Console(highlight=False)
    table = Table(title=f"{scores['count']:,} examples: accuracy {100 * scores['accuracy']:.2f}%", title_justify="left")
    for name in ("label", "precision", "recall", "F1", "support"):
        table.add_column(name, justify="left" if name == "label" else "right")
    for label, row in scores["per_class"].items():
        table.add_row(
            label, f"{row['precision']:.4f}", f"{row['recall']:.4f}", f"{row['f1']:.4f}", f"{row['support']:,}"
        )
    macro = [f"{scores[f'macro_{k}']:.4f}" for k in ("precision", "recall", "f1")]
    table.add_row("macro avg", *macro, f"{scores['count']:,}", style="bold")
    out.print(table)
    confusion = Table(title="confusion matrix (rows: gold, columns: predicted)", title_justify="left")
    confusion.add_column("")
    for label in labels:
        confusion.add_column(label, justify="right")
    for label, row in zip(labels, scores["confusion"], strict=True):
        confusion.add_row(label, *(f"{v:,}" for v in row))
    out.print(confusion)
