"""`nlpkit translate train|predict|eval`: sequence-to-sequence translation with attention."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated

import typer

from nlpkit.cli import common as c

app = typer.Typer(
    help="Translation: train a seq2seq model (GRU/LSTM with attention, or a Transformer), "
    "translate stdin or files, score with BLEU and chrF.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


class PairFormat(str, Enum):
    auto = "auto"
    tsv = "tsv"
    jsonl = "jsonl"


class Vocab(str, Enum):
    joint = "joint"
    separate = "separate"


class OutFormat(str, Enum):
    text = "text"
    jsonl = "jsonl"


class EvalFormat(str, Enum):
    table = "table"
    json = "json"


PairFormatOpt = Annotated[
    PairFormat,
    typer.Option(
        "--input-format",
        help="Pair files: tsv (source<TAB>target) or jsonl; auto: by extension (.jsonl/.json, else tsv).",
        rich_help_panel="Data",
    ),
]
SrcFieldOpt = Annotated[
    str, typer.Option("--src-field", help="JSONL/dataset field with the source text.", rich_help_panel="Data")
]
TgtFieldOpt = Annotated[
    str, typer.Option("--tgt-field", help="JSONL/dataset field with the target text.", rich_help_panel="Data")
]
SrcLangOpt = Annotated[
    str | None,
    typer.Option("--src-lang", help="Source language code in {'translation': {...}} records.", rich_help_panel="Data"),
]
TgtLangOpt = Annotated[
    str | None,
    typer.Option("--tgt-lang", help="Target language code in {'translation': {...}} records.", rich_help_panel="Data"),
]
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


def _fields(src_field, tgt_field, src_lang, tgt_lang):
    from nlpkit.data.parallel import Fields

    return Fields(src_field, tgt_field, src_lang, tgt_lang)


def _read(pair_files, src, tgt, input_format, fields, encoding_errors, what):
    from nlpkit.data import parallel

    if src or tgt:
        if not (src and tgt):
            raise c.fail(f"{what}: give both the source and the target file")
        if pair_files:
            raise c.fail(f"{what}: give either pair files or a source and a target file, not both")
        return parallel.read_aligned(src, tgt, encoding_errors.value), [src, tgt]
    pairs = parallel.Pairs()
    for path in pair_files:
        more = parallel.read_pairs(path, fields, input_format.value, encoding_errors.value)
        pairs.src.extend(more.src)
        pairs.tgt.extend(more.tgt)
    return pairs, list(pair_files)


def _load(model_path: str, device):
    from nlpkit.device import resolve_device
    from nlpkit.modelfile import load
    from nlpkit.tasks import translation as tr

    dev = resolve_device(device.value)
    model, toks = tr.from_modelfile(load(model_path, task=tr.TASK), dev)
    return model, toks


def _search_config(beam, length_penalty, n_best, max_length_ratio, max_src_len, batch_size, alignments):
    from nlpkit.tasks.translation import SearchConfig

    return c.library_call(
        SearchConfig,
        beam=beam,
        length_penalty=length_penalty,
        n_best=n_best,
        max_length_ratio=max_length_ratio,
        max_src_len=max_src_len,
        batch_size=batch_size,
        alignments=alignments,
    )


@app.command()
def train(
    pair_files: Annotated[
        list[str] | None,
        typer.Argument(help="Pair files (TSV or JSONL); or use --src/--tgt, or --dataset.", show_default=False),
    ] = None,
    src: Annotated[
        str | None, typer.Option("--src", help="Source sentences, one a line.", rich_help_panel="Data")
    ] = None,
    tgt: Annotated[
        str | None, typer.Option("--tgt", help="Target sentences, line-aligned with --src.", rich_help_panel="Data")
    ] = None,
    valid_src: Annotated[
        str | None, typer.Option("--valid-src", help="Validation source file.", rich_help_panel="Data")
    ] = None,
    valid_tgt: Annotated[
        str | None, typer.Option("--valid-tgt", help="Validation target file.", rich_help_panel="Data")
    ] = None,
    valid: Annotated[
        list[str] | None, typer.Option("--valid", help="Validation pair file(s).", rich_help_panel="Data")
    ] = None,
    out: Annotated[str, typer.Option("--out", "-o", help="Model file to write.")] = "translate.nlpk",
    dataset: c.DatasetOpt = None,
    dataset_config: c.DatasetConfigOpt = None,
    split: c.SplitOpt = "train",
    valid_split: c.ValidSplitOpt = None,
    input_format: PairFormatOpt = PairFormat.auto,
    src_field: SrcFieldOpt = "src",
    tgt_field: TgtFieldOpt = "tgt",
    src_lang: SrcLangOpt = None,
    tgt_lang: TgtLangOpt = None,
    encoding_errors: c.EncodingErrorsOpt = c.EncodingErrors.strict,
    tokenizer: Annotated[
        str,
        typer.Option(
            "--tokenizer", help="bpe:SIZE | unigram:SIZE (sentencepiece) | word[:MAX] | char.", rich_help_panel="Model"
        ),
    ] = "bpe:8000",
    vocab: Annotated[
        Vocab,
        typer.Option(
            "--vocab",
            help="joint: one tokenizer for both languages and one embedding table; separate: one each.",
            rich_help_panel="Model",
        ),
    ] = Vocab.joint,
    max_src_len: Annotated[
        int,
        typer.Option(
            "--max-src-len", min=2, help="Leave out pairs whose source has more tokens.", rich_help_panel="Data"
        ),
    ] = 100,
    max_tgt_len: Annotated[
        int,
        typer.Option(
            "--max-tgt-len", min=2, help="Leave out pairs whose target has more tokens.", rich_help_panel="Data"
        ),
    ] = 100,
    encoder: Annotated[
        str, typer.Option("--encoder", help="gru | lstm (with attention) | transformer.", rich_help_panel="Model")
    ] = "transformer",
    attention: Annotated[
        str,
        typer.Option(
            "--attention", help="bahdanau | luong-dot | luong-general (recurrent models).", rich_help_panel="Model"
        ),
    ] = "bahdanau",
    layers: c.LayersOpt = 3,
    decoder_layers: Annotated[
        int, typer.Option("--decoder-layers", min=0, help="Decoder layers; 0 = as --layers.", rich_help_panel="Model")
    ] = 0,
    hidden: c.HiddenOpt = 256,
    embed: c.EmbedOpt = 0,
    heads: c.HeadsOpt = 4,
    ff_size: Annotated[
        int,
        typer.Option(
            "--ff-size", min=0, help="Transformer feed-forward size; 0 = 4 x --hidden.", rich_help_panel="Model"
        ),
    ] = 0,
    dropout: c.DropoutOpt = 0.1,
    label_smoothing: Annotated[
        float,
        typer.Option(
            "--label-smoothing", min=0.0, max=0.9, help="Label smoothing of the loss.", rich_help_panel="Model"
        ),
    ] = 0.1,
    epochs: c.EpochsOpt = 0,
    max_steps: c.MaxStepsOpt = 0,
    time_budget: c.TimeBudgetOpt = "",
    batch_tokens: Annotated[
        int,
        typer.Option(
            "--batch-tokens",
            min=16,
            help="Tokens per batch (padded; the longer side counts).",
            rich_help_panel="Training",
        ),
    ] = 4096,
    lr: c.LrOpt = 0.0,
    optimizer: c.OptimizerOpt = "adamw",
    schedule: c.ScheduleOpt = "cosine",
    warmup: c.WarmupOpt = 400,
    weight_decay: c.WeightDecayOpt = None,
    clip: c.ClipOpt = 1.0,
    eval_every: c.EvalEveryOpt = 0,
    patience: c.PatienceOpt = 0,
    seed: c.SeedOpt = 0,
    device: c.DeviceOpt = c.Device.auto,
    resume: c.ResumeOpt = False,
    metrics_out: c.MetricsOutOpt = None,
    quiet: c.QuietOpt = False,
) -> None:
    """Train a translation model on sentence pairs and write it to --out. Validation BLEU
    (greedy) chooses the model kept."""
    import torch

    from nlpkit.cli import training_run as trun
    from nlpkit.data import parallel
    from nlpkit.data.readers import fingerprint
    from nlpkit.device import resolve_device
    from nlpkit.encoders import EncoderConfig
    from nlpkit.modelfile import load, save, versions
    from nlpkit.tasks import seq2seq as s2s
    from nlpkit.tasks import translation as tr
    from nlpkit.text.tokenizers import train_tokenizer

    config = trun.train_config(
        optimizer=optimizer,
        lr=lr or (1e-3 if encoder in ("gru", "lstm") else 7e-4),
        weight_decay=weight_decay,
        schedule=schedule,
        warmup=warmup,
        clip=clip,
        epochs=epochs,
        max_steps=max_steps,
        time_budget=time_budget,
        eval_every=eval_every,
        patience=patience,
        seed=seed,
    )
    dev = resolve_device(device.value)
    torch.manual_seed(seed)
    fields = _fields(src_field, tgt_field, src_lang, tgt_lang)

    if dataset:
        if pair_files or src or tgt:
            raise c.fail("give either --dataset or files, not both")
        data = parallel.dataset_pairs(dataset, split, fields, dataset_config)
        sources = [f"{dataset}:{split}"]
    elif pair_files or src or tgt:
        data, sources = _read(pair_files, src, tgt, input_format, fields, encoding_errors, "training data")
    else:
        raise c.fail("give --src and --tgt files, pair files, '-' for a pair stream on stdin, or --dataset")
    if not len(data):
        raise c.fail("training data: no sentence pairs")
    valid_data = None
    if valid or valid_src or valid_tgt:
        valid_data, _ = _read(valid, valid_src, valid_tgt, input_format, fields, encoding_errors, "validation data")
    elif dataset and valid_split:
        valid_data = parallel.dataset_pairs(dataset, valid_split, fields, dataset_config)

    ckpt = trun.checkpoint_path(out)
    if resume:
        if not ckpt.exists():
            raise c.fail(f"--resume: no checkpoint {ckpt} (it is written next to --out while training)")
        saved = load(ckpt, task=tr.TASK)
        model, toks = tr.from_modelfile(saved)
        model.train()
        batch_tokens = saved.meta.get("batch_size", batch_tokens)
        label_smoothing = saved.meta.get("label_smoothing", label_smoothing)
        max_src_len, max_tgt_len = saved.meta.get("length_limits", [max_src_len, max_tgt_len])
        c.info(f"resuming from {ckpt} at step {saved.meta['checkpoint']['step']:,}", quiet)
    else:
        if vocab is Vocab.joint:
            shared = c.library_call(train_tokenizer, tokenizer, data.src + data.tgt)
            toks = tr.Tokenizers(shared, shared)
        else:
            toks = tr.Tokenizers(
                c.library_call(train_tokenizer, tokenizer, data.src),
                c.library_call(train_tokenizer, tokenizer, data.tgt),
            )
        recurrent = encoder in ("gru", "lstm")
        enc = c.library_call(
            EncoderConfig,
            kind=encoder,
            hidden_size=hidden,
            layers=layers,
            bidirectional=recurrent,
            dropout=dropout if (layers > 1 or not recurrent) else 0.0,
            heads=heads,
            ff_size=ff_size,
            positions="sinusoidal",
            causal=False,
        )
        cfg = c.library_call(
            s2s.Seq2SeqConfig,
            src_vocab=toks.src.vocab_size,
            tgt_vocab=toks.tgt.vocab_size,
            shared_vocab=toks.shared,
            embed_size=embed or hidden,
            encoder=enc,
            decoder_layers=decoder_layers or layers,
            decoder_hidden=hidden * 2 if recurrent else hidden,
            attention=attention,
            dropout=dropout,
        )
        model = c.library_call(s2s.build_model, cfg)
    model.to(dev)

    pairs, dropped = tr.encode_pairs(toks, data.src, data.tgt, max_src_len, max_tgt_len)
    if dropped:
        c.warn(
            f"{dropped:,} of {len(data):,} training pairs left out: empty on one side, or longer than "
            f"--max-src-len {max_src_len} / --max-tgt-len {max_tgt_len} tokens"
        )
    if not pairs:
        raise c.fail("training data: no sentence pairs left after length filtering")
    valid_pair = (valid_data.src, valid_data.tgt) if valid_data is not None and len(valid_data) else None
    task = tr.TranslationTraining(
        model, toks, pairs, valid_pair, batch_tokens, dev, label_smoothing=label_smoothing, seed=seed
    )
    extra = {"label_smoothing": label_smoothing, "length_limits": [max_src_len, max_tgt_len]}
    trainer = trun.make_trainer(
        task,
        config,
        dev,
        out=out,
        file_meta=tr.to_modelfile(model, toks, extra),
        batch_size=batch_tokens,
        quiet=quiet,
        resume_from=saved if resume else None,
    )
    c.info(
        f"training {model.config.encoder.kind} translation model"
        + (f" ({model.config.attention} attention)" if model.config.recurrent else "")
        + f": {sum(p.numel() for p in model.parameters()):,} parameters, "
        + (
            f"joint vocabulary {toks.src.vocab_size:,}"
            if toks.shared
            else f"vocabularies {toks.src.vocab_size:,} / {toks.tgt.vocab_size:,}"
        )
        + f", {len(pairs):,} training pairs, {task.steps_per_epoch():,} batches an epoch"
        + (f", {len(valid_pair[0]):,} validation pairs" if valid_pair else "")
        + f", device {dev}",
        quiet,
    )
    result = trun.run(trainer, out)

    metrics = {"train": result.to_dict()}
    if result.best:
        metrics["valid"] = result.best
    meta = {
        **extra,
        "data": {**fingerprint(data.src + data.tgt, sources), "pairs": len(data), "left_out": dropped},
        "metrics": metrics,
        "training": {**vars(config), "batch_tokens": batch_tokens},
        "versions": versions(),
    }
    save(out, tr.to_modelfile(model, toks, meta))
    rows = trun.result_rows(result)
    rows.append(("model file", out))
    trun.render_summary("translation training", rows, quiet)
    trun.write_metrics(metrics_out, metrics)


def _translations(model, toks, lines_iter, search, chunk_lines):
    """(source line, Translation) per input line, in order, a chunk at a time."""
    import itertools

    from nlpkit.tasks.translation import translate

    while chunk := list(itertools.islice(lines_iter, chunk_lines)):
        yield from zip(chunk, translate(model, toks, chunk, search), strict=True)


def _input_lines(inputs, encoding_errors):
    from nlpkit.data.readers import iter_lines

    for path in inputs or ["-"]:
        yield from iter_lines(path, encoding_errors.value)


@app.command()
def predict(
    model_path: Annotated[str, typer.Argument(metavar="MODEL", help="A model file from `nlpkit translate train`.")],
    inputs: Annotated[
        list[str] | None, typer.Argument(help="Source files, one sentence a line ('-' or none: stdin).")
    ] = None,
    beam: BeamOpt = 5,
    length_penalty: LengthPenaltyOpt = 0.6,
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
            help="Write each line's attention weights (target x source subwords) as JSONL, one record a line.",
        ),
    ] = None,
    plot: Annotated[
        str | None,
        typer.Option("--plot", metavar="DIR", help="Draw each line's attention as DIR/line-N.png (needs matplotlib)."),
    ] = None,
    chunk_lines: Annotated[
        int, typer.Option("--chunk-lines", min=1, help="Lines read and translated at a time.")
    ] = 1024,
    encoding_errors: c.EncodingErrorsOpt = c.EncodingErrors.strict,
    device: c.DeviceOpt = c.Device.auto,
) -> None:
    """Translate: exactly one output line per input line, in input order; an empty line gives
    an empty translation. Sentences are batched by length internally."""
    from pathlib import Path

    from nlpkit.tasks.translation import detokenize, pieces

    if n_best > 1 and fmt is not OutFormat.jsonl:
        raise c.fail("--n-best above 1 needs --format jsonl (one record a line, with every hypothesis)")
    if plot:
        from nlpkit.plots import pyplot

        pyplot("--plot")  # a missing matplotlib fails now, not after the first translation
        try:
            Path(plot).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise c.fail(f"{plot}: cannot create the plot folder ({exc.strerror})") from None
    search = _search_config(
        beam, length_penalty, n_best, max_length_ratio, max_src_len, batch_size, bool(alignments or plot)
    )
    model, toks = _load(model_path, device)
    output = c.Output()
    try:
        align_file = open(alignments, "w", encoding="utf-8") if alignments else None  # noqa: SIM115
    except OSError as exc:
        raise c.fail(f"{alignments}: cannot write the alignments ({exc.strerror})") from None
    cut = 0
    try:
        for number, (line, found) in enumerate(
            _translations(model, toks, _input_lines(inputs, encoding_errors), search, chunk_lines), start=1
        ):
            cut += found.cut
            texts = [detokenize(toks.tgt, h.tokens) for h in found.hypotheses]
            if fmt is OutFormat.text:
                output.write_lines([texts[0] if texts else ""])
            else:
                hyps = [{"text": t, "score": round(h.score, 4)} for t, h in zip(texts, found.hypotheses, strict=True)]
                output.write_lines([json.dumps({"source": line, "translations": hyps}, ensure_ascii=False)])
            if align_file is not None or plot:
                record = _alignment_record(number, found, toks, pieces)
                if align_file is not None:
                    align_file.write(json.dumps(record, ensure_ascii=False) + "\n")
                if plot and record["attention"]:
                    from nlpkit.plots import attention_heatmap

                    attention_heatmap(
                        record["attention"], record["source"], record["target"], Path(plot) / f"line-{number:06d}.png"
                    )
    finally:
        if align_file is not None:
            align_file.close()
    if cut:
        c.warn(f"{cut:,} line(s) longer than --max-src-len {max_src_len} tokens were cut")


def _alignment_record(number: int, found, toks, pieces) -> dict:
    """The best hypothesis's attention: rows are target tokens (and the end token when the
    translation ended by itself), columns source tokens (and the source end token)."""
    if not found.hypotheses or found.hypotheses[0].attention is None:
        return {"line": number, "source": [], "target": [], "attention": []}
    best = found.hypotheses[0]
    width = len(found.source_ids)  # the batch's padding columns are dropped
    attention = best.attention[:, :width].float().tolist()
    target = pieces(toks.tgt, best.tokens) + ["</s>"] * (len(attention) - len(best.tokens))
    source = pieces(toks.src, found.source_ids[:-1]) + ["</s>"]
    return {
        "line": number,
        "source": source,
        "target": target,
        "attention": [[round(x, 4) for x in row] for row in attention],
    }


@app.command("eval")
def evaluate(
    model_path: Annotated[str, typer.Argument(metavar="MODEL", help="A model file from `nlpkit translate train`.")],
    src: Annotated[str, typer.Option("--src", help="Source sentences, one a line.")],
    ref: Annotated[str, typer.Option("--ref", help="Reference translations, line-aligned with --src.")],
    beam: BeamOpt = 5,
    length_penalty: LengthPenaltyOpt = 0.6,
    max_length_ratio: MaxRatioOpt = 2.0,
    max_src_len: MaxSrcLenOpt = 256,
    batch_size: PredictBatchOpt = 64,
    fmt: Annotated[EvalFormat, typer.Option("--format", help="table | json.")] = EvalFormat.table,
    hypotheses: Annotated[
        str | None, typer.Option("--hypotheses", metavar="FILE", help="Also write the translations, one a line.")
    ] = None,
    encoding_errors: c.EncodingErrorsOpt = c.EncodingErrors.strict,
    device: c.DeviceOpt = c.Device.auto,
) -> None:
    """Translate --src and score against --ref with sacreBLEU (BLEU and chrF, detokenized, cased),
    printing both signatures."""
    import time

    from nlpkit.data.parallel import read_aligned
    from nlpkit.metrics import translation_scores
    from nlpkit.tasks.translation import detokenize, translate

    pairs = read_aligned(src, ref, encoding_errors.value)
    search = _search_config(beam, length_penalty, 1, max_length_ratio, max_src_len, batch_size, False)
    model, toks = _load(model_path, device)
    t0 = time.perf_counter()
    found = translate(model, toks, pairs.src, search)
    seconds = time.perf_counter() - t0
    hyps = [detokenize(toks.tgt, f.hypotheses[0].tokens) if f.hypotheses else "" for f in found]
    if hypotheses:
        try:
            with open(hypotheses, "w", encoding="utf-8") as f:
                f.writelines(h + "\n" for h in hyps)
        except OSError as exc:
            raise c.fail(f"{hypotheses}: cannot write ({exc.strerror})") from None
    scores = translation_scores(hyps, pairs.tgt)
    scores.update(
        {"beam": beam, "seconds": round(seconds, 2), "sentences_per_s": round(len(hyps) / max(seconds, 1e-9), 1)}
    )
    cut = sum(f.cut for f in found)
    if cut:
        c.warn(f"{cut:,} line(s) longer than --max-src-len {max_src_len} tokens were cut")
    if fmt is EvalFormat.json:
        typer.echo(json.dumps(scores, indent=2))
        return
    from rich.table import Table

    table = Table(title=f"{model_path} on {src}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("BLEU", f"{scores['bleu']:.2f}")
    table.add_row("chrF", f"{scores['chrf']:.2f}")
    table.add_row("BLEU detail", scores["bleu_detail"])
    table.add_row("BLEU signature", scores["bleu_signature"])
    table.add_row("chrF signature", scores["chrf_signature"])
    table.add_row("sentences", f"{len(hyps):,} ({scores['sentences_per_s']:,} / s, beam {beam})")
    from rich.console import Console

    Console(highlight=False, width=200).print(table)
