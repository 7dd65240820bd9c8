"""`nlpkit lm train|eval|score`: language models."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated

import typer

from nlpkit.cli import common as c

app = typer.Typer(
    help="Language models: train, evaluate perplexity, score lines.", no_args_is_help=True, rich_markup_mode=None
)


class ScoreFormat(str, Enum):
    tsv = "tsv"
    jsonl = "jsonl"


class InputFormat(str, Enum):
    auto = "auto"
    text = "text"
    jsonl = "jsonl"


InputFormatOpt = Annotated[
    InputFormat, typer.Option("--input-format", help="auto (JSONL for *.jsonl) | text | jsonl.", rich_help_panel="Data")
]
TextFieldOpt = Annotated[
    str, typer.Option("--text-field", help="JSONL field or dataset column holding the text.", rich_help_panel="Data")
]


@app.command()
def train(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(help="Training text files ('-' for stdin); or use --dataset.", show_default=False),
    ] = None,
    out: Annotated[str, typer.Option("--out", "-o", help="Model file to write.")] = "lm.nlpk",
    valid: Annotated[
        list[str] | None, typer.Option("--valid", help="Validation text file(s).", rich_help_panel="Data")
    ] = None,
    valid_fraction: Annotated[
        float,
        typer.Option(
            "--valid-fraction",
            min=0.0,
            max=0.5,
            help="Without --valid: hold out this last share of the training tokens.",
            rich_help_panel="Data",
        ),
    ] = 0.0,
    dataset: c.DatasetOpt = None,
    dataset_config: c.DatasetConfigOpt = None,
    split: c.SplitOpt = "train",
    valid_split: c.ValidSplitOpt = None,
    text_field: TextFieldOpt = "text",
    input_format: InputFormatOpt = InputFormat.auto,
    encoding_errors: c.EncodingErrorsOpt = c.EncodingErrors.strict,
    tokenizer: c.TokenizerOpt = "char",
    min_freq: c.MinFreqOpt = 1,
    encoder: c.EncoderOpt = "lstm",
    layers: c.LayersOpt = 2,
    hidden: c.HiddenOpt = 256,
    embed: c.EmbedOpt = 0,
    dropout: c.DropoutOpt = 0.1,
    heads: c.HeadsOpt = 4,
    positions: c.PositionsOpt = "learned",
    tie_weights: Annotated[
        bool,
        typer.Option("--tie-weights", help="Share the input embedding with the output layer.", rich_help_panel="Model"),
    ] = False,
    adaptive_softmax: Annotated[
        str,
        typer.Option(
            "--adaptive-softmax",
            metavar="CUTOFFS",
            help="Adaptive softmax with these vocabulary cutoffs, e.g. 2000,6000 (word/subword models; much faster output layer).",
            rich_help_panel="Model",
        ),
    ] = "",
    context: Annotated[
        int,
        typer.Option(
            "--context",
            "--bptt",
            min=2,
            help="BPTT length (recurrent) or context window (Transformer).",
            rich_help_panel="Model",
        ),
    ] = 128,
    epochs: c.EpochsOpt = 0,
    max_steps: c.MaxStepsOpt = 0,
    time_budget: c.TimeBudgetOpt = "",
    batch_size: c.BatchOpt = 32,
    lr: c.LrOpt = 0.0,
    optimizer: c.OptimizerOpt = "adamw",
    schedule: c.ScheduleOpt = "cosine",
    warmup: c.WarmupOpt = 0,
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
    """Train a language model (character, word or subword level) and write it to --out."""
    import torch

    from nlpkit.cli import training_run as tr
    from nlpkit.data import readers
    from nlpkit.data.streams import token_stream
    from nlpkit.device import resolve_device
    from nlpkit.encoders import EncoderConfig
    from nlpkit.modelfile import load, versions
    from nlpkit.tasks import language_model as lm
    from nlpkit.text.tokenizers import train_tokenizer

    if not inputs and not dataset:
        raise c.fail("give training text files, '-' for stdin, or --dataset")
    config = tr.train_config(
        optimizer=optimizer,
        lr=lr,
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

    # Data.
    errors = encoding_errors.value
    fmt = input_format.value
    if dataset:
        lines = list(readers.dataset_texts(dataset, split, text_field, dataset_config))
        sources = [f"{dataset}:{split}"]
    else:
        lines = readers.read_texts(inputs, input_format=fmt, text_field=text_field, encoding_errors=errors)
        sources = [readers.display_name(p) for p in inputs]
    readers.require_text(lines, ", ".join(sources))
    valid_lines = None
    if valid:
        valid_lines = readers.read_texts(valid, input_format=fmt, text_field=text_field, encoding_errors=errors)
    elif dataset and valid_split:
        valid_lines = list(readers.dataset_texts(dataset, valid_split, text_field, dataset_config))

    # Model and tokenizer: new, or from the checkpoint being resumed.
    ckpt = tr.checkpoint_path(out)
    if resume:
        if not ckpt.exists():
            raise c.fail(f"--resume: no checkpoint {ckpt} (it is written next to --out while training)")
        saved = load(ckpt, task=lm.TASK)
        model, tok = lm.from_modelfile(saved)
        model.train()
        batch_size = saved.meta.get("batch_size", batch_size)  # the data position is counted in batches
        c.info(f"resuming from {ckpt} at step {saved.meta['checkpoint']['step']:,}", quiet)
    else:
        tok = c.library_call(train_tokenizer, tokenizer, lines, min_freq)
        enc = c.library_call(
            EncoderConfig,
            kind=encoder,
            hidden_size=hidden,
            layers=layers,
            dropout=dropout,
            heads=heads,
            positions=positions,
            causal=True,
        )
        cfg = lm.LMConfig(
            vocab_size=tok.vocab_size,
            embed_size=embed or hidden,
            encoder=enc,
            dropout=dropout,
            tie_weights=tie_weights,
            context=context,
            adaptive_cutoffs=parse_cutoffs(adaptive_softmax),
        )
        model = c.library_call(lm.build_model, cfg)
    model.to(dev)

    train_ids = token_stream(tok, lines)
    valid_ids = token_stream(tok, valid_lines) if valid_lines is not None else None
    if valid_ids is None and valid_fraction:
        cut = int(train_ids.numel() * (1 - valid_fraction))
        train_ids, valid_ids = train_ids[:cut], train_ids[cut:]
    if valid_ids is not None and valid_ids.numel() < 4:
        raise c.fail(f"validation text has {valid_ids.numel()} tokens: too little to measure anything")
    fits = train_ids.numel() // (2 * model.config.context)
    if fits < 1:
        raise c.fail(f"{train_ids.numel()} training tokens are too few for a context of {model.config.context}")
    if batch_size > fits:
        c.warn(f"only {train_ids.numel():,} training tokens: batch size lowered from {batch_size} to {fits}")
        batch_size = fits
    task = lm.LMTraining(model, train_ids, valid_ids, batch_size, dev, seed)
    fingerprint = readers.fingerprint(lines, sources)
    trainer = tr.make_trainer(
        task,
        config,
        dev,
        out=out,
        file_meta=lm.to_modelfile(model, tok, {}),
        batch_size=batch_size,
        quiet=quiet,
        resume_from=saved if resume else None,
    )
    c.info(
        f"training {encoder if not resume else model.config.encoder.kind} language model: "
        f"{model_size(model):,} parameters, vocabulary {tok.vocab_size:,}, {train_ids.numel():,} training tokens"
        + (f", {valid_ids.numel():,} validation tokens" if valid_ids is not None else "")
        + f", device {dev}",
        quiet,
    )
    result = tr.run(trainer, out)

    metrics = {"train": result.to_dict()}
    if result.best:
        metrics["valid"] = result.best
    meta = {
        "data": fingerprint,
        "metrics": metrics,
        "training": {**vars(config), "batch_size": batch_size},
        "versions": versions(),
    }
    from nlpkit.modelfile import save

    save(out, lm.to_modelfile(model, tok, meta))
    rows = tr.result_rows(result)
    if "valid_loss" in result.best and tok.kind == "char":
        rows.append(("best valid bits/char", f"{result.best['valid_loss'] / 0.6931471805599453:.4f}"))
    rows.append(("model file", out))
    tr.render_summary("language model training", rows, quiet)
    tr.write_metrics(metrics_out, metrics)


def parse_cutoffs(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",")] if text.strip() else []
    except ValueError:
        raise c.fail(f"--adaptive-softmax: expected cutoffs like 2000,6000, got {text!r}") from None


def model_size(model) -> int:
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


@app.command("eval")
def evaluate(
    model_path: Annotated[str, typer.Argument(metavar="MODEL", help="A language model file (.nlpk).")],
    inputs: Annotated[
        list[str] | None, typer.Argument(help="Text files ('-' or none: stdin).", show_default=False)
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Parallel streams the text is cut into.")] = 10,
    text_field: TextFieldOpt = "text",
    input_format: InputFormatOpt = InputFormat.auto,
    encoding_errors: c.EncodingErrorsOpt = c.EncodingErrors.strict,
    fmt: Annotated[
        ScoreFormat, typer.Option("--format", help="tsv (a table on stderr, figures on stdout) | jsonl.")
    ] = ScoreFormat.tsv,
    device: c.DeviceOpt = c.Device.auto,
) -> None:
    """Perplexity of a text (and bits per character for character models)."""
    from nlpkit.data import readers
    from nlpkit.data.streams import token_stream
    from nlpkit.device import resolve_device
    from nlpkit.modelfile import load
    from nlpkit.tasks import language_model as lm

    dev = resolve_device(device.value)
    model, tok = lm.from_modelfile(load(model_path, task=lm.TASK), dev)
    paths = inputs or ["-"]
    lines = readers.read_texts(
        paths, input_format=input_format.value, text_field=text_field, encoding_errors=encoding_errors.value
    )
    ids = token_stream(tok, lines)
    if ids.numel() < 2:
        raise c.fail(f"{', '.join(readers.display_name(p) for p in paths)}: no text to evaluate")
    result = lm.evaluate(model, ids, batch_size)  # scoring runs under no_grad
    out = {"loss": round(result["loss"], 5), "perplexity": round(result["ppl"], 3), "tokens": result["tokens"]}
    if tok.kind == "char":
        out["bits_per_char"] = round(result["loss"] / 0.6931471805599453, 5)
    if fmt is ScoreFormat.jsonl:
        print(json.dumps(out))
    else:
        print("\t".join(f"{k}={v}" for k, v in out.items()))


@app.command()
def score(
    model_path: Annotated[str, typer.Argument(metavar="MODEL", help="A language model file (.nlpk).")],
    inputs: Annotated[
        list[str] | None, typer.Argument(help="Text files ('-' or none: stdin).", show_default=False)
    ] = None,
    fmt: Annotated[
        ScoreFormat, typer.Option("--format", help="tsv: loglik, tokens, perplexity | jsonl.")
    ] = ScoreFormat.tsv,
    batch_tokens: Annotated[
        int, typer.Option("--batch-tokens", min=1, help="Tokens per batch (memory vs speed).")
    ] = 8192,
    chunk_lines: Annotated[
        int, typer.Option("--chunk-lines", min=1, help="Lines read, sorted by length and scored at a time.")
    ] = 4096,
    encoding_errors: c.EncodingErrorsOpt = c.EncodingErrors.strict,
    device: c.DeviceOpt = c.Device.auto,
) -> None:
    """Log-likelihood (nats), token count and perplexity of each input line, one line out per
    line in, in order. Each line is scored with its line end, as if it started a text."""
    import itertools
    import math

    from nlpkit.data import readers
    from nlpkit.device import resolve_device
    from nlpkit.modelfile import load
    from nlpkit.tasks import language_model as lm

    dev = resolve_device(device.value)
    model, tok = lm.from_modelfile(load(model_path, task=lm.TASK), dev)
    output = c.Output()
    for path in inputs or ["-"]:
        lines = readers.iter_lines(path, encoding_errors.value)
        while chunk := list(itertools.islice(lines, chunk_lines)):
            scores = lm.score_lines(model, tok, chunk, batch_tokens)
            if fmt is ScoreFormat.jsonl:
                rows = [
                    json.dumps({"loglik": round(ll, 4), "tokens": n, "ppl": round(math.exp(-ll / n), 4)})
                    for ll, n in scores
                ]
            else:
                rows = [f"{ll:.4f}\t{n}\t{math.exp(min(-ll / n, 700)):.4f}" for ll, n in scores]
            output.write_lines(rows)
