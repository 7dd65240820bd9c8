"""The named-entity tagging task: options, data, training and use of the tagger in
nlpkit.tasks.ner.model (`nlpkit ner ...`, `nlpkit.train("ner", ...)`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from nlpkit.console import warn
from nlpkit.data.tagged import drop_empty, hold_out, read_sentences, to_bioes
from nlpkit.errors import NlpkitError, option
from nlpkit.tasks.contract import Task, as_paths, checked, chunks, records
from nlpkit.tasks.ner.options import EvalOptions, NEROptions, TagOptions


@dataclass
class NERData:
    train: object  # nlpkit.data.conll.Sentences
    train_tags: list[list[str]]  # BIOES
    scheme: str  # the scheme the data came in
    valid: object | None
    valid_tags: list[list[str]] | None
    sources: list[str]

    @property
    def fingerprint(self) -> dict:
        from nlpkit.data.readers import fingerprint

        return fingerprint([" ".join(s) for s in self.train.tokens], self.sources)


class NERTask(Task):
    name = "ner"
    file_task = "tagger"
    Options = NEROptions
    title = "tagger training"
    files_module = "nlpkit.tasks.ner.files"

    def __init__(self, model, tokenizer, meta=None, device=None):
        super().__init__(model, tokenizer, meta, device)
        self.char_index = {ch: i + 2 for i, ch in enumerate(model.config.chars)}

    @property
    def tags(self) -> list[str]:
        return self.model.config.tags

    # ----- training ----------------------------------------------------------------------------
    @classmethod
    def read_data(cls, options: NEROptions) -> NERData:
        from nlpkit.data import conll

        if not options.train and not options.dataset:
            raise NlpkitError("give tagged training files, or a dataset")
        if options.dataset:
            cols = (options.token_column or "tokens", options.tag_column or "ner_tags", options.dataset_config)
            data = conll.dataset_sentences(options.dataset, options.split, *cols)
            valid = (
                conll.dataset_sentences(options.dataset, options.valid_split, *cols) if options.valid_split else None
            )
            sources = [f"{options.dataset}:{options.split}"]
        else:
            read = (options.input_format, options.token_column, options.tag_column, options.encoding_errors)
            data = read_sentences(options.train, *read)
            valid = read_sentences(options.valid, *read) if options.valid else None
            sources = list(options.train)
        data = drop_empty(data, "training data")
        if not len(data):
            raise NlpkitError(f"{', '.join(sources)}: no tagged sentences")
        if valid is None and options.valid_fraction:
            data, valid = hold_out(data, options.valid_fraction, options.seed)
        train_tags, scheme = to_bioes(data, options.scheme, options.strict, "training data")
        valid_tags = None
        if valid is not None:
            valid = drop_empty(valid, "validation data")
            valid_tags, _ = to_bioes(valid, options.scheme, options.strict, "validation data")
        return NERData(data, train_tags, scheme, valid, valid_tags, sources)

    @classmethod
    def build(cls, options: NEROptions, data: NERData) -> NERTask:
        from nlpkit.encoders import EncoderConfig
        from nlpkit.tasks.ner import model as tg
        from nlpkit.tasks.transfer import load_lm_pair
        from nlpkit.text.schemes import bioes_tags, split_tag
        from nlpkit.text.tokenizers import VocabTokenizer

        types = sorted({split_tag(t)[1] for tags in data.train_tags for t in tags} - {""})
        chars = sorted({ch for sent in data.train.tokens for w in sent for ch in w})
        lm_task, backward_lm, vectors = None, None, None
        embed, char_features = options.embed or 100, options.char_features
        if options.init_from:
            lm_task, backward_lm = load_lm_pair(options.init_from, options.init_from_backward)
            vocab = lm_task.tokenizer
            if vocab.kind != "word":
                raise NlpkitError(
                    f"{option('init_from')} {options.init_from}: a {vocab.kind} language model; "
                    "the tagger needs a word-level one"
                )
            enc = EncoderConfig.from_dict(lm_task.model.config.encoder.to_dict()).for_transfer()
            embed, char_features = lm_task.model.config.embed_size, "none"
        else:
            words = (" ".join(w.lower() for w in sent) for sent in data.train.tokens)
            vocab = VocabTokenizer.train("word", words, min_freq=options.min_freq)
            enc = checked(EncoderConfig.from_options, options, bidirectional=options.bidirectional)
            if options.embeddings:
                from nlpkit.vectors import pretrained as pv

                vectors = pv.read_for(options.embeddings, vocab, options.embeddings_max_words)
                embed = pv.embed_size(options.embed, vectors)
        cfg = checked(
            tg.TaggerConfig,
            vocab_size=vocab.vocab_size,
            tags=bioes_tags(types),
            scheme=data.scheme,
            chars=chars,
            embed_size=embed,
            char_features=char_features,
            char_size=options.char_size,
            encoder=enc,
            dropout=options.dropout,
            word_dropout=options.word_dropout,
            lowercase=not options.init_from,
            crf=options.crf,
            backward=backward_lm is not None,
        )
        model = tg.build_model(cfg)
        if lm_task is not None:
            model.embedding.weight.data.copy_(lm_task.model.embedding.weight.data)
            model.encoder.load_state_dict(lm_task.model.encoder.state_dict())
            if backward_lm is not None:
                model.backward.load_language_model(backward_lm.model)
        task = cls(model, vocab)
        if vectors is not None:
            lowered = ([w.lower() for w in sent] for sent in data.train.tokens)
            task.start_embeddings(vectors, options, lowered, lowercase=True)
        return task

    def training(self, data: NERData, options: NEROptions):
        from nlpkit.tasks.ner.training import TaggerTraining

        index = {t: i for i, t in enumerate(self.tags)}
        encoded = [self.encode(s) for s in data.train.tokens]
        try:
            gold_ids = [[index[t] for t in tags] for tags in data.train_tags]
        except KeyError as exc:  # resuming with data that has a type the checkpoint lacks
            raise NlpkitError(
                f"training data has tag {exc.args[0]} that the checkpoint's model does not know"
            ) from None
        valid = None
        if data.valid is not None:
            valid = ([self.encode(s) for s in data.valid.tokens], data.valid_tags)
        return TaggerTraining(
            self.model, (encoded, gold_ids), valid, options.batch_size, self.device, seed=options.seed
        )

    def describe(self, data: NERData, adapter) -> str:
        cfg = self.model.config
        entities = sum(t[0] in "BS" for tags in data.train_tags for t in tags)
        return (
            f"training {cfg.encoder.kind} tagger{' with CRF' if cfg.crf else ''}: "
            f"{self.parameter_count:,} parameters, vocabulary "
            f"{self.tokenizer.vocab_size:,}, {len(data.train):,} sentences "
            f"({sum(map(len, data.train.tokens)):,} tokens, {entities:,} entities, {data.scheme.upper()})"
            + (f", {len(data.valid):,} validation sentences" if data.valid is not None else "")
        )

    def summary(self, result) -> list[tuple[str, str]]:
        return [("entity types", ", ".join(self.entity_types))]

    @property
    def entity_types(self) -> list[str]:
        return sorted({t[2:] for t in self.tags if t != "O"})

    # ----- use -----------------------------------------------------------------------------------
    def encode(self, words: list[str]):
        from nlpkit.tasks.ner.config import encode_sentence

        if not hasattr(self, "_spellings"):
            self._spellings = {}  # word -> its character ids (encode_sentence); never mutated by the callers
        return encode_sentence(words, self.tokenizer.index, self.char_index, self.model.config, self._spellings)

    def predict(self, items: Iterable, **options) -> Iterator[dict]:
        """Entities of each item, in input order. An item is raw text (split into words by
        nlpkit.text.words, keeping character offsets) or a list of tokens (joined by spaces).
        Result: {"text", "words", "offsets" ([start, end] per word), "tags" (in the training
        data's scheme), "entities": [{"type", "start", "end", "text", "score"}]}; score is the
        mean probability of the entity's tags (None without `scores`, which is faster). An item
        of more than `window` words is tagged in windows of that many words (every word is
        tagged; time and memory stay linear in its length). Options: those of
        nlpkit.tasks.ner.options.TagOptions (batch_tokens, chunk_size, scores, window)."""
        from nlpkit.text.schemes import convert, to_spans

        o = TagOptions.create(options)
        scores = o.scores
        for chunk in chunks(records(items), o.chunk_size):
            read = [_record(item) for item in chunk]
            found = self._tag([words for _, words, _ in read], o.batch_tokens, scores, o.window)
            for (text, words, offsets), (path, probs) in zip(read, found, strict=True):
                tags = [self.tags[k] for k in path]
                entities = []
                for kind, s, e in to_spans(tags, "bioes")[0]:
                    start, end = offsets[s][0], offsets[e - 1][1]
                    score = round(sum(probs[s:e]) / (e - s), 4) if scores else None
                    entities.append({"type": kind, "start": start, "end": end, "text": text[start:end], "score": score})
                shown = convert(tags, "bioes", self.model.config.scheme)[0]
                yield {"text": text, "words": words, "offsets": offsets, "tags": shown, "entities": entities}

    @staticmethod
    def record(result: dict, **_) -> dict:
        """A prediction as `ner tag --format jsonl` prints it (and `nlpkit serve` answers it)."""
        return {"text": result["text"], "entities": result["entities"]}

    def render(self, items: Iterable, **options) -> str:
        """The entities of `items` (what predict takes) as one self-contained HTML page: the text
        with each entity marked in its type's colour, and a legend (nlpkit.tasks.ner.page)."""
        from nlpkit.tasks.ner.page import ner_page

        return "".join(ner_page(self.predict(items, **options), self.entity_types, self.source))

    def _predictor(self):
        """predict(encoded, batch_tokens, with_probs) of the model: tagger.predict for the torch
        module; an exported graph's runner brings its own, torch-free (nlpkit.export.tagging)."""
        if hasattr(self.model, "predict"):
            return self.model.predict
        from nlpkit.tasks.ner.tagging import predict

        return functools.partial(predict, self.model)

    def _tag(self, sentences: list[list[str]], batch_tokens: int, scores: bool, window: int):
        """(tag ids, probabilities) per sentence; long ones go through in windows, joined after
        (each window's path is well-formed BIOES, so their concatenation is too)."""
        predict = self._predictor()
        pieces, owners = [], []
        for i, words in enumerate(sentences):
            for start in range(0, max(1, len(words)), window):
                pieces.append(self.encode(words[start : start + window]))
                owners.append(i)
        joined: list[tuple[list, list]] = [([], []) for _ in sentences]
        for owner, (path, probs) in zip(owners, predict(pieces, batch_tokens, with_probs=scores), strict=True):
            joined[owner][0].extend(path)
            joined[owner][1].extend(probs)
        return joined

    def evaluate(self, data, **options) -> dict:
        """seqeval span precision, recall and F1 per entity type with micro and macro averages, on
        tagged files or (tokens, tags) pairs. Options: those of nlpkit.tasks.ner.options.EvalOptions
        (how the files are read, as for training; `predictions` also writes token, gold and
        predicted tag columns (CoNLL) to that file)."""
        from nlpkit.data.conll import Sentences
        from nlpkit.option_parsing import every_seconds
        from nlpkit.tasks.ner.scores import entity_scores
        from nlpkit.tracking import follow

        o = EvalOptions.create(options)
        paths = as_paths(data)
        if o.predictions:  # refused before the tagging, not after
            from nlpkit.outputs import claim

            claim(o, inputs=[self.source, *(paths or [])])
        if paths is not None:
            sentences = read_sentences(paths, o.input_format, o.token_column, o.tag_column, o.encoding_errors)
        else:
            sentences = Sentences()
            for n, record in enumerate(records(data), start=1):
                if not (
                    isinstance(record, tuple | list)
                    and len(record) == 2
                    and all(isinstance(side, list | tuple) and all(isinstance(x, str) for x in side) for side in record)
                    and len(record[0]) == len(record[1])
                ):
                    raise NlpkitError(f"record {n}: expected (tokens, tags) of the same length, got {record!r}")
                sentences.add([str(t) for t in record[0]], [str(t) for t in record[1]], f"record {n}")
        sentences = drop_empty(sentences, "test data")
        if not len(sentences):
            raise NlpkitError(f"{', '.join(paths) if paths else 'the records'}: no tagged sentences")
        gold, test_scheme = to_bioes(sentences, o.scheme, o.strict, "test data")
        unseen = sorted({t[2:] for tags in gold for t in tags if t != "O"} - set(self.entity_types))
        if unseen:
            warn(
                f"test data has entity type(s) the model never saw in training: {', '.join(unseen)} (scored as misses)"
            )
        encoded, predicted = [self.encode(s) for s in sentences.tokens], []
        for part in follow(chunks(encoded, 2048), every_seconds(o.log_every), what="sentences"):
            predicted += [[self.tags[k] for k in path] for path, _ in self._predictor()(part, with_probs=False)]
        scores = entity_scores(gold, predicted)
        scores.update({"scheme": test_scheme, "sentences": len(sentences), "unseen_types": unseen})
        if o.predictions:
            _write_predictions(o.predictions, sentences.tokens, gold, predicted, test_scheme)
        return scores


def _record(item) -> tuple[str, list[str], list[list[int]]]:
    """(text, words, [start, end] per word) of raw text or of a list of tokens."""
    from nlpkit.text.words import split_words

    if isinstance(item, str):
        split = split_words(item)
        return item, [w for w, _, _ in split], [[s, e] for _, s, e in split]
    if isinstance(item, list | tuple) and all(isinstance(t, str) for t in item):
        offsets, pos = [], 0
        for t in item:
            offsets.append([pos, pos + len(t)])
            pos += len(t) + 1
        return " ".join(item), list(item), offsets
    raise NlpkitError(f"expected a text or a list of tokens, got {item!r}")


def _write_predictions(path: str, tokens, gold, predicted, scheme: str) -> None:
    from nlpkit.text.schemes import convert

    lines = []
    for words, g, p in zip(tokens, gold, predicted, strict=True):
        g_out, p_out = convert(g, "bioes", scheme)[0], convert(p, "bioes", scheme)[0]
        lines += [f"{t}\t{a}\t{b}" for t, a, b in zip(words, g_out, p_out, strict=True)] + [""]
    from nlpkit.outputs import write_atomically

    try:
        write_atomically(path, ("\n".join(lines) + "\n").encode("utf-8"))
    except OSError as exc:
        raise NlpkitError(f"{path}: cannot write predictions ({exc.strerror})") from None
