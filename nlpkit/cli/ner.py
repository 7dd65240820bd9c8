"""`nlpkit ner train|eval|tag`: named-entity tagging (nlpkit.tasks.ner)."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated

import typer

from nlpkit.cli import common as c
from nlpkit.cli.options import choices, train_command
from nlpkit.tasks.ner import NEROptions

app = typer.Typer(
    help="Named-entity tagging: train, evaluate with seqeval, tag raw or CoNLL text.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


InputFormat = choices(NEROptions, "input_format")
Scheme = choices(NEROptions, "scheme")


class TagFormat(str, Enum):
    jsonl = "jsonl"
    conll = "conll"
    inline = "inline"


class TagInput(str, Enum):
    text = "text"
    conll = "conll"


train_command(
    app,
    "ner",
    NEROptions,
    "Train a named-entity tagger and write it to --out.",
)


@app.command("eval")
def evaluate(
    model_path: c.ModelArg,
    inputs: Annotated[list[str], typer.Argument(metavar="TEST", help="Tagged test file(s): CoNLL columns or JSONL.")],
    fmt: c.EvalFormatOpt = c.EvalFormat.table,
    predictions: Annotated[
        str | None,
        typer.Option("--predictions", help="Also write token, gold and predicted tag columns (CoNLL) to this file."),
    ] = None,
    input_format: Annotated[
        InputFormat, typer.Option("--input-format", help="auto (JSONL for *.jsonl, else CoNLL) | conll | jsonl.")
    ] = InputFormat("auto"),
    token_column: Annotated[str, typer.Option("--token-column", help="CoNLL: 1-based token column.")] = "",
    tag_column: Annotated[str, typer.Option("--tag-column", help="CoNLL: 1-based tag column (default: last).")] = "",
    scheme: Annotated[Scheme, typer.Option("--scheme", help="auto (detected) | iob1 | iob2 | bioes.")] = Scheme("auto"),
    strict: Annotated[bool, typer.Option("--strict", help="An I- tag that continues nothing is an error.")] = False,
    encoding_errors: c.EncodingErrorsOpt = c.EncodingErrors.strict,
    device: c.DeviceOpt = c.Device.auto,
    threads: c.ThreadsOpt = 0,
    quantize: c.QuantizeOpt = c.Quantize.auto,
    quiet: c.QuietOpt = False,
) -> None:
    """seqeval span precision, recall and F1 per entity type, with micro and macro averages."""
    model = c.load(model_path, "ner", device, threads, quiet, quantize)
    scores = model.evaluate(
        inputs,
        input_format=input_format.value,
        token_column=token_column,
        tag_column=tag_column,
        scheme=scheme.value,
        strict=strict,
        encoding_errors=encoding_errors.value,
        predictions=predictions,
    )
    if fmt is c.EvalFormat.json:
        print(json.dumps(scores))
    else:
        render_scores(scores)


def render_scores(scores: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{scores['sentences']:,} sentences, {scores['entities']:,} entities: micro F1 {100 * scores['f1']:.2f}",
        title_justify="left",
    )
    for name in ("type", "precision", "recall", "F1", "support"):
        table.add_column(name, justify="left" if name == "type" else "right")
    for kind, row in scores["per_type"].items():
        label = kind + (" (unseen in training)" if kind in scores["unseen_types"] else "")
        table.add_row(label, *(f"{row[k]:.4f}" for k in ("precision", "recall", "f1")), f"{row['support']:,}")
    micro = [f"{scores[k]:.4f}" for k in ("precision", "recall", "f1")]
    table.add_row("micro avg", *micro, f"{scores['entities']:,}", style="bold")
    macro = [f"{scores[f'macro_{k}']:.4f}" for k in ("precision", "recall", "f1")]
    table.add_row("macro avg", *macro, f"{scores['entities']:,}")
    Console(highlight=False).print(table)


@app.command()
def tag(
    model_path: c.ModelArg,
    inputs: Annotated[
        list[str] | None,
        typer.Argument(help="Files ('-' or none: stdin): one text a line, or CoNLL.", show_default=False),
    ] = None,
    input_format: Annotated[
        TagInput,
        typer.Option(
            "--input-format",
            help="text: raw text, one sentence or paragraph a line | conll: tokens in the first column.",
        ),
    ] = TagInput.text,
    fmt: Annotated[
        TagFormat,
        typer.Option(
            "--format", help="jsonl: text and entities with offsets | conll: token<TAB>tag | inline: [TYPE words]."
        ),
    ] = TagFormat.jsonl,
    batch_tokens: c.BatchTokensOpt = 8192,
    chunk_lines: Annotated[int, typer.Option("--chunk-lines", min=1, help="Records read and tagged at a time.")] = 2048,
    shard: c.ShardOpt = "",
    encoding_errors: c.EncodingErrorsOpt = c.EncodingErrors.strict,
    device: c.DeviceOpt = c.Device.auto,
    threads: c.ThreadsOpt = 0,
    quantize: c.QuantizeOpt = c.Quantize.auto,
    quiet: c.QuietOpt = False,
) -> None:
    """Tag entities: exactly one output record per input record, in order; an empty line gives
    an empty record. Raw text is split into words by nlpkit.text.words (runs of letters and
    digits with inner - ' . kept, every other non-space character alone), keeping character
    offsets."""
    model = c.load(model_path, "ner", device, threads, quiet, quantize)
    if input_format is TagInput.conll:
        from nlpkit.data import shards
        from nlpkit.tasks.base import chunks
        from nlpkit.tasks.ner import token_records

        def records():
            return token_records(inputs or ["-"], encoding_errors.value)

        part = shards.records_part(records, *shards.parse(shard), inputs or ["-"]) if shard else records()
        stream = chunks(part, chunk_lines, first=c.FIRST_CHUNK)
    else:
        stream = c.input_chunks(inputs, chunk_lines, encoding_errors, shard)
    for chunk in stream:
        found = model.predict(chunk, batch_tokens=batch_tokens, chunk_size=chunk_lines, scores=fmt is TagFormat.jsonl)
        c.write_lines(_formatted(r, fmt) for r in found)


def _formatted(r: dict, fmt: TagFormat) -> str:
    if fmt is TagFormat.conll:  # a blank line ends each record
        return "".join(f"{w}\t{t}\n" for w, t in zip(r["words"], r["tags"], strict=True))
    if fmt is TagFormat.inline:
        pieces, last, text = [], 0, r["text"]
        for e in r["entities"]:
            pieces += [text[last : e["start"]], f"[{e['type']} {e['text']}]"]
            last = e["end"]
        return "".join(pieces) + text[last:]
    return c.json_line({"text": r["text"], "entities": r["entities"]})
