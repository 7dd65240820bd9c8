"""The text-classification (sentiment) task: options, data, training and use of the classifier in
nlpkit.tasks.sentiment.model (`nlpkit sentiment ...`, `nlpkit.train("sentiment", ...)`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from nlpkit.console import warn
from nlpkit.data.labeled import hold_out, read_examples
from nlpkit.encoders.config import BAG
from nlpkit.errors import NlpkitError, option
from nlpkit.tasks.contract import Task, as_paths, checked, chunks, records, texts
from nlpkit.tasks.sentiment.options import EvalOptions, PredictOptions, SentimentOptions


@dataclass
class SentimentData:
    train: object  # nlpkit.data.labeled.Labeled
    valid: object | None
    sources: list[str]

    @property
    def label_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(self.train.labels).items()))

    @property
    def fingerprint(self) -> dict:
        from nlpkit.data.readers import fingerprint

        text = fingerprint(self.train.texts, self.sources)
        return {**text, "labels": self.label_counts, "skipped": self.train.skipped}


class SentimentTask(Task):
    name = "sentiment"
    file_task = "classifier"
    Options = SentimentOptions
    title = "classifier training"
    files_module = "nlpkit.tasks.sentiment.files"

    def __init__(self, model, tokenizer, meta=None, device=None, transfer: dict | None = None):
        super().__init__(model, tokenizer, meta, device)
        self.transfer = transfer if transfer is not None else self.meta.get("transfer", {})

    @property
    def labels(self) -> list[str]:
        return self.model.config.labels

    # ----- training ----------------------------------------------------------------------------
    @classmethod
    def read_data(cls, options: SentimentOptions) -> SentimentData:
        from nlpkit.data import labeled as lb

        if not options.train and not options.dataset:
            raise NlpkitError("give labeled training files, '-' for stdin, or a dataset")
        columns = lb.Columns(options.text_column, options.label_column)
        read = dict(
            input_format=options.input_format,
            text_column=options.text_column,
            label_column=options.label_column,
            skip_bad=options.skip_bad,
            encoding_errors=options.encoding_errors,
        )
        ds = (columns, options.dataset_config, options.skip_bad)
        if options.dataset:
            data = lb.dataset_labeled(options.dataset, options.split, *ds)
            sources = [f"{options.dataset}:{options.split}"]
            if not len(data):
                raise NlpkitError(f"dataset {options.dataset!r} split {options.split!r}: no labeled examples")
        else:
            data = read_examples(options.train, **read, what="training data")
            sources = list(options.train)
        valid = None
        if options.valid:
            valid = read_examples(options.valid, **read, what="validation data")
        elif options.dataset and options.valid_split:
            valid = lb.dataset_labeled(options.dataset, options.valid_split, *ds)
        elif options.valid_fraction:
            data, valid = hold_out(data, options.valid_fraction, options.seed)
        return SentimentData(data, valid, sources)

    @classmethod
    def build(cls, options: SentimentOptions, data: SentimentData) -> SentimentTask:
        from nlpkit.encoders import EncoderConfig
        from nlpkit.tasks.sentiment import model as cl
        from nlpkit.text.tokenizers import train_tokenizer

        max_len, lm_task, backward_lm, vectors = options.max_len, None, None, None
        if options.init_from:
            from nlpkit.tasks.transfer import load_lm_pair

            if options.bidirectional:
                raise NlpkitError(
                    f"{option('bidirectional')} does not combine with {option('init_from')}: "
                    "a language model reads one way"
                )
            lm_task, backward_lm = load_lm_pair(options.init_from, options.init_from_backward)
            tok, lm_config = lm_task.tokenizer, lm_task.model.config
            enc = EncoderConfig.from_dict(lm_config.encoder.to_dict()).for_transfer()
            enc.dropout = options.dropout if enc.is_recurrent else enc.dropout
            embed_size = lm_config.embed_size
            if not enc.is_recurrent and enc.positions == "learned":
                max_len = min(max_len, enc.max_len - 1)  # the positions the language model learned
            transfer = {"init_from": options.init_from, "lm_data": lm_task.meta.get("data", {})}
            if backward_lm is not None:
                transfer["init_from_backward"] = options.init_from_backward
        else:
            tok = checked(train_tokenizer, options.tokenizer, data.train.texts, options.min_freq)
            both_ways = options.bidirectional is None or options.bidirectional  # None: recurrent ones are
            enc = checked(EncoderConfig.from_options, options, bidirectional=both_ways, kinds=options.ENCODER_KINDS)
            embed_size, transfer = options.embed or options.hidden, {}
            if options.embeddings:
                from nlpkit.vectors import pretrained as pv

                vectors = pv.read_for(options.embeddings, tok, options.embeddings_max_words)
                embed_size = pv.embed_size(options.embed, vectors)
        cfg = checked(
            cl.ClassifierConfig,
            vocab_size=tok.vocab_size,
            labels=sorted(set(data.train.labels)),
            embed_size=embed_size,
            encoder=enc,
            pooling=[p.strip() for p in options.pooling.split(",") if p.strip()],
            dropout=options.dropout,
            word_dropout=options.word_dropout,
            max_len=max_len,
            backward=backward_lm is not None,
            **bag_options(options, enc),
        )
        model = checked(cl.build_model, cfg)
        if lm_task is not None:
            cl.init_from_lm(model, lm_task.model, backward_lm.model if backward_lm is not None else None)
        lr_decay = options.lr_decay if options.lr_decay is not None else (0.5 if options.init_from else 1.0)
        transfer.update({"lr_decay": lr_decay, "gradual_unfreeze": options.gradual_unfreeze})
        task = cls(model, tok, transfer=transfer)
        if vectors is not None:
            task.start_embeddings(vectors, options, (text.split() for text in data.train.texts))
        return task

    @classmethod
    def resume(cls, saved, options: SentimentOptions) -> SentimentTask:
        task = super().resume(saved, options)
        options.lr_decay = task.transfer.get("lr_decay", 1.0)
        options.gradual_unfreeze = task.transfer.get("gradual_unfreeze", False)
        return task

    def training(self, data: SentimentData, options: SentimentOptions):
        from nlpkit.tasks.sentiment.training import ClassifierTraining, balanced_weights

        max_len = self.model.config.max_len
        train_ids, cut = encode_all(self.tokenizer, data.train.texts, max_len)
        train_labels = label_ids(data.train, self.labels)
        valid = None
        if data.valid is not None:
            valid_ids, valid_cut = encode_all(self.tokenizer, data.valid.texts, max_len)
            cut += valid_cut
            valid = (valid_ids, label_ids(data.valid, self.labels))
        if cut:
            warn(f"{cut:,} text(s) longer than {option('max_len')} {max_len} tokens were cut")
        weights = balanced_weights(train_labels, len(self.labels)) if options.class_weights == "balanced" else None
        return ClassifierTraining(
            self.model,
            (train_ids, train_labels),
            valid,
            options.batch_size,
            self.device,
            seed=options.seed,
            class_weights=weights,
            lr_decay=self.transfer["lr_decay"],
            gradual_unfreeze=self.transfer["gradual_unfreeze"],
        )

    def extra_meta(self) -> dict:
        return {**super().extra_meta(), "transfer": self.transfer}

    def describe(self, data: SentimentData, adapter) -> str:
        counts = data.label_counts
        source = self.transfer.get("init_from")
        return (
            f"training {self.model.config.encoder.kind} classifier: "
            f"{self.parameter_count:,} parameters, vocabulary "
            f"{self.tokenizer.vocab_size:,}, {len(data.train):,} training examples ("
            + ", ".join(f"{k} {v:,}" for k, v in counts.items())
            + ")"
            + (f", {len(data.valid):,} validation examples" if data.valid is not None else "")
            + (f", from {source}" if source else "")
        )

    def __repr__(self) -> str:
        from nlpkit.tasks.sentiment.config import EnsembleConfig

        if isinstance(self.model.config, EnsembleConfig):
            return f"<nlpkit sentiment ensemble of {self.model.config.describe()} on {self.device}>"
        return super().__repr__()

    def summary(self, result) -> list[tuple[str, str]]:
        rows = [("labels", ", ".join(self.labels))]
        skipped = self.meta.get("data", {}).get("skipped", 0)
        return rows + ([("skipped rows", f"{skipped:,}")] if skipped else [])

    # ----- use -----------------------------------------------------------------------------------
    @staticmethod
    def record(result: dict, all_probs: bool = False) -> dict:
        """A prediction as `sentiment predict --format jsonl` prints it (and `nlpkit serve` answers it)."""
        found = {"label": result["label"], "prob": round(result["prob"], 5)}
        if all_probs:
            found["probs"] = {label: round(q, 5) for label, q in result["probs"].items()}
        return found

    def render(self, items: Iterable[str], **options) -> str:
        """The labels of `items` as one self-contained HTML page: a table of label, probability
        and text, sortable by confidence (nlpkit.tasks.sentiment.page)."""
        from nlpkit.tasks.sentiment.page import sentiment_page

        lines = list(items)
        return "".join(sentiment_page(lines, self.predict(lines, **options), self.source))

    def predict(self, items: Iterable[str], **options) -> Iterator[dict]:
        """{"label", "prob", "probs" (every label's), "truncated"} per text, in input order; an
        empty text is classified too. A text over the model's max_len tokens is read from its start.
        Options: those of nlpkit.tasks.sentiment.options.PredictOptions (batch_tokens, chunk_size)."""
        o = PredictOptions.create(options)
        labels, max_len = self.labels, self.model.config.max_len
        for chunk in chunks(texts(items), o.chunk_size):
            encoded = [encode(self.tokenizer, text, max_len) for text in chunk]
            probs = self._proba([ids for ids, _ in encoded], o.batch_tokens).tolist()
            for row, (_, cut) in zip(probs, encoded, strict=True):
                best = max(range(len(row)), key=row.__getitem__)
                yield {
                    "label": labels[best],
                    "prob": row[best],
                    "probs": dict(zip(labels, row, strict=True)),
                    "truncated": cut,
                }

    def _proba(self, encoded: list[list[int]], batch_tokens: int = 16384):
        """Class probabilities [n, labels] of encoded texts: an exported graph's runner brings its
        own, torch-free (nlpkit.export.runtime); a torch module goes through prediction.py."""
        if hasattr(self.model, "predict_proba"):
            return self.model.predict_proba(encoded, batch_tokens)
        from nlpkit.device import autocast
        from nlpkit.tasks.sentiment.prediction import predict_proba

        with autocast(self.device):
            return predict_proba(self.model, encoded, batch_tokens)

    def evaluate(self, data, **options) -> dict:
        """Accuracy, per-class precision/recall/F1 with support, macro averages and the confusion
        matrix (rows gold, columns predicted) on labeled files or (text, label) pairs. Options:
        those of nlpkit.tasks.sentiment.options.EvalOptions (how the files are read, as for training)."""
        from nlpkit.data.labeled import Labeled
        from nlpkit.option_parsing import every_seconds
        from nlpkit.tasks.sentiment.scores import classification_scores
        from nlpkit.tracking import follow

        o = EvalOptions.create(options)
        paths = as_paths(data)
        if paths is not None:
            read = dict(input_format=o.input_format, text_column=o.text_column, label_column=o.label_column)
            examples = read_examples(
                paths, **read, skip_bad=o.skip_bad, encoding_errors=o.encoding_errors, what="test data"
            )
        else:
            examples = Labeled()
            for n, record in enumerate(records(data), start=1):
                if not (isinstance(record, tuple | list) and len(record) == 2 and isinstance(record[0], str)):
                    raise NlpkitError(f"record {n}: expected a (text, label) pair with a str text, got {record!r}")
                examples.add(str(record[0]), str(record[1]), f"record {n}")
            if not len(examples):
                raise NlpkitError("no labeled examples to evaluate")
        gold = label_ids(examples, self.labels)
        encoded, _ = encode_all(self.tokenizer, examples.texts, self.model.config.max_len)
        predicted = []
        for part in follow(chunks(encoded, 4096), every_seconds(o.log_every), what="examples"):
            predicted += self._proba(part).argmax(-1).tolist()
        scores = classification_scores(gold, predicted, len(self.labels))
        scores["labels"] = self.labels
        scores["per_class"] = dict(zip(self.labels, scores["per_class"], strict=True))
        return scores


def bag_options(options: SentimentOptions, enc) -> dict:
    """The hashed n-grams of encoder bag (none for other encoders)."""
    if enc.kind != BAG or options.bag_value("ngrams") < 2:
        return {}
    return {"ngrams": options.bag_value("ngrams"), "ngram_buckets": options.bag_value("buckets")}


def encode(tokenizer, text: str, max_len: int) -> tuple[list[int], bool]:
    """Token ids as the classifier reads them (after the end-of-line token), and whether the
    text was cut to max_len."""
    ids = [tokenizer.eos_id, *tokenizer.encode(text)]
    return (ids[:max_len], True) if len(ids) > max_len else (ids, False)


def encode_all(tok, texts: list[str], max_len: int) -> tuple[list[list[int]], int]:
    """Token ids of every text, and how many texts were cut to max_len."""
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
            raise NlpkitError(f"{where}: label {label!r} was not seen in training (the model knows: {shown})")
        out.append(index[label])
    return out
