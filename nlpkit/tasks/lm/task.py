"""The language-modeling task: data, training and use of the models in
nlpkit.tasks.lm.model (`nlpkit lm ...`, `nlpkit generate`, `nlpkit.train("lm", ...)`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from nlpkit.errors import NlpkitError, option
from nlpkit.tasks.contract import Task, as_paths, checked, chunks, texts
from nlpkit.tasks.lm.options import EvalOptions, GenerateOptions, LMOptions, ScoreOptions

LN2 = 0.6931471805599453


@dataclass
class LMData:
    lines: list[str]
    valid_lines: list[str] | None
    fingerprint: dict


def parse_cutoffs(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",")] if text.strip() else []
    except ValueError:
        raise NlpkitError(f"{option('adaptive_softmax')}: expected cutoffs like 2000,6000, got {text!r}") from None


class LanguageModelTask(Task):
    name = "lm"
    file_task = "lm"
    Options = LMOptions
    title = "language model training"
    files_module = "nlpkit.tasks.lm.files"

    # ----- training ----------------------------------------------------------------------------
    @classmethod
    def read_data(cls, options: LMOptions) -> LMData:
        from nlpkit.data import readers

        if not options.train and not options.dataset:
            raise NlpkitError("give training text files, '-' for stdin, or a dataset")

        def from_files(paths):
            return readers.read_texts(
                paths,
                input_format=options.input_format,
                text_field=options.text_field,
                encoding_errors=options.encoding_errors,
            )

        def from_dataset(split):
            return list(readers.dataset_texts(options.dataset, split, options.text_field, options.dataset_config))

        if options.dataset:
            lines, sources = from_dataset(options.split), [f"{options.dataset}:{options.split}"]
        else:
            lines, sources = from_files(options.train), [readers.display_name(p) for p in options.train]
        readers.require_text(lines, ", ".join(sources))
        valid = None
        if options.valid:
            valid = from_files(options.valid)
        elif options.dataset and options.valid_split:
            valid = from_dataset(options.valid_split)
        return LMData(lines, valid, readers.fingerprint(lines, sources))

    @classmethod
    def build(cls, options: LMOptions, data: LMData) -> LanguageModelTask:
        from nlpkit.encoders import EncoderConfig
        from nlpkit.tasks.lm import model as lm
        from nlpkit.text.tokenizers import Reversed, train_tokenizer

        if options.init_from:
            start = load_lm(options.init_from)
            if start.model.is_recurrent:  # the one size that may change: the BPTT length
                start.model.config.context = options.context
            regularise(start.model, options)
            kept = {k: start.meta[k] for k in ("embeddings",) if k in start.meta}
            start.meta = {**kept, "init_from": options.init_from}
            start.model.train()
            return start
        tok = checked(train_tokenizer, options.tokenizer, data.lines, options.min_freq)
        if options.direction == "backward":
            tok = Reversed(tok)
        embed_size, vectors = options.embed or options.hidden, None
        if options.embeddings:
            from nlpkit.vectors import pretrained as pv

            if options.freeze_embeddings and options.tie_weights:
                raise NlpkitError(
                    f"{option('freeze_embeddings')} does not combine with {option('tie_weights')}: "
                    "the output layer shares the embedding and must learn"
                )
            vectors = pv.read_for(options.embeddings, tok, 0)
            embed_size = pv.embed_size(options.embed, vectors)
        enc = checked(
            EncoderConfig.from_options,
            options,
            causal=True,
            weight_drop=options.weight_drop,
            layer_dropout=options.layer_dropout,
        )
        cfg = lm.LMConfig(
            vocab_size=tok.vocab_size,
            embed_size=embed_size,
            encoder=enc,
            dropout=options.dropout,
            tie_weights=options.tie_weights,
            context=options.context,
            adaptive_cutoffs=parse_cutoffs(options.adaptive_softmax),
            input_dropout=options.input_dropout,
            output_dropout=options.output_dropout,
            embedding_dropout=options.embedding_dropout,
        )
        task = cls(checked(lm.build_model, cfg), tok)
        if vectors is not None:
            # no growth: the output layer could not have learned to predict words training never saw
            task.start_embeddings(vectors, options, (line.split() for line in data.lines), grow=False)
        return task

    def training(self, data: LMData, options: LMOptions):
        from nlpkit.console import warn
        from nlpkit.data.streams import token_stream
        from nlpkit.tasks.lm.training import LMTraining, Regularisers

        train_ids = token_stream(self.tokenizer, data.lines)
        valid_ids = token_stream(self.tokenizer, data.valid_lines) if data.valid_lines is not None else None
        if valid_ids is None and options.valid_fraction:
            cut = int(train_ids.numel() * (1 - options.valid_fraction))
            train_ids, valid_ids = train_ids[:cut], train_ids[cut:]
        if valid_ids is not None and valid_ids.numel() < 4:
            raise NlpkitError(f"validation text has {valid_ids.numel()} tokens: too little to measure anything")
        context = self.model.config.context
        fits = train_ids.numel() // (2 * context)
        if fits < 1:
            raise NlpkitError(f"{train_ids.numel()} training tokens are too few for a context of {context}")
        if options.batch_size > fits:
            warn(f"only {train_ids.numel():,} training tokens: batch size lowered from {options.batch_size} to {fits}")
            options.batch_size = fits
        if options.variable_bptt and not self.model.is_recurrent:
            raise NlpkitError(
                f"{option('variable_bptt')} applies to recurrent encoders (BPTT windows), not a Transformer"
            )
        regularisers = Regularisers(ar=options.ar, tar=options.tar, variable_bptt=options.variable_bptt)
        return LMTraining(self.model, train_ids, valid_ids, options.batch_size, self.device, options.seed, regularisers)

    @property
    def direction(self) -> str:
        return "backward" if hasattr(self.tokenizer, "inner") else "forward"

    def extra_meta(self) -> dict:
        meta = {**super().extra_meta(), "direction": self.direction}
        return {**meta, "init_from": self.meta["init_from"]} if "init_from" in self.meta else meta

    @classmethod
    def from_file(cls, saved, device=None) -> LanguageModelTask:
        from nlpkit.text.tokenizers import Reversed

        task = super().from_file(saved, device)
        direction = saved.meta.get("direction", "forward")
        if direction not in ("forward", "backward"):
            raise NlpkitError(f"the model file names an unknown direction {str(direction)[:20]!r}")
        if direction == "backward":
            task.tokenizer = Reversed(task.tokenizer)
        return task

    def to_file(self, meta: dict):
        import importlib

        plain = getattr(self.tokenizer, "inner", self.tokenizer)  # the file stores the tokenizer itself
        return importlib.import_module(self.files_module).to_modelfile(self.model, plain, meta)

    def describe(self, data, adapter) -> str:
        valid = adapter.valid_ids
        return (
            f"training {self.model.config.encoder.kind} language model: {self.parameter_count:,} parameters, "
            f"vocabulary {self.tokenizer.vocab_size:,}, {adapter.data.numel():,} training tokens"
            + (f", {valid.numel():,} validation tokens" if valid is not None else "")
        )

    def summary(self, result) -> list[tuple[str, str]]:
        if "valid_loss" in result.best and self.tokenizer.kind == "char":
            return [("best valid bits/char", f"{result.best['valid_loss'] / LN2:.4f}")]
        return []

    # ----- use -----------------------------------------------------------------------------------
    @staticmethod
    def record(result: dict, **_) -> dict:
        """A score as `lm score --format jsonl` prints it (and `nlpkit serve` answers it)."""
        return {"loglik": round(result["loglik"], 4), "tokens": result["tokens"], "ppl": round(result["ppl"], 4)}

    def predict(self, items: Iterable[str], **options) -> Iterator[dict]:
        """Score each text as if it started a text, its line end included:
        {"loglik" (nats), "tokens", "ppl"} per text, in order. Options: those of
        nlpkit.tasks.lm.options.ScoreOptions (batch_tokens, chunk_size)."""
        from nlpkit.tasks.lm.scoring import score_lines

        o = ScoreOptions.create(options)
        self._score_in_torch()
        score = score_lines if not self._exported() else _exported_scores
        for chunk in chunks(texts(items), o.chunk_size):
            for loglik, n in score(self.model, self.tokenizer, chunk, o.batch_tokens):
                yield {"loglik": loglik, "tokens": n, "ppl": math.exp(min(-loglik / n, 700))}

    def evaluate(self, data, **options) -> dict:
        """Loss, perplexity and tokens (and bits per character for a character model) of a text:
        a file name (str or Path), a list of Path objects, or a list of lines (str). Options: those
        of nlpkit.tasks.lm.options.EvalOptions (batch_size, input_format, text_field, encoding_errors)."""
        from nlpkit.data import readers
        from nlpkit.data.streams import token_stream
        from nlpkit.tasks.lm.scoring import evaluate

        o = EvalOptions.create(options)
        given_texts = isinstance(data, list | tuple) and all(isinstance(d, str) for d in data)
        paths = None if given_texts else as_paths(data)
        if paths is None and not given_texts:
            raise NlpkitError(f"expected a file name, a list of Path objects or a list of texts, got {data!r}")
        if paths is not None:
            lines = readers.read_texts(
                paths, input_format=o.input_format, text_field=o.text_field, encoding_errors=o.encoding_errors
            )
            what = ", ".join(readers.display_name(p) for p in paths)
        else:
            lines, what = list(data), "the texts"
        ids = token_stream(self.tokenizer, lines)
        if ids.numel() < 2:
            raise NlpkitError(f"{what}: no text to evaluate")
        self._score_in_torch()
        result = evaluate(self.model, ids, o.batch_size) if not self._exported() else _exported_eval(self.model, ids, o)
        out = {"loss": round(result["loss"], 5), "perplexity": round(result["ppl"], 3), "tokens": result["tokens"]}
        if self.tokenizer.kind == "char":
            out["bits_per_char"] = round(result["loss"] / LN2, 5)
        return out

    def generate(self, prompt: str = "", *, generator=None, on_token=None, **options) -> list[str]:
        """Completions of `prompt` (the new text only), num_samples of them. Options: those of
        nlpkit.tasks.lm.options.GenerateOptions (max_new_tokens, temperature, top_k, top_p,
        repetition_penalty, no_repeat_ngram, num_samples, stop, seed, use_cache). `seed` makes the
        sampling repeatable; a torch.Generator carries one random stream across calls; `on_token`
        is called with each new token (nlpkit.cli.generate streams text with it)."""
        import torch

        from nlpkit.tasks.lm.generation import generate

        o = GenerateOptions.create(options)
        if not isinstance(prompt, str):
            raise NlpkitError(f"the prompt must be a text (str), got {type(prompt).__name__}")
        if generator is not None and not isinstance(generator, torch.Generator):
            raise NlpkitError(f"generator: expected a torch.Generator or None, got {generator!r}")
        if on_token is not None and not callable(on_token):
            raise NlpkitError(f"on_token: expected a function of the new tokens or None, got {on_token!r}")
        if self.direction == "backward":
            raise NlpkitError(
                "a backward language model predicts what comes before a text; generate with a forward one"
            )
        seeded_here = generator is None and o.seed is not None
        if generator is None:
            generator = torch.Generator(device=self.device)
            generator.manual_seed(o.seed if o.seed is not None else torch.seed())
        if self._exported():
            self.exact_model(o)  # with runtime auto, an option CTranslate2 cannot honour moves it to PyTorch
        if self._exported():
            return self.model.generate(self.tokenizer, prompt, o, generator, on_token, reseed=seeded_here)
        return generate(
            self.model,
            self.tokenizer,
            prompt,
            o,
            num_samples=o.num_samples,
            use_cache=o.use_cache,
            stop=tuple(o.stop),
            generator=generator,
            on_token=on_token,
        )

    def _score_in_torch(self) -> None:
        """Under `runtime="auto"`, scoring runs in PyTorch: CTranslate2 was chosen for generating
        (measured faster at small batches), not for scoring batches of windows (not measured
        faster). With `runtime="ct2"` named, scoring runs there (exact within 1e-3)."""
        if self._exported() and self.fallback is not None:
            self.in_torch()

    def _exported(self) -> bool:
        """Whether this model is a CTranslate2 export (nlpkit.export.ct2_runtime runs it)."""
        return getattr(self.model, "runtime", None) == "ctranslate2"

    def prompt_cut(self, prompt: str) -> tuple[int, int]:
        """(tokens read, tokens cut from the left) of a prompt; a Transformer reads at most its
        context."""
        from nlpkit.tasks.lm.generation import prompt_ids

        if self.direction == "backward":
            raise NlpkitError(
                "a backward language model predicts what comes before a text; generate with a forward one"
            )

        ids, cut = prompt_ids(self.model, self.tokenizer, prompt)
        return len(ids) - 1, cut


def _exported_scores(model, tokenizer, lines: list[str], batch_tokens: int) -> list[tuple[float, int]]:
    """score_lines for a CTranslate2 export: each line after a line end, its own end included."""
    sequences = [[tokenizer.eos_id, *tokenizer.encode(line), tokenizer.eos_id] for line in lines]
    return [(-nll, len(seq) - 1) for nll, seq in zip(model.nll(sequences), sequences, strict=True)]


def _exported_eval(model, ids, o) -> dict:
    """nlpkit.tasks.lm.model.evaluate for a CTranslate2 export: the same streams and windows."""
    from nlpkit.data.streams import batchify

    batch_size = max(1, min(o.batch_size, ids.numel() // 2))
    data = batchify(ids, batch_size)
    loss = sum(model.nll(data.tolist())) / (batch_size * (data.size(1) - 1))
    return {"loss": loss, "ppl": math.exp(min(loss, 50)), "tokens": batch_size * (data.size(1) - 1)}


def regularise(model, options: LMOptions) -> None:
    """Give a language model read from a file (`init_from`) this run's regularisers: they act
    in training only, so they may change where the sizes may not."""
    from dataclasses import replace

    config = model.config
    config.encoder = checked(
        replace, config.encoder, weight_drop=options.weight_drop, layer_dropout=options.layer_dropout
    )
    for name in ("input_dropout", "output_dropout", "embedding_dropout"):
        setattr(config, name, getattr(options, name))
    checked(config.__post_init__)
    model.encoder.config = config.encoder


def load_lm(path: str) -> LanguageModelTask:
    """A language model to start another task's model from (--init-from); a file of another
    task is refused."""
    from nlpkit.modelfile import load

    return LanguageModelTask.from_file(load(path, task=LanguageModelTask.file_task))
