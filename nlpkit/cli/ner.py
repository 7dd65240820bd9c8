"""`nlpkit ner train|eval|tag`: named-entity tagging."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated

import typer

from nlpkit.cli import common as c

app = typer.Typer(
    help="Named-entity tagging: train, evaluate with seqeval, tag raw or CoNLL text.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


class InputFormat(str, Enum):
    auto = "auto"
    conll = "conll"
    jsonl = "jsonl"


class Scheme(str, Enum):
    auto = "auto"
    iob1 = "iob1"
    iob2 = "iob2"
    bioes = "bioes"


class TagFormat(str, Enum):
    jsonl = "jsonl"
    conll = "conll"
    inline = "inline"


class TagInput(str, Enum):
    text = "text"
    conll = "conll"


class EvalFormat(str, Enum):
    table = "table"
    json = "json"


InputFormatOpt = Annotated[
    InputFormat,
    typer.Option(
        "--input-format", help="auto (JSONL for *.jsonl, else CoNLL columns) | conll | jsonl.", rich_help_panel="Data"
    ),
]
TokenColumnOpt = Annotated[
    str,
    typer.Option(
        "--token-column",
        help="CoNLL: 1-based column of the token (negative counts from the end); datasets: column name (default tokens).",
        rich_help_panel="Data",
    ),
]
TagColumnOpt = Annotated[
    str,
    typer.Option(
        "--tag-column",
        help="CoNLL: 1-based column of the tag, default the last (-1); datasets: column name (default ner_tags).",
        rich_help_panel="Data",
    ),
]
SchemeOpt = Annotated[
    Scheme,
    typer.Option(
        "--scheme", help="Tag scheme of the data: auto (detected) | iob1 | iob2 | bioes.", rich_help_panel="Data"
    ),
]
StrictOpt = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="An I- tag that continues nothing is an error (default: repaired and counted).",
        rich_help_panel="Data",
    ),
]


def _column(text: str, option: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise c.fail(f"{option}: a CoNLL column is a number (1 = first, -1 = last), got {text!r}") from None
    if value == 0:
        raise c.fail(f"{option}: columns count from 1 (or from -1 at the end)")
    return value


def read_sentences(paths, input_format, token_column, tag_column, encoding_errors):
    from nlpkit.data import conll

    jsonl = [
        p
        for p in paths
        if input_format is InputFormat.jsonl
        or (input_format is InputFormat.auto and p.endswith((".jsonl", ".jsonl.gz")))
    ]
    columns = [p for p in paths if p not in jsonl]
    out = conll.Sentences()
    for part in (
        conll.read_jsonl(jsonl, encoding_errors.value) if jsonl else None,
        conll.read_conll(
            columns,
            _column(token_column or "1", "--token-column"),
            _column(tag_column or "-1", "--tag-column"),
            encoding_errors.value,
        )
        if columns
        else None,
    ):
        if part is not None:
            for tokens, tags, where in zip(part.tokens, part.tags, part.where, strict=True):
                out.add(tokens, tags, where)
    return out


def to_bioes(data, scheme: Scheme, strict: bool, what: str):
    """The sentences' tags in BIOES, the scheme they were in, and how many were repaired."""
    from nlpkit.text.schemes import convert, detect_scheme, split_tag

    for tags, where in zip(data.tags, data.where, strict=True):
        for i, tag in enumerate(tags):
            try:
                split_tag(tag)
            except ValueError as exc:
                raise c.fail(f"{where} (token {i + 1}): {exc}") from None
    source = detect_scheme(data.tags) if scheme is Scheme.auto else scheme.value
    converted, repaired = [], 0
    for tags, where in zip(data.tags, data.where, strict=True):
        bioes, fixed = convert(tags, source, "bioes")
        if fixed and strict:
            raise c.fail(
                f"{where}: an I- or E- tag continues no entity (invalid {source.upper()}; drop --strict to repair)"
            )
        repaired += fixed
        converted.append(bioes)
    if repaired:
        c.warn(
            f"{what}: repaired {repaired:,} tag(s) that continued no entity (read as entity starts, as conlleval does)"
        )
    return converted, source


def drop_empty(data, what: str):
    from nlpkit.data.conll import Sentences

    kept = Sentences()
    for tokens, tags, where in zip(data.tokens, data.tags, data.where, strict=True):
        if tokens:
            kept.add(tokens, tags, where)
    if len(kept) < len(data):
        c.warn(f"{what}: skipped {len(data) - len(kept):,} empty sentence(s)")
    return kept


@app.command()
def train(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(help="Tagged training files (CoNLL columns or JSONL); or use --dataset.", show_default=False),
    ] = None,
    out: Annotated[str, typer.Option("--out", "-o", help="Model file to write.")] = "ner.nlpk",
    valid: Annotated[
        list[str] | None, typer.Option("--valid", help="Tagged validation file(s).", rich_help_panel="Data")
    ] = None,
    dataset: c.DatasetOpt = None,
    dataset_config: c.DatasetConfigOpt = None,
    split: c.SplitOpt = "train",
    valid_split: c.ValidSplitOpt = None,
    input_format: InputFormatOpt = InputFormat.auto,
    token_column: TokenColumnOpt = "",
    tag_column: TagColumnOpt = "",
    scheme: SchemeOpt = Scheme.auto,
    strict: StrictOpt = False,
    encoding_errors: c.EncodingErrorsOpt = c.EncodingErrors.strict,
    min_freq: c.MinFreqOpt = 1,
    encoder: c.EncoderOpt = "lstm",
    layers: c.LayersOpt = 2,
    hidden: c.HiddenOpt = 200,
    embed: Annotated[int, typer.Option("--embed", min=1, help="Word embedding size.", rich_help_panel="Model")] = 100,
    char_features: Annotated[
        str,
        typer.Option(
            "--char-features", help="cnn | lstm | none: a vector per word from its characters.", rich_help_panel="Model"
        ),
    ] = "cnn",
    char_size: Annotated[
        int, typer.Option("--char-size", min=1, help="Character CNN filters or LSTM units.", rich_help_panel="Model")
    ] = 50,
    crf: Annotated[
        bool,
        typer.Option("--crf", help="Decode with a linear-chain CRF (else per-token softmax).", rich_help_panel="Model"),
    ] = False,
    bidirectional: Annotated[
        bool,
        typer.Option(
            "--bidirectional/--unidirectional", help="Read both ways (recurrent encoders).", rich_help_panel="Model"
        ),
    ] = True,
    dropout: c.DropoutOpt = 0.5,
    word_dropout: Annotated[
        float,
        typer.Option(
            "--word-dropout",
            min=0.0,
            max=0.9,
            help="Share of training words replaced by <unk>.",
            rich_help_panel="Model",
        ),
    ] = 0.05,
    heads: c.HeadsOpt = 4,
    positions: c.PositionsOpt = "learned",
    init_from: Annotated[
        str | None,
        typer.Option(
            "--init-from",
            metavar="LM.nlpk",
            help="Start the word embedding and encoder from a word-level language model (nlpkit lm train); "
            "its vocabulary and sizes are used and character features are off.",
            rich_help_panel="Model",
        ),
    ] = None,
    epochs: c.EpochsOpt = 0,
    max_steps: c.MaxStepsOpt = 0,
    time_budget: c.TimeBudgetOpt = "",
    batch_size: c.BatchOpt = 16,
    lr: c.LrOpt = 0.0,
    optimizer: c.OptimizerOpt = "adamw",
    schedule: c.ScheduleOpt = "cosine",
    warmup: c.WarmupOpt = 0,
    weight_decay: c.WeightDecayOpt = None,
    clip: c.ClipOpt = 5.0,
    eval_every: c.EvalEveryOpt = 0,
    patience: c.PatienceOpt = 0,
    seed: c.SeedOpt = 0,
    device: c.DeviceOpt = c.Device.auto,
    resume: c.ResumeOpt = False,
    metrics_out: c.MetricsOutOpt = None,
    quiet: c.QuietOpt = False,
) -> None:
    """Train a named-entity tagger and write it to --out."""
    import torch

    from nlpkit.cli import training_run as tr
    from nlpkit.data import conll
    from nlpkit.data.readers import fingerprint
    from nlpkit.device import resolve_device
    from nlpkit.encoders import EncoderConfig
    from nlpkit.modelfile import load, save, versions
    from nlpkit.tasks import language_model as lm
    from nlpkit.tasks import tagger as tg
    from nlpkit.text.schemes import bioes_tags, split_tag
    from nlpkit.text.tokenizers import VocabTokenizer

    if not inputs and not dataset:
        raise c.fail("give tagged training files, or --dataset")
    config = tr.train_config(
        optimizer=optimizer,
        lr=lr or 2e-3,
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

    if dataset:
        cols = (token_column or "tokens", tag_column or "ner_tags")
        data = conll.dataset_sentences(dataset, split, *cols, dataset_config)
        valid_data = conll.dataset_sentences(dataset, valid_split, *cols, dataset_config) if valid_split else None
        sources = [f"{dataset}:{split}"]
    else:
        data = read_sentences(inputs, input_format, token_column, tag_column, encoding_errors)
        valid_data = read_sentences(valid, input_format, token_column, tag_column, encoding_errors) if valid else None
        sources = list(inputs)
    data = drop_empty(data, "training data")
    if not len(data):
        raise c.fail(f"{', '.join(sources)}: no tagged sentences")
    train_tags, source_scheme = to_bioes(data, scheme, strict, "training data")
    valid_tags = None
    if valid_data is not None:
        valid_data = drop_empty(valid_data, "validation data")
        valid_tags, _ = to_bioes(valid_data, scheme, strict, "validation data")

    ckpt = tr.checkpoint_path(out)
    if resume:
        if not ckpt.exists():
            raise c.fail(f"--resume: no checkpoint {ckpt} (it is written next to --out while training)")
        saved = load(ckpt, task=tg.TASK)
        model, vocab = tg.from_modelfile(saved)
        model.train()
        batch_size = saved.meta.get("batch_size", batch_size)
    else:
        types = sorted({split_tag(t)[1] for tags in train_tags for t in tags} - {""})
        chars = sorted({ch for sent in data.tokens for w in sent for ch in w})
        lm_model = None
        if init_from:
            lm_model, vocab = lm.from_modelfile(load(init_from, task=lm.TASK))
            if vocab.kind != "word":
                raise c.fail(
                    f"--init-from {init_from}: a {vocab.kind} language model; the tagger needs a word-level one"
                )
            enc = EncoderConfig.from_dict(lm_model.config.encoder.to_dict())
            embed, char_features = lm_model.config.embed_size, "none"
        else:
            vocab = VocabTokenizer.train(
                "word", (" ".join(w.lower() for w in sent) for sent in data.tokens), min_freq=min_freq
            )
            recurrent = encoder in ("rnn", "lstm", "gru")
            enc = c.library_call(
                EncoderConfig,
                kind=encoder,
                hidden_size=hidden,
                layers=layers,
                bidirectional=bidirectional and recurrent,
                dropout=dropout if layers > 1 else 0.0,
                heads=heads,
                positions=positions,
                causal=False,
            )
        cfg = c.library_call(
            tg.TaggerConfig,
            vocab_size=vocab.vocab_size,
            tags=bioes_tags(types),
            scheme=source_scheme,
            chars=chars,
            embed_size=embed,
            char_features=char_features,
            char_size=char_size,
            encoder=enc,
            dropout=dropout,
            word_dropout=word_dropout,
            lowercase=not init_from,
            crf=crf,
        )
        model = tg.build_model(cfg)
        if lm_model is not None:
            model.embedding.weight.data.copy_(lm_model.embedding.weight.data)
            model.encoder.load_state_dict(lm_model.encoder.state_dict())
    model.to(dev)

    cfg = model.config
    index = {t: i for i, t in enumerate(cfg.tags)}
    vocab_index, char_index = vocab.index, {ch: i + 2 for i, ch in enumerate(cfg.chars)}
    encoded = [tg.encode_sentence(s, vocab_index, char_index, cfg) for s in data.tokens]
    try:
        gold_ids = [[index[t] for t in tags] for tags in train_tags]
    except KeyError as exc:  # resuming with data that has a type the checkpoint lacks
        raise c.fail(f"training data has tag {exc.args[0]} that the checkpoint's model does not know") from None
    valid_pair = None
    if valid_data is not None:
        valid_pair = ([tg.encode_sentence(s, vocab_index, char_index, cfg) for s in valid_data.tokens], valid_tags)
    task = tg.TaggerTraining(model, (encoded, gold_ids), valid_pair, batch_size, dev, seed=seed)
    trainer = tr.make_trainer(
        task,
        config,
        dev,
        out=out,
        file_meta=tg.to_modelfile(model, vocab, {}),
        batch_size=batch_size,
        quiet=quiet,
        resume_from=saved if resume else None,
    )
    n_entities = sum(t[0] in "BS" for tags in train_tags for t in tags)
    c.info(
        f"training {cfg.encoder.kind} tagger{' with CRF' if cfg.crf else ''}: {sum(p.numel() for p in model.parameters()):,} parameters, "
        f"vocabulary {vocab.vocab_size:,}, {len(encoded):,} sentences ({sum(map(len, data.tokens)):,} tokens, {n_entities:,} entities, "
        f"{source_scheme.upper()})"
        + (f", {len(valid_pair[0]):,} validation sentences" if valid_pair else "")
        + f", device {dev}",
        quiet,
    )
    result = tr.run(trainer, out)
    metrics = {"train": result.to_dict()}
    if result.best:
        metrics["valid"] = result.best
    meta = {
        "data": fingerprint([" ".join(s) for s in data.tokens], sources),
        "metrics": metrics,
        "training": {**vars(config), "batch_size": batch_size},
        "versions": versions(),
    }
    save(out, tg.to_modelfile(model, vocab, meta))
    rows = tr.result_rows(result)
    rows.append(("entity types", ", ".join(sorted({t[2:] for t in cfg.tags if t != "O"}))))
    rows.append(("model file", out))
    tr.render_summary("tagger training", rows, quiet)
    tr.write_metrics(metrics_out, metrics)


def _load(model_path: str, device):
    from nlpkit.device import resolve_device
    from nlpkit.modelfile import load
    from nlpkit.tasks import tagger as tg

    dev = resolve_device(device.value)
    model, vocab = tg.from_modelfile(load(model_path, task=tg.TASK), dev)
    char_index = {ch: i + 2 for i, ch in enumerate(model.config.chars)}
    return model, vocab.index, char_index


@app.command("eval")
def evaluate(
    model_path: Annotated[str, typer.Argument(metavar="MODEL", help="A tagger file (.nlpk).")],
    inputs: Annotated[list[str], typer.Argument(metavar="TEST", help="Tagged test file(s): CoNLL columns or JSONL.")],
    fmt: Annotated[EvalFormat, typer.Option("--format", help="table | json.")] = EvalFormat.table,
    predictions: Annotated[
        str | None,
        typer.Option("--predictions", help="Also write token, gold and predicted tag columns (CoNLL) to this file."),
    ] = None,
    input_format: InputFormatOpt = InputFormat.auto,
    token_column: TokenColumnOpt = "",
    tag_column: TagColumnOpt = "",
    scheme: SchemeOpt = Scheme.auto,
    strict: StrictOpt = False,
    encoding_errors: c.EncodingErrorsOpt = c.EncodingErrors.strict,
    device: c.DeviceOpt = c.Device.auto,
) -> None:
    """seqeval span precision, recall and F1 per entity type, with micro and macro averages."""
    from nlpkit.tasks import tagger as tg
    from nlpkit.text.schemes import convert

    model, vocab_index, char_index = _load(model_path, device)
    cfg = model.config
    data = drop_empty(read_sentences(inputs, input_format, token_column, tag_column, encoding_errors), "test data")
    if not len(data):
        raise c.fail(f"{', '.join(inputs)}: no tagged sentences")
    gold, test_scheme = to_bioes(data, scheme, strict, "test data")
    known = {t[2:] for t in cfg.tags if t != "O"}
    unseen = sorted({t[2:] for tags in gold for t in tags if t != "O"} - known)
    if unseen:
        c.warn(f"test data has entity type(s) the model never saw in training: {', '.join(unseen)} (scored as misses)")
    encoded = [tg.encode_sentence(s, vocab_index, char_index, cfg) for s in data.tokens]
    predicted = [[cfg.tags[k] for k in path] for path, _ in tg.predict(model, encoded, with_probs=False)]
    scores = tg.entity_scores(gold, predicted)
    scores["scheme"] = test_scheme
    if predictions:
        lines = []
        for tokens, g, p in zip(data.tokens, gold, predicted, strict=True):
            g_out, p_out = convert(g, "bioes", test_scheme)[0], convert(p, "bioes", test_scheme)[0]
            lines += [f"{t}\t{a}\t{b}" for t, a, b in zip(tokens, g_out, p_out, strict=True)] + [""]
        try:
            with open(predictions, "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
        except OSError as exc:
            raise c.fail(f"{predictions}: cannot write predictions ({exc.strerror})") from None
    if fmt is EvalFormat.json:
        print(json.dumps(scores))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{len(data):,} sentences, {scores['entities']:,} entities: micro F1 {100 * scores['f1']:.2f}",
        title_justify="left",
    )
    for name in ("type", "precision", "recall", "F1", "support"):
        table.add_column(name, justify="left" if name == "type" else "right")
    for kind, row in scores["per_type"].items():
        label = kind + (" (unseen in training)" if kind in unseen else "")
        table.add_row(
            label, f"{row['precision']:.4f}", f"{row['recall']:.4f}", f"{row['f1']:.4f}", f"{row['support']:,}"
        )
    table.add_row(
        "micro avg",
        f"{scores['precision']:.4f}",
        f"{scores['recall']:.4f}",
        f"{scores['f1']:.4f}",
        f"{scores['entities']:,}",
        style="bold",
    )
    table.add_row(
        "macro avg",
        f"{scores['macro_precision']:.4f}",
        f"{scores['macro_recall']:.4f}",
        f"{scores['macro_f1']:.4f}",
        f"{scores['entities']:,}",
    )
    Console(highlight=False).print(table)


@app.command()
def tag(
    model_path: Annotated[str, typer.Argument(metavar="MODEL", help="A tagger file (.nlpk).")],
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
    batch_tokens: Annotated[
        int, typer.Option("--batch-tokens", min=1, help="Tokens per batch (memory vs speed).")
    ] = 8192,
    chunk_lines: Annotated[int, typer.Option("--chunk-lines", min=1, help="Records read and tagged at a time.")] = 2048,
    encoding_errors: c.EncodingErrorsOpt = c.EncodingErrors.strict,
    device: c.DeviceOpt = c.Device.auto,
) -> None:
    """Tag entities: exactly one output record per input record, in order; an empty line gives
    an empty record. Raw text is split into words by nlpkit.text.words (runs of letters and
    digits with inner - ' . kept, every other non-space character alone), keeping character
    offsets."""
    import itertools

    from nlpkit.data import readers
    from nlpkit.data.conll import iter_conll
    from nlpkit.tasks import tagger as tg
    from nlpkit.text.schemes import convert, to_spans
    from nlpkit.text.words import split_words

    model, vocab_index, char_index = _load(model_path, device)
    cfg = model.config
    output = c.Output()

    def records():
        for path in inputs or ["-"]:
            if input_format is TagInput.conll:
                for tokens, _, _ in iter_conll(path, 1, None, encoding_errors.value):
                    words, pos = [], 0
                    for t in tokens:
                        words.append((t, pos, pos + len(t)))
                        pos += len(t) + 1
                    yield " ".join(tokens), words
            else:
                for line in readers.iter_lines(path, encoding_errors.value):
                    yield line, split_words(line)

    stream = records()
    while chunk := list(itertools.islice(stream, chunk_lines)):
        encoded = [tg.encode_sentence([w for w, _, _ in words], vocab_index, char_index, cfg) for _, words in chunk]
        rows = []
        scored = tg.predict(model, encoded, batch_tokens, with_probs=fmt is TagFormat.jsonl)
        for (text, words), (path, probs) in zip(chunk, scored, strict=True):
            tags = [cfg.tags[k] for k in path]
            if fmt is TagFormat.conll:
                shown = convert(tags, "bioes", cfg.scheme)[0]
                rows.append("".join(f"{w}\t{t}\n" for (w, _, _), t in zip(words, shown, strict=True)))
                continue
            spans = to_spans(tags, "bioes")[0]
            if fmt is TagFormat.inline:
                pieces, last = [], 0
                for kind, s, e in spans:
                    start, end = words[s][1], words[e - 1][2]
                    pieces += [text[last:start], f"[{kind} {text[start:end]}]"]
                    last = end
                rows.append("".join(pieces) + text[last:])
                continue
            entities = [
                {
                    "type": kind,
                    "start": words[s][1],
                    "end": words[e - 1][2],
                    "text": text[words[s][1] : words[e - 1][2]],
                    "score": round(sum(probs[s:e]) / (e - s), 4),
                }
                for kind, s, e in spans
            ]
            rows.append(json.dumps({"text": text, "entities": entities}, ensure_ascii=False))
        if fmt is TagFormat.conll:
            output.stream.write("".join(r + "\n" for r in rows))  # a blank line ends each record
            output.stream.flush()
        else:
            output.write_lines(rows)
