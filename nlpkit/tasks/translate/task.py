"""The translation task: options, parallel data, training and use of the seq2seq models in
nlpkit.tasks.translate.model and nlpkit.tasks.translate.search (`nlpkit translate ...`,
`nlpkit.train("translate", ...)`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from nlpkit.console import warn
from nlpkit.data.parallel import read_parallel
from nlpkit.errors import NlpkitError, option
from nlpkit.tasks.contract import Task, checked, chunks, records, texts
from nlpkit.tasks.translate.options import EvalOptions, PredictOptions, SearchOptions, TranslateOptions


@dataclass
class TranslateData:
    train: object  # nlpkit.data.parallel.Pairs
    valid: object | None
    sources: list[str]
    left_out: int = 0  # pairs the length limits left out (known once they are encoded)

    @property
    def fingerprint(self) -> dict:
        from nlpkit.data.readers import fingerprint

        text = fingerprint(self.train.src + self.train.tgt, self.sources)
        return {**text, "pairs": len(self.train), "left_out": self.left_out}


class TranslationTask(Task):
    name = "translate"
    file_task = "translation"
    Options = TranslateOptions
    title = "translation training"
    files_module = "nlpkit.tasks.translate.files"
    settings: dict = {}  # label smoothing and length limits of the run, set by training()

    # ----- training ----------------------------------------------------------------------------
    @classmethod
    def read_data(cls, options: TranslateOptions) -> TranslateData:
        from nlpkit.data import parallel

        fields = parallel.Fields(options.src_field, options.tgt_field, options.src_lang, options.tgt_lang)
        read = dict(input_format=options.input_format, fields=fields, encoding_errors=options.encoding_errors)
        if options.dataset:
            if options.train or options.src or options.tgt:
                raise NlpkitError("give either a dataset or files, not both")
            data = parallel.dataset_pairs(options.dataset, options.split, fields, options.dataset_config)
            sources = [f"{options.dataset}:{options.split}"]
        elif options.train or options.src or options.tgt:
            data, sources = read_parallel(options.train, options.src, options.tgt, **read, what="training data")
        else:
            raise NlpkitError("give source and target files, pair files, '-' for a pair stream on stdin, or a dataset")
        if not len(data):
            raise NlpkitError("training data: no sentence pairs")
        valid = None
        if options.valid or options.valid_src or options.valid_tgt:
            valid, _ = read_parallel(
                options.valid, options.valid_src, options.valid_tgt, **read, what="validation data"
            )
        elif options.dataset and options.valid_split:
            valid = parallel.dataset_pairs(options.dataset, options.valid_split, fields, options.dataset_config)
        return TranslateData(data, valid, sources)

    @classmethod
    def build(cls, options: TranslateOptions, data: TranslateData) -> TranslationTask:
        from nlpkit.encoders import EncoderConfig
        from nlpkit.tasks.translate import model as s2s
        from nlpkit.tasks.translate.files import Tokenizers
        from nlpkit.text.tokenizers import train_tokenizer

        spec, min_freq = options.tokenizer, options.min_freq
        if options.vocab == "joint":
            shared = checked(train_tokenizer, spec, data.train.src + data.train.tgt, min_freq)
            toks = Tokenizers(shared, shared)
        else:
            toks = Tokenizers(
                checked(train_tokenizer, spec, data.train.src, min_freq),
                checked(train_tokenizer, spec, data.train.tgt, min_freq),
            )
        embed_size, vectors = options.embed or options.hidden, None
        if options.embeddings:
            from nlpkit.vectors import pretrained as pv

            if options.freeze_embeddings and toks.shared:
                raise NlpkitError(
                    f"{option('freeze_embeddings')} needs {option('vocab')} separate: a joint embedding is "
                    "also the output layer, which must learn"
                )
            vectors = pv.read_for(options.embeddings, toks.src, options.embeddings_max_words)
            embed_size = pv.embed_size(options.embed, vectors)
        enc = checked(EncoderConfig.from_options, options, bidirectional=True, ff_size=options.ff_size)
        cfg = checked(
            s2s.Seq2SeqConfig,
            src_vocab=toks.src.vocab_size,
            tgt_vocab=toks.tgt.vocab_size,
            shared_vocab=toks.shared,
            embed_size=embed_size,
            encoder=enc,
            decoder_layers=options.decoder_layers or options.layers,
            decoder_hidden=enc.output_size,  # a bidirectional recurrent encoder doubles it
            attention=options.attention,
            dropout=options.dropout,
            scale_embeddings=options.scale_embeddings,
        )
        task = cls(checked(s2s.build_model, cfg), toks)
        if vectors is not None:
            # a joint table is the target embedding and output layer too: it cannot take unseen words
            sources = (line.split() for line in data.train.src)
            task.start_embeddings(vectors, options, sources, grow=not toks.shared)
        return task

    def word_table(self):
        return self.tokenizer.src, self.model.src_embedding

    def set_word_table(self, tokenizer, embedding) -> None:
        from nlpkit.tasks.translate.files import Tokenizers

        self.tokenizer = Tokenizers(tokenizer, self.tokenizer.tgt)
        self.model.src_embedding = embedding
        self.model.config.src_vocab = tokenizer.vocab_size

    @classmethod
    def resume(cls, saved, options: TranslateOptions) -> TranslationTask:
        task = super().resume(saved, options)
        options.label_smoothing = saved.meta.get("label_smoothing", options.label_smoothing)
        options.max_src_len, options.max_tgt_len = saved.meta.get(
            "length_limits", [options.max_src_len, options.max_tgt_len]
        )
        return task

    def training(self, data: TranslateData, options: TranslateOptions):
        from nlpkit.tasks.translate.training import TranslationTraining, encode_pairs

        limits = (options.max_src_len, options.max_tgt_len)
        pairs, dropped = encode_pairs(self.tokenizer, data.train.src, data.train.tgt, *limits)
        if dropped:
            warn(
                f"{dropped:,} of {len(data.train):,} training pairs left out: empty on one side, or longer than "
                f"{option('max_src_len')} {limits[0]} / {option('max_tgt_len')} {limits[1]} tokens"
            )
        if not pairs:
            raise NlpkitError("training data: no sentence pairs left after length filtering")
        data.left_out = dropped
        self.settings = {"label_smoothing": options.label_smoothing, "length_limits": list(limits)}
        valid = (data.valid.src, data.valid.tgt) if data.valid is not None and len(data.valid) else None
        return TranslationTraining(
            self.model,
            self.tokenizer,
            pairs,
            valid,
            options.batch_tokens,
            self.device,
            label_smoothing=options.label_smoothing,
            seed=options.seed,
        )

    def extra_meta(self) -> dict:
        return {**super().extra_meta(), **self.settings}

    def describe(self, data: TranslateData, adapter) -> str:
        cfg, toks = self.model.config, self.tokenizer
        return (
            f"training {cfg.encoder.kind} translation model"
            + (f" ({cfg.attention} attention)" if cfg.recurrent else "")
            + f": {self.parameter_count:,} parameters, "
            + (
                f"joint vocabulary {toks.src.vocab_size:,}"
                if toks.shared
                else f"vocabularies {toks.src.vocab_size:,} / {toks.tgt.vocab_size:,}"
            )
            + f", {len(adapter.pairs):,} training pairs, {adapter.steps_per_epoch():,} batches an epoch"
            + (f", {len(adapter.valid[0]):,} validation pairs" if adapter.valid else "")
        )

    # ----- use -----------------------------------------------------------------------------------
    @staticmethod
    def record(result: dict, **_) -> dict:
        """A prediction as `translate predict --format jsonl` prints it (and `nlpkit serve` answers it)."""
        hyps = [{"text": h["text"], "score": round(h["score"], 4)} for h in result["translations"]]
        return {"source": result["source"], "translations": hyps}

    def render(self, items: Iterable[str], **options) -> str:
        """The translations of `items` as one self-contained HTML page, each with its attention as
        a heat map (nlpkit.tasks.translate.page)."""
        from nlpkit.tasks.translate.page import translate_page

        return "".join(translate_page(self.predict(items, **{**options, "alignments": True}), self.source))

    def predict(self, items: Iterable[str], **options) -> Iterator[dict]:
        """Translate each source sentence, in input order; an empty line gives one empty
        translation (score 0). Result: {"source", "translation" (the best), "translations": [{"text",
        "score"}] (n_best, best first), "truncated"} and with `alignments` an "alignment":
        {"source", "target" (subwords), "attention" (target x source weights), "words" (source
        and target words), "pairs" ([source word, target word], 0-based)}. `replace_unk` replaces
        each unknown target token by the source word it attends to most. `coverage_penalty` (beta,
        beam search) favours translations whose attention covers the whole source (GNMT).
        Options: those of nlpkit.tasks.translate.options.PredictOptions (the search settings,
        replace_unk, chunk_size)."""
        from nlpkit.tasks.translate.search import detokenize, translate

        o = PredictOptions.create(options)
        alignments, replace_unk = o.alignments, o.replace_unk
        search = SearchOptions(**o.pick(SearchOptions))
        search.alignments = alignments or replace_unk
        for chunk in chunks(texts(items), o.chunk_size):
            for line, found in zip(
                chunk, translate(self.exact_model(search), self.tokenizer, chunk, search), strict=True
            ):
                # an empty source has one translation, the empty one (as in text output)
                if replace_unk:
                    hyps = [(self._with_source_words(found, h, line), h.score) for h in found.hypotheses]
                else:
                    hyps = [(detokenize(self.tokenizer.tgt, h.tokens), h.score) for h in found.hypotheses]
                hyps = hyps or [("", 0.0)]
                result = {
                    "source": line,
                    "translation": hyps[0][0],
                    "translations": [{"text": t, "score": score} for t, score in hyps],
                    "truncated": found.cut,
                }
                if alignments:
                    result["alignment"] = self._alignment(found, line)
                yield result

    def _with_source_words(self, found, hyp, line: str) -> str:
        """A hypothesis's text with each unknown token replaced by its most-attended source word."""
        from nlpkit.tasks.translate import alignment as al
        from nlpkit.tasks.translate.search import detokenize, pieces
        from nlpkit.text.tokenizers import UNK_ID

        unknown = [t == UNK_ID for t in hyp.tokens]
        if not any(unknown) or hyp.attention is None:
            return detokenize(self.tokenizer.tgt, hyp.tokens)
        attention = hyp.attention.float().tolist()
        src_pieces = al.surface(self.tokenizer.src, line, len(found.source_ids) - 1)
        tgt_pieces = pieces(self.tokenizer.tgt, hyp.tokens)
        src_kind, tgt_kind = self.tokenizer.src.kind, self.tokenizer.tgt.kind
        replaced = al.replace_unknowns(tgt_pieces, unknown, src_pieces, src_kind, tgt_kind, attention)
        return al.join(replaced, tgt_kind)

    def _alignment(self, found, line: str) -> dict:
        """The best hypothesis's attention: rows are target tokens (and the end token when the
        translation ended by itself), columns source tokens (and the source end token)."""
        from nlpkit.tasks.translate import alignment as al
        from nlpkit.tasks.translate.search import pieces

        if not found.hypotheses or found.hypotheses[0].attention is None:
            return {"source": [], "target": [], "attention": [], "words": {"source": [], "target": []}, "pairs": []}
        best = found.hypotheses[0]
        width = len(found.source_ids)  # the batch's padding columns are dropped
        attention = best.attention[:, :width].float().tolist()
        target = pieces(self.tokenizer.tgt, best.tokens) + ["</s>"] * (len(attention) - len(best.tokens))
        source = pieces(self.tokenizer.src, found.source_ids[:-1]) + ["</s>"]
        src_words = al.words(al.surface(self.tokenizer.src, line, len(source) - 1), self.tokenizer.src.kind)
        tgt_words = al.words(target[: len(best.tokens)], self.tokenizer.tgt.kind)
        return {
            "source": source,
            "target": target,
            "attention": [[round(x, 4) for x in row] for row in attention],
            "words": {"source": [w for w, _ in src_words], "target": [w for w, _ in tgt_words]},
            "pairs": al.word_pairs(src_words, tgt_words, attention),
        }

    def evaluate(self, data, **options) -> dict:
        """sacreBLEU BLEU and chrF (cased, detokenized) with their signatures, on a (source file,
        reference file) pair or a list of (source, reference) sentence pairs. Options: those of
        nlpkit.tasks.translate.options.EvalOptions: the search settings; `hypotheses` also writes
        the translations, one a line, to that file; `lowercase` / `tokenize` add a variant BLEU
        with its own signature (nlpkit.tasks.translate.scores)."""
        from nlpkit.option_parsing import every_seconds
        from nlpkit.tasks.translate.scores import translation_scores
        from nlpkit.tracking import follow

        o = EvalOptions.create(options)
        if o.hypotheses:  # refused before the translating, not after
            from nlpkit.outputs import claim

            sources = (
                list(data) if isinstance(data, tuple) and all(isinstance(d, str | os.PathLike) for d in data) else []
            )
            claim(o, inputs=[self.source, *sources])
        src, ref = evaluation_pairs(data, o.encoding_errors)
        search = {k: v for k, v in o.pick(SearchOptions).items() if k not in EvalOptions.HIDDEN}
        t0 = time.perf_counter()
        parts = follow(chunks(src, 1024), every_seconds(o.log_every), what="sentences")  # progress off a terminal
        found = [r for part in parts for r in self.predict(part, **search, chunk_size=len(part))]
        seconds = time.perf_counter() - t0
        hyps = [f["translation"] for f in found]
        if o.hypotheses:
            from nlpkit.outputs import write_atomically

            try:
                write_atomically(o.hypotheses, "".join(h + "\n" for h in hyps).encode("utf-8"))
            except OSError as exc:
                raise NlpkitError(f"{o.hypotheses}: cannot write ({exc.strerror})") from None
        cut = sum(f["truncated"] for f in found)
        if cut:
            warn(f"{cut:,} line(s) longer than {option('max_src_len')} {o.max_src_len} tokens were cut")
        scores = translation_scores(hyps, ref, lowercase=o.lowercase, tokenize=o.tokenize)
        scores.update(
            {
                "beam": o.beam,
                "length_penalty": o.length_penalty,
                "coverage_penalty": o.coverage_penalty,
                "seconds": round(seconds, 2),
                "sentences_per_s": round(len(hyps) / max(seconds, 1e-9), 1),
            }
        )
        return scores

    def sweep_length_penalty(self, data, alphas: list[float], **options) -> dict:
        """evaluate() once per length penalty in `alphas` (on a validation set, to choose one):
        {"sweep": [{"length_penalty", "bleu", "chrf", "bleu_variant"?}, ...], "best": the alpha
        with the highest BLEU (the smallest on a tie), "bleu_signature"}. `options` are
        evaluate()'s, less length_penalty and hypotheses."""
        if not alphas or any(not a >= 0 for a in alphas):
            raise NlpkitError(f"length penalties to try must be numbers >= 0; got {alphas!r}")
        checked_options = EvalOptions.create(options)  # a bad option fails before any translating
        if checked_options.hypotheses:
            raise NlpkitError(f"{option('hypotheses')} writes one set of translations: give one length penalty")
        options.pop("length_penalty", None)
        src, ref = evaluation_pairs(data, checked_options.encoding_errors)  # read once, not per alpha
        pairs = list(zip(src, ref, strict=True))
        rows, signature = [], None
        for alpha in sorted(set(alphas)):
            scores = self.evaluate(pairs, **options, length_penalty=alpha)
            keep = ("bleu", "chrf", "bleu_variant", "seconds")
            rows.append({"length_penalty": alpha, **{k: scores[k] for k in keep if k in scores}})
            signature = scores["bleu_signature"]
        best = max(rows, key=lambda r: (r["bleu"], -r["length_penalty"]))
        return {"sweep": rows, "best": best["length_penalty"], "bleu_signature": signature}


def evaluation_pairs(data, encoding_errors: str = "strict") -> tuple[list[str], list[str]]:
    """(sources, references) from a (source file, reference file) pair or a list of (source,
    reference) sentence pairs."""
    from nlpkit.data.parallel import read_aligned

    if isinstance(data, tuple) and len(data) == 2 and all(isinstance(d, str) or hasattr(d, "__fspath__") for d in data):
        pairs = read_aligned(str(data[0]), str(data[1]), encoding_errors)
        src, ref = pairs.src, pairs.tgt
    else:
        given = list(records(data))
        if not all(isinstance(r, tuple | list) and len(r) == 2 and all(isinstance(s, str) for s in r) for r in given):
            raise NlpkitError("expected (source file, reference file) or a list of (source, reference) text pairs")
        src, ref = [s for s, _ in given], [r for _, r in given]
    if not src:
        raise NlpkitError("no sentence pairs to evaluate (the source and reference are empty)")
    return src, ref
