"""`nlpkit lm train|eval|score`: language models (nlpkit.tasks.lm)."""

from __future__ import annotations

from dataclasses import dataclass

import typer

from nlpkit.cli import common as c
from nlpkit.cli.options import command, train_command
from nlpkit.options import InputOptions, LoadOptions, ModelArgument, TableOutput, opt
from nlpkit.tasks.lm.options import EvalOptions, LMOptions, ScoreOptions

app = typer.Typer(
    help="Language models: train, evaluate perplexity, score lines.", no_args_is_help=True, rich_markup_mode=None
)

train_command(app, "lm", LMOptions, "Train a language model (character, word or subword level) and write it to --out.")


@dataclass
class EvalCommand(ModelArgument, EvalOptions, TableOutput, LoadOptions):
    inputs: list[str] = opt(list, "Text files ('-' or none: stdin).", argument=2)


@command(app, EvalCommand, "eval")
def evaluate(o: EvalCommand) -> None:
    """Perplexity of a text (and bits per character for character models)."""
    from pathlib import Path

    model = c.load(o, "lm")
    out = model.evaluate([Path(p) for p in o.inputs or ["-"]], **o.pick(EvalOptions))  # Paths: str would be texts
    if o.format == "json":
        c.print_json(out)
        return
    rows = [[key, f"{value:,.4f}" if isinstance(value, float) else f"{value:,}"] for key, value in out.items()]
    c.table("language model evaluation", None, rows)


@dataclass
class ScoreCommand(ModelArgument, InputOptions, ScoreOptions, LoadOptions):
    format: str = opt("tsv", "tsv: loglik, tokens, perplexity | jsonl.", choices=("tsv", "jsonl"))


@command(app, ScoreCommand)
def score(o: ScoreCommand) -> None:
    """Log-likelihood (nats), token count and perplexity of each input line, one line out per
    line in, in order. Each line is scored with its line end, as if it started a text."""
    from nlpkit.data import inputs

    model = c.load(o, "lm")
    for chunk in inputs.chunks(o, o.chunk_size):
        rows = []
        for s in model.predict(chunk, **o.pick(ScoreOptions)):
            if o.format == "jsonl":
                rows.append(c.json_line(model.record(s)))
            else:
                rows.append(f"{s['loglik']:.4f}\t{s['tokens']}\t{s['ppl']:.4f}")
        c.write_lines(rows)
