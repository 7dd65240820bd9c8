"""`nlpkit ner train|eval|tag`: named-entity tagging (nlpkit.tasks.ner)."""

from __future__ import annotations

from dataclasses import dataclass

import typer

from nlpkit.cli import common as c
from nlpkit.cli.options import command, train_command
from nlpkit.options import InputOptions, LoadOptions, ModelArgument, TableOutput, opt
from nlpkit.tasks.ner.options import EvalOptions, NEROptions, TagOptions

app = typer.Typer(
    help="Named-entity tagging: train, evaluate with seqeval, tag raw or CoNLL text.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

train_command(app, "ner", NEROptions, "Train a named-entity tagger and write it to --out.")


@dataclass
class EvalCommand(ModelArgument, EvalOptions, TableOutput, LoadOptions):
    tests: list[str] = opt(
        list, "Tagged test file(s): CoNLL columns or JSONL.", argument=2, required=True, metavar="TEST"
    )


@command(app, EvalCommand, "eval")
def evaluate(o: EvalCommand) -> None:
    """seqeval span precision, recall and F1 per entity type, with micro and macro averages."""
    model = c.load(o, "ner")
    scores = model.evaluate(o.tests, **o.pick(EvalOptions))
    c.print_json(scores) if o.format == "json" else render_scores(scores)


def render_scores(scores: dict) -> None:
    per = {
        k + (" (unseen in training)" if k in scores["unseen_types"] else ""): r for k, r in scores["per_type"].items()
    }
    averages = [
        [
            f"{kind} avg",
            *(f"{scores[prefix + k]:.4f}" for k in ("precision", "recall", "f1")),
            f"{scores['entities']:,}",
        ]
        for kind, prefix in (("micro", ""), ("macro", "macro_"))
    ]
    rows = c.prf_rows(per) + averages
    title = f"{scores['sentences']:,} sentences, {scores['entities']:,} entities: micro F1 {100 * scores['f1']:.2f}"
    c.table(title, ["type", "precision", "recall", "F1", "support"], rows, bold={len(rows) - 2})


@dataclass
class TagCommand(ModelArgument, InputOptions, TagOptions, LoadOptions):
    HIDDEN = ("scores",)  # on for jsonl and html, the outputs that show them

    inputs: list[str] = opt(list, "Files ('-' or none: stdin): one text a line, or CoNLL.", argument=2)
    input_format: str = opt(
        "text",
        "text: raw text, one sentence or paragraph a line | conll: tokens in the first column.",
        choices=("text", "conll"),
    )
    format: str = opt(
        "jsonl",
        "jsonl: text and entities with offsets | conll: token<TAB>tag | inline: [TYPE words] | html: one "
        "self-contained page, entities marked in colour (docs/pages.md).",
        choices=("jsonl", "conll", "inline", "html"),
    )


@command(app, TagCommand)
def tag(o: TagCommand) -> None:
    """Tag entities: exactly one output record per input record, in order; an empty line gives
    an empty record. Raw text is split into words by nlpkit.text.words (runs of letters and
    digits with inner - ' . kept, every other non-space character alone), keeping character
    offsets."""
    from nlpkit.data import inputs

    model = c.load(o, "ner")
    from nlpkit.data.tagged import token_records

    stream = inputs.chunks(o, o.chunk_size, token_records if o.input_format == "conll" else None)
    scores = o.format in ("jsonl", "html")  # the outputs that show them
    if o.format == "html":  # one page, streamed: a record is written as soon as it is tagged
        from nlpkit.tasks.ner.page import ner_page

        found = (r for chunk in stream for r in model.predict(chunk, **{**o.pick(TagOptions), "scores": scores}))
        c.write_page(ner_page(found, model.entity_types, o.model))
        return
    for chunk in stream:
        found = model.predict(chunk, **{**o.pick(TagOptions), "scores": scores})
        c.write_lines(_formatted(r, o.format, model) for r in found)


def _formatted(r: dict, fmt: str, model) -> str:
    if fmt == "conll":  # a blank line ends each record
        return "".join(f"{w}\t{t}\n" for w, t in zip(r["words"], r["tags"], strict=True))
    if fmt == "inline":
        pieces, last, text = [], 0, r["text"]
        for e in r["entities"]:
            pieces += [text[last : e["start"]], f"[{e['type']} {e['text']}]"]
            last = e["end"]
        return "".join(pieces) + text[last:]
    return c.json_line(model.record(r))
