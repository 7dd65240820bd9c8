"""`nlpkit translate train|predict|eval`: translation with attention (nlpkit.tasks.translate)."""

from __future__ import annotations

from dataclasses import dataclass

import typer

from nlpkit.cli import common as c
from nlpkit.cli.options import command, train_command
from nlpkit.option_parsing import comma_numbers
from nlpkit.options import InputOptions, LoadOptions, ModelArgument, TableOutput, opt
from nlpkit.tasks.translate.options import EvalOptions, PredictOptions, TranslateOptions

app = typer.Typer(
    help="Translation: train a seq2seq model (GRU/LSTM with attention, or a Transformer), "
    "translate stdin or files, score with BLEU and chrF.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

train_command(
    app,
    "translate",
    TranslateOptions,
    "Train a translation model on sentence pairs and write it to --out. Validation BLEU (greedy) chooses the model kept.",
)


@dataclass
class PredictCommand(ModelArgument, InputOptions, PredictOptions, LoadOptions):
    HIDDEN = ("alignments",)  # asked for by writing them: --alignments FILE or --plot DIR

    format: str = opt(
        "text",
        "text: one translation a line | jsonl: source, translations and scores | html: one self-contained page, "
        "each line with its attention as a heat map (docs/pages.md).",
        choices=("text", "jsonl", "html"),
    )
    alignments_file: str | None = opt(
        None,
        "Write each line's attention (target x source subwords) and word pairs as JSONL, a record a line.",
        flags=("--alignments",),
        metavar="FILE",
        writes="file",
    )
    plot: str | None = opt(
        None, "Draw each line's attention as DIR/line-N.png (needs matplotlib).", metavar="DIR", writes="folder"
    )

    def check(self) -> None:
        super().check()
        if self.n_best > 1 and self.format != "jsonl":
            raise ValueError("--n-best above 1 needs --format jsonl (one record a line, with every hypothesis)")


@command(app, PredictCommand)
def predict(o: PredictCommand) -> None:
    """Translate: exactly one output line per input line, in input order; an empty line gives
    an empty translation. Sentences are batched by length internally."""
    from nlpkit.data import inputs
    from nlpkit.tasks.translate.alignment import AlignmentWriter

    model = c.load(o, "translate")
    with AlignmentWriter(o.alignments_file, o.plot) as aligned:
        html = o.format == "html"
        options = {**o.pick(PredictOptions), "alignments": aligned.wanted or html}  # the page draws them
        found_all = (r for chunk in inputs.chunks(o, o.chunk_size) for r in model.predict(chunk, **options))
        cut = 0
        if html:
            from nlpkit.tasks.translate import page

            c.write_page([page.start(o.model)])
        for number, found in enumerate(found_all, start=1):
            cut += found["truncated"]
            if html:
                c.write_page([page.fragment(number, found)])
            elif o.format == "text":
                c.write_lines([found["translation"]])
            else:
                c.write_lines([c.json_line(model.record(found))])
            if "alignment" in found and aligned.wanted:
                aligned.write(number, found["alignment"])
        if html:
            c.write_page([page.end()])
    if cut:
        c.warn(f"{cut:,} line(s) longer than --max-src-len {o.max_src_len} tokens were cut")


@dataclass
class EvalCommand(ModelArgument, EvalOptions, TableOutput, LoadOptions):
    src: str = opt("", "Source sentences, one a line.", required=True)
    ref: str = opt("", "Reference translations, line-aligned with --src.", required=True)
    length_penalty_sweep: str = opt(
        "",
        "Score once per length penalty (e.g. 0,0.3,0.6,1.0) and name the best: choose it on a validation set.",
        metavar="A,B,...",
    )

    def check(self) -> None:
        super().check()
        if self.length_penalty_sweep:
            comma_numbers(self.length_penalty_sweep, "length_penalty_sweep", float, least=0)


@command(app, EvalCommand, "eval")
def evaluate(o: EvalCommand) -> None:
    """Translate --src and score against --ref with sacreBLEU (BLEU and chrF, detokenized, cased),
    printing both signatures; --lowercase/--tokenize add a variant BLEU for comparison with
    lower-cased or tokenized figures."""
    model = c.load(o, "translate")
    search_text = f"beam {o.beam}" + (f", coverage penalty {o.coverage_penalty:g}" if o.coverage_penalty else "")
    if o.length_penalty_sweep:
        alphas = comma_numbers(o.length_penalty_sweep, "length_penalty_sweep", float, least=0)
        options = {k: v for k, v in o.pick(EvalOptions).items() if k != "length_penalty"}
        found = model.sweep_length_penalty((o.src, o.ref), alphas, **options)
        _show_sweep(found, o.format, f"{o.model} on {o.src}, {search_text}")
        return
    scores = model.evaluate((o.src, o.ref), **o.pick(EvalOptions))
    if o.format == "json":
        c.print_json(scores, indent=2)
        return
    rows = [["BLEU", f"{scores['bleu']:.2f}"], ["chrF", f"{scores['chrf']:.2f}"]]
    for key, name in (
        ("bleu_detail", "BLEU detail"),
        ("bleu_signature", "BLEU signature"),
        ("chrf_signature", "chrF signature"),
        ("bleu_variant", "BLEU variant"),
        ("bleu_variant_signature", "variant signature"),
    ):
        rows += [[name, str(scores[key])]] if key in scores else []
    rows.append(["sentences", f"{scores['sentences']:,} ({scores['sentences_per_s']:,} / s, {search_text})"])
    c.table(f"{o.model} on {o.src}", None, rows)


def _show_sweep(found: dict, fmt: str, title: str) -> None:
    if fmt == "json":
        c.print_json(found, indent=2)
        return
    variant = any("bleu_variant" in r for r in found["sweep"])
    rows, bold = [], set()
    for n, r in enumerate(found["sweep"]):
        cells = [f"{r['length_penalty']:g}", f"{r['bleu']:.2f}", f"{r['chrf']:.2f}"]
        rows.append(cells + ([f"{r['bleu_variant']:.2f}"] if variant else []) + [f"{r['seconds']:.1f}"])
        bold |= {n} if r["length_penalty"] == found["best"] else set()
    columns = ["length penalty", "BLEU", "chrF", *(["BLEU variant"] if variant else []), "seconds"]
    c.table(title, columns, rows, caption=found["bleu_signature"], bold=bold)
    typer.echo(f"best length penalty: {found['best']:g}")
