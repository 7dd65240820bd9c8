"""`nlpkit lm train|eval|score`: language models (nlpkit.tasks.lm)."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from nlpkit.cli import common as c
from nlpkit.cli.options import choices, train_command
from nlpkit.tasks.lm import LMOptions

app = typer.Typer(
    help="Language models: train, evaluate perplexity, score lines.", no_args_is_help=True, rich_markup_mode=None
)


class ScoreFormat(str, Enum):
    tsv = "tsv"
    jsonl = "jsonl"


InputFormat = choices(LMOptions, "input_format")


train_command(
    app,
    "lm",
    LMOptions,
    "Train a language model (character, word or subword level) and write it to --out.",
)


@app.command("eval")
def evaluate(
    model_path: c.ModelArg,
    inputs: c.InputsArg = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Parallel streams the text is cut into.")] = 10,
    text_field: Annotated[str, typer.Option("--text-field", help="JSONL field holding the text.")] = "text",
    input_format: Annotated[
        InputFormat, typer.Option("--input-format", help="auto (JSONL for *.jsonl) | text | jsonl.")
    ] = InputFormat("auto"),
    encoding_errors: c.EncodingErrorsOpt = c.EncodingErrors.strict,
    fmt: c.EvalFormatOpt = c.EvalFormat.table,
    device: c.DeviceOpt = c.Device.auto,
    threads: c.ThreadsOpt = 0,
    quantize: c.QuantizeOpt = c.Quantize.auto,
    quiet: c.QuietOpt = False,
) -> None:
    """Perplexity of a text (and bits per character for character models)."""
    model = c.load(model_path, "lm", device, threads, quiet, quantize)
    out = model.evaluate(
        [Path(p) for p in inputs or ["-"]],  # Path objects: a list of str would be texts
        batch_size=batch_size,
        input_format=input_format.value,
        text_field=text_field,
        encoding_errors=encoding_errors.value,
    )
    if fmt is c.EvalFormat.json:
        print(json.dumps(out))
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(show_header=False, title="language model evaluation", title_justify="left")
        for key, value in out.items():
            table.add_row(key, f"{value:,.4f}" if isinstance(value, float) else f"{value:,}")
        Console(highlight=False).print(table)


@app.command()
def score(
    model_path: c.ModelArg,
    inputs: c.InputsArg = None,
    fmt: Annotated[
        ScoreFormat, typer.Option("--format", help="tsv: loglik, tokens, perplexity | jsonl.")
    ] = ScoreFormat.tsv,
    batch_tokens: c.BatchTokensOpt = 8192,
    chunk_lines: c.ChunkLinesOpt = 4096,
    shard: c.ShardOpt = "",
    encoding_errors: c.EncodingErrorsOpt = c.EncodingErrors.strict,
    device: c.DeviceOpt = c.Device.auto,
    threads: c.ThreadsOpt = 0,
    quantize: c.QuantizeOpt = c.Quantize.auto,
    quiet: c.QuietOpt = False,
) -> None:
    """Log-likelihood (nats), token count and perplexity of each input line, one line out per
    line in, in order. Each line is scored with its line end, as if it started a text."""
    model = c.load(model_path, "lm", device, threads, quiet, quantize)
    for chunk in c.input_chunks(inputs, chunk_lines, encoding_errors, shard):
        rows = []
        for s in model.predict(chunk, batch_tokens=batch_tokens, chunk_size=chunk_lines):
            if fmt is ScoreFormat.jsonl:
                rows.append(
                    json.dumps({"loglik": round(s["loglik"], 4), "tokens": s["tokens"], "ppl": round(s["ppl"], 4)})
                )
            else:
                rows.append(f"{s['loglik']:.4f}\t{s['tokens']}\t{s['ppl']:.4f}")
        c.write_lines(rows)
