"""`nlpkit translate train|predict|eval`: translation with attention (nlpkit.tasks.translate)."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated

import typer

from nlpkit.cli import common as c
from nlpkit.cli.options import train_command
from nlpkit.metrics import TOKENIZERS
from nlpkit.tasks.translate import TranslateOptions

app = typer.Typer(
    help="Translation: train a seq2seq model (GRU/LSTM with attention, or a Transformer), "
    "translate stdin or files, score with BLEU and chrF.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


Tokenize = Enum("Tokenize", {name: name for name in TOKENIZERS}, type=str)


class OutFormat(str, Enum):
    text = "text"
    jsonl = "jsonl"


BeamOpt = Annotated[int, typer.Option("--beam", min=1, help="Beam size; 1 = greedy.", rich_help_panel="Search")]
LengthPenaltyOpt = Annotated[
    float,
    typer.Option(
        "--length-penalty",
        min=0.0,
        help="GNMT length penalty alpha: scores are log-probability / ((5+length)/6)^alpha; 0 = none.",
        rich_help_panel="Search",
    ),
]
CoveragePenaltyOpt = Annotated[
    float,
    typer.Option(
        "--coverage-penalty",
        min=0.0,
        help="GNMT coverage penalty beta (beam search): adds beta x the sum over source tokens of "
        "log(min(attention received, 1)), favouring translations that leave no source unread; 0 = none.",
        rich_help_panel="Search",
    ),
]
MaxRatioOpt = Annotated[
    float,
    typer.Option(
        "--max-length-ratio",
        min=0.1,
        help="A translation stops at this many times the source tokens, plus 5.",
        rich_help_panel="Search",
    ),
]
MaxSrcLenOpt = Annotated[
    int,
    typer.Option(
        "--max-src-len",
        min=2,
        help="Source tokens read per line; longer lines are cut (counted).",
        rich_help_panel="Search",
    ),
]
PredictBatchOpt = Annotated[
    int, typer.Option("--batch-size", min=1, help="Sentences per batch (grouped by length).", rich_help_panel="Search")
]

train_command(
    app,
    "translate",
    TranslateOptions,
    "Train a translation model on sentence pairs and write it to --out. Validation BLEU (greedy) chooses the model kept.",
)


@app.command()
def predict(
    model_path: c.ModelArg,
    inputs: c.InputsArg = None,
    beam: BeamOpt = 5,
    length_penalty: LengthPenaltyOpt = 0.6,
    coverage_penalty: CoveragePenaltyOpt = 0.0,
    n_best: Annotated[
        int,
        typer.Option(
            "--n-best", min=1, help="Hypotheses per line, with scores (needs --format jsonl).", rich_help_panel="Search"
        ),
    ] = 1,
    max_length_ratio: MaxRatioOpt = 2.0,
    max_src_len: MaxSrcLenOpt = 256,
    batch_size: PredictBatchOpt = 64,
    fmt: Annotated[
        OutFormat,
        typer.Option("--format", help="text: one translation a line | jsonl: source, translations and scores."),
    ] = OutFormat.text,
    alignments: Annotated[
        str | None,
        typer.Option(
            "--alignments",
            metavar="FILE",
            help="Write each line's attention (target x source subwords) and word pairs as JSONL, a record a line.",
        ),
    ] = None,
    replace_unk: Annotated[
        bool, typer.Option("--replace-unk", help="Replace each unknown target word by its most-attended source word.")
    ] = False,
    plot: Annotated[
        str | None,
        typer.Option("--plot", metavar="DIR", help="Draw each line's attention as DIR/line-N.png (needs matplotlib)."),
    ] = None,
    chunk_lines: c.ChunkLinesOpt = 1024,
    shard: c.ShardOpt = "",
    encoding_errors: c.EncodingErrorsOpt = c.EncodingErrors.strict,
    device: c.DeviceOpt = c.Device.auto,
    threads: c.ThreadsOpt = 0,
    quantize: c.QuantizeOpt = c.Quantize.auto,
    quiet: c.QuietOpt = False,
) -> None:
    """Translate: exactly one output line per input line, in input order; an empty line gives
    an empty translation. Sentences are batched by length internally."""
    from nlpkit.tasks.translate import search_config

    if n_best > 1 and fmt is not OutFormat.jsonl:
        raise c.fail("--n-best above 1 needs --format jsonl (one record a line, with every hypothesis)")
    search = dict(beam=beam, length_penalty=length_penalty, n_best=n_best, max_length_ratio=max_length_ratio)
    search.update(
        coverage_penalty=coverage_penalty,
        max_src_len=max_src_len,
        batch_size=batch_size,
        alignments=bool(alignments or plot),
    )
    search_config(**search)  # bad search options fail before the model is read
    search["replace_unk"] = replace_unk
    plot_dir = _plot_dir(plot)
    model = c.load(model_path, "translate", device, threads, quiet, quantize)
    try:
        align_file = open(alignments, "w", encoding="utf-8") if alignments else None  # noqa: SIM115
    except OSError as exc:
        raise c.fail(f"{alignments}: cannot write the alignments ({exc.strerror})") from None
    cut = 0
    try:
        chunks = c.input_chunks(inputs, chunk_lines, encoding_errors, shard)
        found_all = (r for chunk in chunks for r in model.predict(chunk, **search, chunk_size=chunk_lines))
        for number, found in enumerate(found_all, start=1):
            cut += found["truncated"]
            if fmt is OutFormat.text:
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
        c.warn(f"{cut:,} line(s) longer than --max-src-len {max_src_len} tokens were cut")


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


@app.command("eval")
def evaluate(
    model_path: c.ModelArg,
    src: Annotated[str, typer.Option("--src", help="Source sentences, one a line.")],
    ref: Annotated[str, typer.Option("--ref", help="Reference translations, line-aligned with --src.")],
    beam: BeamOpt = 5,
    length_penalty: LengthPenaltyOpt = 0.6,
    coverage_penalty: CoveragePenaltyOpt = 0.0,
    sweep: Annotated[
        str,
        typer.Option(
            "--length-penalty-sweep",
            metavar="A,B,...",
            help="Score once per length penalty (e.g. 0,0.3,0.6,1.0) and name the best: choose it on a validation set.",
        ),
    ] = "",
    max_length_ratio: MaxRatioOpt = 2.0,
    max_src_len: MaxSrcLenOpt = 256,
    batch_size: PredictBatchOpt = 64,
    fmt: c.EvalFormatOpt = c.EvalFormat.table,
    hypotheses: Annotated[
        str | None, typer.Option("--hypotheses", metavar="FILE", help="Also write the translations, one a line.")
    ] = None,
    lowercase: Annotated[bool, typer.Option("--lowercase", help="Also a lower-cased BLEU (the variant).")] = False,
    tokenize: Annotated[
        Tokenize | None,
        typer.Option("--tokenize", help="Also a BLEU with this sacreBLEU tokenizer (none: text tokenized already)."),
    ] = None,
    encoding_errors: c.EncodingErrorsOpt = c.EncodingErrors.strict,
    device: c.DeviceOpt = c.Device.auto,
    threads: c.ThreadsOpt = 0,
    quantize: c.QuantizeOpt = c.Quantize.auto,
    quiet: c.QuietOpt = False,
) -> None:
    """Translate --src and score against --ref with sacreBLEU (BLEU and chrF, detokenized, cased),
    printing both signatures; --lowercase/--tokenize add a variant BLEU for comparison with
    lower-cased or tokenized figures."""
    alphas = _penalties(sweep) if sweep else None  # a bad list fails before the model loads
    model = c.load(model_path, "translate", device, threads, quiet, quantize)
    if alphas is not None:
        found = model.sweep_length_penalty(
            (src, ref), alphas, beam=beam, coverage_penalty=coverage_penalty, max_length_ratio=max_length_ratio,
            max_src_len=max_src_len,
            batch_size=batch_size, hypotheses=hypotheses, encoding_errors=encoding_errors.value, lowercase=lowercase,
            tokenize=tokenize.value if tokenize else None,
        )  # fmt: skip
        coverage = f", coverage penalty {coverage_penalty:g}" if coverage_penalty else ""
        _show_sweep(found, fmt, f"{model_path} on {src}, beam {beam}{coverage}")
        return
    search = dict(
        beam=beam, length_penalty=length_penalty, coverage_penalty=coverage_penalty, max_length_ratio=max_length_ratio
    )
    scores = model.evaluate(
        (src, ref), **search, max_src_len=max_src_len, batch_size=batch_size, hypotheses=hypotheses,
        encoding_errors=encoding_errors.value, lowercase=lowercase, tokenize=tokenize.value if tokenize else None,
    )  # fmt: skip
    if fmt is c.EvalFormat.json:
        typer.echo(json.dumps(scores, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{model_path} on {src}", show_header=False, title_justify="left")
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
    search_text = f"beam {beam}" + (f", coverage penalty {coverage_penalty:g}" if coverage_penalty else "")
    table.add_row("sentences", f"{scores['sentences']:,} ({scores['sentences_per_s']:,} / s, {search_text})")
    Console(highlight=False, width=200).print(table)


def _penalties(text: str) -> list[float]:
    from nlpkit.errors import NlpkitError

    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(not v >= 0 for v in values):
        raise NlpkitError(f"--length-penalty-sweep: expected numbers >= 0 separated by commas, got {text!r}")
    return values


def _show_sweep(found: dict, fmt, title: str) -> None:
    if fmt is c.EvalFormat.json:
        typer.echo(json.dumps(found, indent=2))
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
