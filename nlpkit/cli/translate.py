"""`nlpkit translate train|predict|eval`: translation with attention (nlpkit.tasks.translate)."""

from __future__ import annotations

from dataclasses import dataclass

import typer

from nlpkit.cli import common as c
from nlpkit.cli.options import command, train_command
from nlpkit.options import InputOptions, LoadOptions, ModelArgument, opt
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
        "text", "text: one translation a line | jsonl: source, translations and scores.", choices=("text", "jsonl")
    )
    alignments_file: str | None = opt(
        None,
        "Write each line's attention (target x source subwords) and word pairs as JSONL, a record a line.",
        flags=("--alignments",),
        metavar="FILE",
    )
    plot: str | None = opt(None, "Draw each line's attention as DIR/line-N.png (needs matplotlib).", metavar="DIR")

    def check(self) -> None:
        super().check()
        if self.n_best > 1 and self.format != "jsonl":
            raise ValueError("--n-best above 1 needs --format jsonl (one record a line, with every hypothesis)")


@command(app, PredictCommand)
def predict(o: PredictCommand) -> None:
    """Translate: exactly one output line per input line, in input order; an empty line gives
    an empty translation. Sentences are batched by length internally."""
    plot_dir = _plot_dir(o.plot)
    model = c.load(o, "translate")
    try:
        align_file = open(o.alignments_file, "w", encoding="utf-8") if o.alignments_file else None  # noqa: SIM115
    except OSError as exc:
        raise c.fail(f"{o.alignments_file}: cannot write the alignments ({exc.strerror})") from None
    options = {**o.pick(PredictOptions), "alignments": bool(o.alignments_file or o.plot)}
    cut = 0
    try:
        found_all = (r for chunk in c.input_chunks(o) for r in model.predict(chunk, **options))
        for number, found in enumerate(found_all, start=1):
            cut += found["truncated"]
            if o.format == "text":
                c.write_lines([found["translation"]])
            else:
                hyps = [{"text": h["text"], "score": round(h["score"], 4)} for h in found["translations"]]
                c.write_lines([c.json_line({"source": found["source"], "translations": hyps})])
            if "alignment" in found:
                record = {"line": number, **found["alignment"]}
                if align_file is not None:
                    align_file.write(c.json_line(record) + "\n")
                if plot_dir is not None and record["attention"]:
                    from nlpkit.plots import attention_heatmap

                    attention_heatmap(
                        record["attention"], record["source"], record["target"], plot_dir / f"line-{number:06d}.png"
                    )
    finally:
        if align_file is not None:
            align_file.close()
    if cut:
        c.warn(f"{cut:,} line(s) longer than --max-src-len {o.max_src_len} tokens were cut")


def _plot_dir(plot: str | None):
    if not plot:
        return None
    from pathlib import Path

    from nlpkit.plots import pyplot

    pyplot("--plot")  # a missing matplotlib fails now, not after the first translation
    try:
        Path(plot).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise c.fail(f"{plot}: cannot create the plot folder ({exc.strerror})") from None
    return Path(plot)


@dataclass
class EvalCommand(ModelArgument, EvalOptions, c.EvalOutput, LoadOptions):
    src: str = opt("", "Source sentences, one a line.", required=True)
    ref: str = opt("", "Reference translations, line-aligned with --src.", required=True)
    length_penalty_sweep: str = opt(
        "",
        "Score once per length penalty (e.g. 0,0.3,0.6,1.0) and name the best: choose it on a validation set.",
        metavar="A,B,...",
    )


@command(app, EvalCommand, "eval")
def evaluate(o: EvalCommand) -> None:
    """Translate --src and score against --ref with sacreBLEU (BLEU and chrF, detokenized, cased),
    printing both signatures; --lowercase/--tokenize add a variant BLEU for comparison with
    lower-cased or tokenized figures."""
    alphas = _penalties(o.length_penalty_sweep) if o.length_penalty_sweep else None  # fails before loading
    model = c.load(o, "translate")
    search_text = f"beam {o.beam}" + (f", coverage penalty {o.coverage_penalty:g}" if o.coverage_penalty else "")
    if alphas is not None:
        options = {k: v for k, v in o.pick(EvalOptions).items() if k != "length_penalty"}
        found = model.sweep_length_penalty((o.src, o.ref), alphas, **options)
        _show_sweep(found, o.format, f"{o.model} on {o.src}, {search_text}")
        return
    scores = model.evaluate((o.src, o.ref), **o.pick(EvalOptions))
    if o.format == "json":
        c.print_json(scores, indent=2)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{o.model} on {o.src}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for key, name in (("bleu", "BLEU"), ("chrf", "chrF")):
        table.add_row(name, f"{scores[key]:.2f}")
    for key, name in (
        ("bleu_detail", "BLEU detail"),
        ("bleu_signature", "BLEU signature"),
        ("chrf_signature", "chrF signature"),
        ("bleu_variant", "BLEU variant"),
        ("bleu_variant_signature", "variant signature"),
    ):
        if key in scores:
            table.add_row(name, str(scores[key]))
    table.add_row("sentences", f"{scores['sentences']:,} ({scores['sentences_per_s']:,} / s, {search_text})")
    Console(highlight=False, width=200).print(table)


def _penalties(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(not v >= 0 for v in values):
        raise c.fail(f"--length-penalty-sweep: expected numbers >= 0 separated by commas, got {text!r}")
    return values


def _show_sweep(found: dict, fmt: str, title: str) -> None:
    if fmt == "json":
        c.print_json(found, indent=2)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left", caption=found["bleu_signature"], caption_justify="left")
    variant = any("bleu_variant" in r for r in found["sweep"])
    for name in ("length penalty", "BLEU", "chrF", *(["BLEU variant"] if variant else []), "seconds"):
        table.add_column(name, justify="right")
    for r in found["sweep"]:
        cells = [f"{r['length_penalty']:g}", f"{r['bleu']:.2f}", f"{r['chrf']:.2f}"]
        cells += [f"{r['bleu_variant']:.2f}"] if variant else []
        table.add_row(*cells, f"{r['seconds']:.1f}", style="bold" if r["length_penalty"] == found["best"] else None)
    Console(highlight=False, width=200).print(table)
    typer.echo(f"best length penalty: {found['best']:g}")
