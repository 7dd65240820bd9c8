"""`nlpkit sentiment train|predict|eval`: text classification (sentiment or any other labels)."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated

import typer

from nlpkit.cli import common as c

app = typer.Typer(
    help="Sentiment (text) classification: train, predict labels with probabilities, evaluate.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


class InputFormat(str, Enum):
    auto = "auto"
    tsv = "tsv"
    csv = "csv"
    label_first = "label-first"
    fasttext = "fasttext"
    jsonl = "jsonl"


class PredictFormat(str, Enum):
    tsv = "tsv"
    jsonl = "jsonl"


class EvalFormat(str, Enum):
    table = "table"
    json = "json"


class ClassWeights(str, Enum):
    none = "none"
    balanced = "balanced"


InputFormatOpt = Annotated[
    InputFormat,
    typer.Option(
        "--input-format",
        help="auto: by extension (.tsv .csv .jsonl), else FastText if lines start with __label__, "
        "else TSV if they hold a tab, else 'label text' lines (label-first, as in SST-2).",
        rich_help_panel="Data",
    ),
]
TextColumnOpt = Annotated[
    str,
    typer.Option(
        "--text-column",
        help="Column (TSV/CSV header name or JSON field) holding the text; a 1-based number for a file without a header.",
        rich_help_panel="Data",
    ),
]
LabelColumnOpt = Annotated[
    str,
    typer.Option(
        "--label-column",
        help="Column holding the label; a 1-based number for a file without a header.",
        rich_help_panel="Data",
    ),
]
SkipBadOpt = Annotated[
    bool,
    typer.Option(
        "--skip-bad", help="Skip rows with no label or no text (counted) instead of stopping.", rich_help_panel="Data"
    ),
]


def read_examples(paths, input_format, text_column, label_column, skip_bad, encoding_errors, what: str):
    from nlpkit.data.labeled import Columns, read_labeled

    data = read_labeled(
        paths,
        input_format=input_format.value,
        columns=Columns(text_column, label_column),
        skip_bad=skip_bad,
        encoding_errors=encoding_errors.value,
    )
    if data.skipped:
        c.warn(f"{what}: skipped {data.skipped:,} row(s) with no label or no text")
    if not len(data):
        raise c.fail(f"{', '.join(paths)}: no labeled examples")
    return data


def encode_all(tok, texts: list[str], max_len: int) -> tuple[list[list[int]], int]:
    from nlpkit.tasks.classifier import encode

    encoded, cut = [], 0
    for text in texts:
        ids, was_cut = encode(tok, text, max_len)
        encoded.append(ids)
        cut += was_cut
    return encoded, cut


def label_ids(data, labels: list[str]) -> list[int]:
    index = {label: i for i, label in enumerate(labels)}
    out = []
    for label, where in zip(data.labels, data.where, strict=True):
        if label not in index:
            shown = ", ".join(labels[:10]) + (", ..." if len(labels) > 10 else "")
            raise c.fail(f"{where}: label {label!r} was not seen in training (the model knows: {shown})")
        out.append(index[label])
    return out


@app.command()
def train(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(help="Labeled training files ('-' for stdin); or use --dataset.", show_default=False),
    ] = None,
    out: Annotated[str, typer.Option("--out", "-o", help="Model file to write.")] = "sentiment.nlpk",
    valid: Annotated[
        list[str] | None, typer.Option("--valid", help="Labeled validation file(s).", rich_help_panel="Data")
    ] = None,
    valid_fraction: Annotated[
        float,
        typer.Option(
            "--valid-fraction",
            min=0.0,
            max=0.5,
            help="Without --valid: hold out this share of the training examples (a seeded random choice).",
            rich_help_panel="Data",
        ),
    ] = 0.0,
    dataset: c.DatasetOpt = None,
    dataset_config: c.DatasetConfigOpt = None,
    split: c.SplitOpt = "train",
    valid_split: c.ValidSplitOpt = None,
    input_format: InputFormatOpt = InputFormat.auto,
    text_column: TextColumnOpt = "text",
    label_column: LabelColumnOpt = "label",
    skip_bad: SkipBadOpt = False,
    encoding_errors: c.EncodingErrorsOpt = c.EncodingErrors.strict,
    tokenizer: c.TokenizerOpt = "word",
    min_freq: c.MinFreqOpt = 1,
    encoder: c.EncoderOpt = "lstm",
    layers: c.LayersOpt = 1,
    hidden: c.HiddenOpt = 256,
    embed: c.EmbedOpt = 0,
    bidirectional: Annotated[
        bool | None,
        typer.Option(
            "--bidirectional/--unidirectional",
            help="Read both ways (recurrent encoders; default: bidirectional, except with --init-from).",
            rich_help_panel="Model",
            show_default=False,
        ),
    ] = None,
    dropout: c.DropoutOpt = 0.3,
    word_dropout: Annotated[
        float,
        typer.Option(
            "--word-dropout",
            min=0.0,
            max=0.9,
            help="Share of training tokens replaced by <unk>.",
            rich_help_panel="Model",
        ),
    ] = 0.1,
    pooling: Annotated[
        str,
        typer.Option(
            "--pooling",
            help="last | mean | max | attention, or a comma list to concatenate (e.g. last,max,mean).",
            rich_help_panel="Model",
        ),
    ] = "max",
    heads: c.HeadsOpt = 4,
    positions: c.PositionsOpt = "learned",
    max_len: Annotated[
        int,
        typer.Option(
            "--max-len", min=2, help="Tokens read per text; longer texts are cut (counted).", rich_help_panel="Model"
        ),
    ] = 512,
    class_weights: Annotated[
        ClassWeights,
        typer.Option(
            "--class-weights", help="balanced: weigh classes inversely to their frequency.", rich_help_panel="Model"
        ),
    ] = ClassWeights.none,
    init_from: Annotated[
        str | None,
        typer.Option(
            "--init-from",
            metavar="LM.nlpk",
            help="Start the embedding, encoder and tokenizer from a language model (nlpkit lm train); "
            "model options other than --dropout, --word-dropout, --pooling and --max-len come from it.",
            rich_help_panel="Transfer",
        ),
    ] = None,
    lr_decay: Annotated[
        float | None,
        typer.Option(
            "--lr-decay",
            min=0.0,
            max=1.0,
            help="Layer-wise learning rates: each layer below the output layer learns this much slower than "
            "the one above (default 0.5 with --init-from, else 1: one rate).",
            rich_help_panel="Transfer",
            show_default=False,
        ),
    ] = None,
    gradual_unfreeze: Annotated[
        bool,
        typer.Option(
            "--gradual-unfreeze",
            help="Train only the output layer at first; the layers below join one by one over the first half of training.",
            rich_help_panel="Transfer",
        ),
    ] = False,
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
    """Train a text classifier on labeled texts (any label strings, two or more classes) and
    write it to --out."""
    import torch

    from nlpkit.cli import training_run as tr
    from nlpkit.data import labeled as lb
    from nlpkit.data.readers import fingerprint
    from nlpkit.device import resolve_device
    from nlpkit.encoders import EncoderConfig
    from nlpkit.modelfile import load, save, versions
    from nlpkit.tasks import classifier as cl
    from nlpkit.tasks import language_model as lm
    from nlpkit.text.tokenizers import train_tokenizer

    if not inputs and not dataset:
        raise c.fail("give labeled training files, '-' for stdin, or --dataset")
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
    columns = lb.Columns(text_column, label_column)
    if dataset:
        data = lb.dataset_labeled(dataset, split, columns, dataset_config, skip_bad)
        sources = [f"{dataset}:{split}"]
        if not len(data):
            raise c.fail(f"dataset {dataset!r} split {split!r}: no labeled examples")
    else:
        data = read_examples(
            inputs, input_format, text_column, label_column, skip_bad, encoding_errors, "training data"
        )
        sources = list(inputs)
    valid_data = None
    if valid:
        valid_data = read_examples(
            valid, input_format, text_column, label_column, skip_bad, encoding_errors, "validation data"
        )
    elif dataset and valid_split:
        valid_data = lb.dataset_labeled(dataset, valid_split, columns, dataset_config, skip_bad)
    elif valid_fraction:
        data, valid_data = hold_out(data, valid_fraction, seed)

    # Model and tokenizer: from the checkpoint being resumed, a language model, or new.
    ckpt = tr.checkpoint_path(out)
    transfer = {}
    if resume:
        if not ckpt.exists():
            raise c.fail(f"--resume: no checkpoint {ckpt} (it is written next to --out while training)")
        saved = load(ckpt, task=cl.TASK)
        model, tok = cl.from_modelfile(saved)
        model.train()
        batch_size = saved.meta.get("batch_size", batch_size)
        transfer = saved.meta.get("transfer", {})
        lr_decay = transfer.get("lr_decay", 1.0)
        gradual_unfreeze = transfer.get("gradual_unfreeze", False)
        labels = model.config.labels
        c.info(f"resuming from {ckpt} at step {saved.meta['checkpoint']['step']:,}", quiet)
    else:
        labels = sorted(set(data.labels))
        pools = [p.strip() for p in pooling.split(",") if p.strip()]
        if init_from:
            lm_model, tok = lm.from_modelfile(load(init_from, task=lm.TASK))
            if bidirectional:
                raise c.fail("--bidirectional does not combine with --init-from: a language model reads one way")
            enc = EncoderConfig.from_dict(lm_model.config.encoder.to_dict())
            enc.dropout = dropout if enc.is_recurrent else enc.dropout
            embed_size = lm_model.config.embed_size
            if not enc.is_recurrent and enc.positions == "learned":
                max_len = min(max_len, enc.max_len - 1)  # the positions the language model learned
            transfer = {"init_from": init_from, "lm_data": load(init_from).meta.get("data", {})}
        else:
            lm_model = None
            tok = c.library_call(train_tokenizer, tokenizer, data.texts, min_freq)
            recurrent = encoder in ("rnn", "lstm", "gru")
            enc = c.library_call(
                EncoderConfig,
                kind=encoder,
                hidden_size=hidden,
                layers=layers,
                bidirectional=recurrent if bidirectional is None else bidirectional,
                dropout=dropout if layers > 1 or not recurrent else 0.0,
                heads=heads,
                positions=positions,
                causal=False,
            )
            embed_size = embed or hidden
        cfg = c.library_call(
            cl.ClassifierConfig,
            vocab_size=tok.vocab_size,
            labels=labels,
            embed_size=embed_size,
            encoder=enc,
            pooling=pools,
            dropout=dropout,
            word_dropout=word_dropout,
            max_len=max_len,
        )
        model = c.library_call(cl.build_model, cfg)
        if lm_model is not None:
            cl.init_from_lm(model, lm_model)
        if lr_decay is None:
            lr_decay = 0.5 if init_from else 1.0
        transfer.update({"lr_decay": lr_decay, "gradual_unfreeze": gradual_unfreeze})
    model.to(dev)

    train_ids, cut = encode_all(tok, data.texts, model.config.max_len)
    train_labels = label_ids(data, labels)
    valid_pair = None
    if valid_data is not None:
        valid_ids, valid_cut = encode_all(tok, valid_data.texts, model.config.max_len)
        cut += valid_cut
        valid_pair = (valid_ids, label_ids(valid_data, labels))
    if cut:
        c.warn(f"{cut:,} text(s) longer than --max-len {model.config.max_len} tokens were cut")
    weights = cl.balanced_weights(train_labels, len(labels)) if class_weights is ClassWeights.balanced else None
    task = cl.ClassifierTraining(
        model,
        (train_ids, train_labels),
        valid_pair,
        batch_size,
        dev,
        seed=seed,
        class_weights=weights,
        lr_decay=lr_decay,
        gradual_unfreeze=gradual_unfreeze,
    )
    trainer = tr.make_trainer(
        task,
        config,
        dev,
        out=out,
        file_meta=cl.to_modelfile(model, tok, {"transfer": transfer}),
        batch_size=batch_size,
        quiet=quiet,
        resume_from=saved if resume else None,
    )
    counts = {label: data.labels.count(label) for label in labels}
    c.info(
        f"training {model.config.encoder.kind} classifier: {sum(p.numel() for p in model.parameters()):,} parameters, "
        f"vocabulary {tok.vocab_size:,}, {len(train_ids):,} training examples ("
        + ", ".join(f"{k} {v:,}" for k, v in counts.items())
        + ")"
        + (f", {len(valid_pair[0]):,} validation examples" if valid_pair else "")
        + (f", from {init_from}" if init_from else "")
        + f", device {dev}",
        quiet,
    )
    result = tr.run(trainer, out)

    metrics = {"train": result.to_dict()}
    if result.best:
        metrics["valid"] = result.best
    meta = {
        "data": {**fingerprint(data.texts, sources), "labels": counts, "skipped": data.skipped},
        "metrics": metrics,
        "training": {**vars(config), "batch_size": batch_size, "class_weights": class_weights.value},
        "transfer": transfer,
        "versions": versions(),
    }
    save(out, cl.to_modelfile(model, tok, meta))
    rows = tr.result_rows(result)
    rows.append(("labels", ", ".join(labels)))
    if data.skipped:
        rows.append(("skipped rows", f"{data.skipped:,}"))
    rows.append(("model file", out))
    tr.render_summary("classifier training", rows, quiet)
    tr.write_metrics(metrics_out, metrics)


def hold_out(data, fraction: float, seed: int):
    """Split off a seeded random share of the examples for validation."""
    import torch

    from nlpkit.data.labeled import Labeled

    n = len(data)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    take = max(1, int(n * fraction))
    held = set(order[:take])
    train, valid = Labeled(skipped=data.skipped), Labeled()
    for i in range(n):
        (valid if i in held else train).add(data.texts[i], data.labels[i], data.where[i])
    if not len(train):
        raise c.fail("--valid-fraction leaves no training examples")
    return train, valid


@app.command()
def predict(
    model_path: Annotated[str, typer.Argument(metavar="MODEL", help="A classifier file (.nlpk).")],
    inputs: Annotated[
        list[str] | None, typer.Argument(help="Text files, one text per line ('-' or none: stdin).", show_default=False)
    ] = None,
    fmt: Annotated[
        PredictFormat,
        typer.Option("--format", help='tsv: label<TAB>probability | jsonl: {"label", "prob"[, "probs"]}.'),
    ] = PredictFormat.tsv,
    all_probs: Annotated[
        bool,
        typer.Option("--all-probs", help="Also give every label's probability (TSV: extra label=prob columns)."),
    ] = False,
    batch_tokens: Annotated[
        int, typer.Option("--batch-tokens", min=1, help="Tokens per batch (memory vs speed).")
    ] = 16384,
    chunk_lines: Annotated[
        int, typer.Option("--chunk-lines", min=1, help="Lines read, sorted by length and predicted at a time.")
    ] = 4096,
    encoding_errors: c.EncodingErrorsOpt = c.EncodingErrors.strict,
    device: c.DeviceOpt = c.Device.auto,
) -> None:
    """Label each input line: exactly one output line per input line, in order (an empty line
    is classified too). Input is read in chunks, so memory stays flat on large files."""
    import itertools

    from nlpkit.data import readers
    from nlpkit.device import autocast, resolve_device
    from nlpkit.modelfile import load
    from nlpkit.tasks import classifier as cl

    dev = resolve_device(device.value)
    model, tok = cl.from_modelfile(load(model_path, task=cl.TASK), dev)
    labels = model.config.labels
    output = c.Output()
    cut_total = 0
    for path in inputs or ["-"]:
        lines = readers.iter_lines(path, encoding_errors.value)
        while chunk := list(itertools.islice(lines, chunk_lines)):
            encoded, cut = encode_all(tok, chunk, model.config.max_len)
            cut_total += cut
            with autocast(dev):
                probs = cl.predict_proba(model, encoded, batch_tokens)
            best_p, best_i = probs.max(-1)
            rows = []
            for row, (p, i) in enumerate(zip(best_p.tolist(), best_i.tolist(), strict=True)):
                if fmt is PredictFormat.jsonl:
                    record = {"label": labels[i], "prob": round(p, 5)}
                    if all_probs:
                        record["probs"] = {lab: round(q, 5) for lab, q in zip(labels, probs[row].tolist(), strict=True)}
                    rows.append(json.dumps(record, ensure_ascii=False))
                else:
                    cells = [labels[i], f"{p:.5f}"]
                    if all_probs:
                        cells += [f"{lab}={q:.5f}" for lab, q in zip(labels, probs[row].tolist(), strict=True)]
                    rows.append("\t".join(cells))
            output.write_lines(rows)
    if cut_total:
        c.warn(
            f"{cut_total:,} line(s) longer than the model's {model.config.max_len} tokens were classified from their start"
        )


@app.command("eval")
def evaluate(
    model_path: Annotated[str, typer.Argument(metavar="MODEL", help="A classifier file (.nlpk).")],
    inputs: Annotated[list[str], typer.Argument(metavar="TEST", help="Labeled test file(s), in a training format.")],
    fmt: Annotated[EvalFormat, typer.Option("--format", help="table | json.")] = EvalFormat.table,
    input_format: InputFormatOpt = InputFormat.auto,
    text_column: TextColumnOpt = "text",
    label_column: LabelColumnOpt = "label",
    skip_bad: SkipBadOpt = False,
    encoding_errors: c.EncodingErrorsOpt = c.EncodingErrors.strict,
    device: c.DeviceOpt = c.Device.auto,
) -> None:
    """Accuracy, per-class precision/recall/F1, macro averages and the confusion matrix."""
    from nlpkit.device import autocast, resolve_device
    from nlpkit.modelfile import load
    from nlpkit.tasks import classifier as cl

    dev = resolve_device(device.value)
    model, tok = cl.from_modelfile(load(model_path, task=cl.TASK), dev)
    labels = model.config.labels
    data = read_examples(inputs, input_format, text_column, label_column, skip_bad, encoding_errors, "test data")
    gold = label_ids(data, labels)
    encoded, _ = encode_all(tok, data.texts, model.config.max_len)
    with autocast(dev):
        predicted = cl.predict_proba(model, encoded).argmax(-1).tolist()
    scores = cl.classification_scores(gold, predicted, len(labels))
    if fmt is EvalFormat.json:
        scores["labels"] = labels
        scores["per_class"] = dict(zip(labels, scores["per_class"], strict=True))
        print(json.dumps(scores))
        return
    render_scores(scores, labels)


def render_scores(scores: dict, labels: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Console(highlight=False)
    table = Table(title=f"{scores['count']:,} examples: accuracy {100 * scores['accuracy']:.2f}%", title_justify="left")
    for name in ("label", "precision", "recall", "F1", "support"):
        table.add_column(name, justify="left" if name == "label" else "right")
    for label, row in zip(labels, scores["per_class"], strict=True):
        table.add_row(
            label, f"{row['precision']:.4f}", f"{row['recall']:.4f}", f"{row['f1']:.4f}", f"{row['support']:,}"
        )
    table.add_row(
        "macro avg",
        f"{scores['macro_precision']:.4f}",
        f"{scores['macro_recall']:.4f}",
        f"{scores['macro_f1']:.4f}",
        f"{scores['count']:,}",
        style="bold",
    )
    out.print(table)
    confusion = Table(title="confusion matrix (rows: gold, columns: predicted)", title_justify="left")
    confusion.add_column("")
    for label in labels:
        confusion.add_column(label, justify="right")
    for label, row in zip(labels, scores["confusion"], strict=True):
        confusion.add_row(label, *(f"{v:,}" for v in row))
    out.print(confusion)
