"""Run a directory written by `nlpkit export --format ctranslate2` in CTranslate2, behind the
task's own code: `nlpkit.load(DIR)` returns the same TranslationTask or LanguageModelTask as the
.nlpk, whose torch module is replaced by a runner here. Translation search and generation then
go through CTranslate2's translate_batch / generate_batch with nlpkit's settings mapped onto
them; what CTranslate2 cannot do the way nlpkit does is refused, never approximated.

The directory is untrusted input: its model file is read and checked like any other, its export
version and sizes are checked against CTranslate2's config before CTranslate2 reads model.bin,
and nothing in it is ever run as code.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from nlpkit.errors import NlpkitError, option
from nlpkit.export.ct2 import EXPORT_VERSION, EXTRA, MODEL_FILE
from nlpkit.text.tokenizers import BOS_ID, EOS_ID, PAD_ID

FILES = ("model.bin", "config.json", MODEL_FILE)
MANY_SAMPLES = 8  # from this many samples at once, `auto` generates in PyTorch (Generator.slower)


class Runner:
    """What the tasks ask of a torch model besides decoding: its config and device."""

    runtime = "ctranslate2"

    def __init__(self, engine, config, where: str, positions: int):
        self.engine, self.config, self.where, self.positions = engine, config, where, positions

    def parameters(self):
        import torch

        return iter([torch.empty(0)])

    def _run(self, call, *args, **kwargs):
        try:
            return call(*args, **kwargs)
        except NlpkitError:
            raise
        except Exception as exc:  # CTranslate2's own failures, whatever their class
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise NlpkitError(f"{self.where}: CTranslate2 failed while running ({first})") from None


class Translator(Runner):
    """Stands where nlpkit.tasks.translate.model.Seq2Seq stands, for nlpkit.tasks.translate.search."""

    def refuses(self, o) -> str | None:
        """Why CTranslate2 cannot search with options `o` exactly as nlpkit does (None: it can)."""
        if o.coverage_penalty:
            return (
                f"{option('coverage_penalty')}: CTranslate2 computes its coverage penalty its own way; "
                "use the .nlpk file for GNMT's"
            )
        return None

    def search(self, sources: list[list[int]], max_lens: list[int], o) -> list[list]:
        """The n-best Hypotheses (nlpkit.decoding) of each source, ranked as nlpkit ranks them:
        CTranslate2 searches with raw log-probabilities and returns the whole beam; GNMT's
        length penalty then orders it (CTranslate2's own penalty is another formula)."""
        from nlpkit.decoding import Hypothesis, length_penalty

        why = self.refuses(o)
        if why is not None:
            raise NlpkitError(why)
        longest = max([*max_lens, *(len(s) for s in sources)], default=0)
        if longest > self.positions:
            raise NlpkitError(
                f"{option('max_src_len')} / {option('max_length_ratio')}: sentences reach {longest} positions; "
                f"the exported model has {self.positions}"
            )
        found: list[list] = [[] for _ in sources]
        by_length: dict[int, list[int]] = defaultdict(list)
        for i, limit in enumerate(max_lens):  # nlpkit stops each sentence at its own length
            by_length[limit].append(i)
        for limit, rows in by_length.items():
            results = self._run(
                self.engine.translate_batch,
                [[str(t) for t in sources[i]] for i in rows],
                beam_size=o.beam,
                num_hypotheses=o.beam,
                length_penalty=0.0,
                max_decoding_length=limit,
                max_input_length=0,
                max_batch_size=o.batch_size,
                return_scores=True,
                return_attention=o.alignments,
                return_end_token=True,
                suppress_sequences=[[str(PAD_ID)], [str(BOS_ID)]],
            )
            for i, result in zip(rows, results, strict=True):
                hyps = []
                for k, tokens in enumerate(result.hypotheses):
                    ids = [int(t) for t in tokens]
                    ended = bool(ids) and ids[-1] == EOS_ID
                    text_ids = ids[:-1] if ended else ids
                    logprob = float(result.scores[k])
                    ranked = logprob / length_penalty(len(ids), o.length_penalty) if o.beam > 1 else logprob
                    attention = _attention(result.attention[k]) if o.alignments else None
                    hyps.append(Hypothesis(text_ids, ranked, logprob, attention))
                found[i] = sorted(hyps, key=lambda h: -h.score)[: o.n_best]
        return found


def _attention(rows):
    import torch

    return torch.tensor(rows, dtype=torch.float32) if rows else None


class Generator(Runner):
    """Stands where nlpkit.tasks.lm.model.LanguageModel stands, for LanguageModelTask.generate."""

    is_recurrent = False

    def __init__(self, engine, config, where: str, positions: int, reload=None):
        super().__init__(engine, config, where, positions)
        self.reload = reload  # a fresh engine: CTranslate2 seeds a sampler once, when it first samples
        self.sampled = False

    def slower(self, o) -> str | None:
        """Why PyTorch runs options `o` faster (None: CTranslate2 is faster): many samples at
        once (bench/results/generation.md: at batch 16, PyTorch float32 was about 2x
        CTranslate2 float32 on the project's machine of 2026-12-06). `auto` switches then."""
        if getattr(o, "num_samples", 1) >= MANY_SAMPLES:
            return f"{o.num_samples} samples at once run faster in PyTorch than in CTranslate2"
        return None

    def refuses(self, o) -> str | None:
        """Why CTranslate2 cannot generate with options `o` exactly as nlpkit does (None: it can);
        scoring options (no use_cache) it always can."""
        if not getattr(o, "use_cache", True):
            return "--no-cache (use_cache=False): CTranslate2 always keeps its cache; it is for the .nlpk"
        for name, off, why in (
            ("repetition_penalty", 1.0, "penalises repeated tokens by another rule"),
            ("no_repeat_ngram", 0, "looks for repeated n-grams in other tokens"),
        ):
            if getattr(o, name, off) != off:
                return f"{option(name)}: CTranslate2 {why} than nlpkit; use the .nlpk file"
        return None

    def generate(self, tokenizer, prompt: str, o, generator=None, on_token=None, reseed=False) -> list[str]:
        """As nlpkit.tasks.lm.model.generate: num_samples completions of `prompt`, the context
        sliding the same way (when a completion reaches the context, the last half context is
        read again and generation goes on from there), stop strings cut the same way. The first
        sampling call seeds CTranslate2's sampler from `generator`; later calls go on with its
        stream, unless `reseed` (an explicit seed), which starts a fresh engine so that the same
        seed gives the same samples."""
        from nlpkit.tasks.lm.generation import prompt_ids
        from nlpkit.text.tokenizers import EOS_ID as END

        ids, _ = prompt_ids(self, tokenizer, prompt)
        limit = self.config.context
        why = self.refuses(o)
        if why is not None:
            raise NlpkitError(why)
        if o.temperature > 0:
            self._seed(generator, reseed)
        n = o.num_samples
        new = o.num_samples, self.config.context
        new: list[list[int]] = [[] for _ in range(n)]
        done = [False] * n
        suppress = [PAD_ID, BOS_ID] + ([END] if tokenizer.eos_id != END else [])
        length, start, remaining = len(ids), 0, o.max_new_tokens  # length: of every row still going
        while remaining > 0 and not all(done):
            count = min(remaining, limit - (length - start) + 1)  # the last one is read at the context's end
            active = [r for r in range(n) if not done[r]]
            watch = _Steps(active, new, done, tokenizer, o.stop, on_token) if o.stop or on_token else None
            results = self._run(
                self.engine.generate_batch,
                [[str(t) for t in (ids + new[r])[start:]] for r in active],
                max_length=count,
                include_prompt_in_result=False,
                end_token=[],
                suppress_sequences=[[str(t)] for t in suppress],
                callback=watch,
                **_sampling(o),
            )
            for r, result in zip(active, results, strict=True):
                if not done[r]:  # a row a stop string ended has its tokens from the callback
                    new[r].extend(result.sequences_ids[0])
            length, remaining = length + count, remaining - count
            if length - start > limit:
                start = length - limit // 2
        return [_cut(tokenizer.decode(tokens), o.stop) for tokens in new]

    def nll(self, sequences: list[list[int]]) -> list[float]:
        """Negative log-likelihood of tokens 1.. of each sequence given what precedes it, read in
        the windows nlpkit's Transformer scoring reads (nlpkit.tasks.lm.model.window_plan)."""
        from nlpkit.tasks.lm.scoring import window_plan

        pieces, owners, skips = [], [], []
        for i, seq in enumerate(sequences):
            for begin, end, skip in window_plan(len(seq), self.config.context):
                pieces.append([str(t) for t in seq[begin : end + 1]])
                owners.append(i)
                skips.append(skip)
        totals = [0.0] * len(sequences)
        results = self._run(self.engine.score_batch, pieces, max_batch_size=64) if pieces else []
        for i, skip, result in zip(owners, skips, results, strict=True):
            totals[i] -= sum(result.log_probs[skip:])
        return totals

    def _seed(self, generator, reseed: bool) -> None:
        import ctranslate2
        import torch

        if self.sampled and not reseed:
            return
        if self.sampled and self.reload is not None:
            self.engine = self.reload()
        if generator is not None:
            ctranslate2.set_random_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
        self.sampled = True


class _Steps:
    """CTranslate2's per-token callback: streams the first row (on_token) and ends a row once one
    of the stop strings appears in its new text."""

    def __init__(self, active, new, done, tokenizer, stop, on_token):
        self.active, self.new, self.done = active, new, done
        self.tokenizer, self.stop, self.on_token = tokenizer, tuple(stop), on_token
        self.seen = {r: list(new[r]) for r in active}

    def __call__(self, result) -> bool:
        row = self.active[result.batch_id]
        self.seen[row].append(result.token_id)
        if self.on_token is not None and row == 0:
            import torch

            self.on_token(torch.tensor([result.token_id]))
        if self.stop and any(s in self.tokenizer.decode(self.seen[row]) for s in self.stop):
            self.done[row] = True
            self.new[row] = self.seen[row]
            return True
        return False


def _sampling(o) -> dict:
    """nlpkit's sampling options as generate_batch's (the same rules: temperature, then top-k,
    then top-p; 0 = greedy)."""
    if o.temperature == 0:
        return {"sampling_topk": 1}
    return {"sampling_topk": o.top_k, "sampling_topp": o.top_p, "sampling_temperature": o.temperature}


def _cut(text: str, stop) -> str:
    cuts = [text.find(s) for s in stop if s in text]
    return text[: min(cuts)] if cuts else text


# ----- loading -----------------------------------------------------------------------------------


def load_ct2(path, task: str | None = None, device: str = "auto", quantize: str = "auto", threads=None):
    """The task of an exported directory, run by CTranslate2 (`nlpkit.load(DIR)`)."""
    import importlib.util

    from nlpkit import tasks
    from nlpkit.device import resolve_device
    from nlpkit.modelfile import load as read_modelfile

    where = str(path)
    folder = Path(path)
    missing = [name for name in FILES if not (folder / name).is_file()]
    if len(missing) == len(FILES):
        raise NlpkitError(f"{where}: a directory, but not a model exported by `nlpkit export --format ctranslate2`")
    if missing:
        raise NlpkitError(f"{where}: an incomplete CTranslate2 export (missing {', '.join(missing)})")
    saved = read_modelfile(folder / MODEL_FILE)
    saved.path = where
    about = saved.meta.get("ctranslate2")
    if not isinstance(about, dict) or not isinstance(about.get("export_version"), int):
        raise NlpkitError(f"{where}: its {MODEL_FILE} does not describe a CTranslate2 export")
    if about["export_version"] > EXPORT_VERSION:
        raise NlpkitError(
            f"{where}: exported by a newer nlpkit (export version {about['export_version']}; this one reads "
            f"{EXPORT_VERSION}): upgrade nlpkit"
        )
    name = tasks.FILE_TASKS.get(saved.task, saved.task)
    if task is not None and tasks.get(task).name != name:
        raise NlpkitError(f"{where}: a model for 'nlpkit {name}', not for 'nlpkit {tasks.get(task).name}'")
    if name not in ("lm", "translate"):
        raise NlpkitError(f"{where}: a {name} model; CTranslate2 exports are of translation and language models")
    if importlib.util.find_spec("ctranslate2") is None:
        raise NlpkitError(f"{where}: running a CTranslate2 export needs CTranslate2: {EXTRA}")
    cls = tasks.get(name)
    config, tokenizers = _described(cls, saved)
    _check_sizes(folder, where, name, config)
    check_weights(folder / "model.bin", where)
    where_device = resolve_device(device)

    def engine():
        return _engine(folder, where, name, where_device.type, _compute_type(quantize, about), threads)

    rows = int(about.get("positions", 0))
    if name == "translate":
        runner = Translator(engine(), config, where, rows)
    else:
        runner = Generator(engine(), config, where, rows, reload=engine)
    return cls(runner, tokenizers, saved.meta, where_device)


def _described(cls, saved):
    from nlpkit.tasks.files import described, read_tokenizer

    where = saved.path
    src = read_tokenizer(saved, "tokenizer", saved.tensors)
    if cls.name == "translate":
        from nlpkit.tasks.translate.files import Tokenizers, target_tokenizer
        from nlpkit.tasks.translate.model import Seq2SeqConfig

        config = described(lambda: Seq2SeqConfig.from_dict(saved.meta["model"]), where)
        return config, Tokenizers(src, target_tokenizer(saved, src))
    from nlpkit.tasks.lm.model import LMConfig

    if saved.meta.get("direction", "forward") != "forward":
        raise NlpkitError(f"{where}: a backward language model; CTranslate2 exports generate forwards")
    return described(lambda: LMConfig.from_dict(saved.meta["model"]), where), src


def _check_sizes(folder: Path, where: str, name: str, config) -> None:
    """CTranslate2's config and vocabulary against nlpkit's, before model.bin is read."""
    try:
        ct2 = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NlpkitError(f"{where}: config.json is unreadable ({exc})") from None
    if not isinstance(ct2, dict) or ct2.get("eos_token") != str(EOS_ID) or ct2.get("bos_token") != str(BOS_ID):
        raise NlpkitError(f"{where}: config.json is not the one nlpkit writes (its special tokens differ)")
    sizes = {"source": config.src_vocab, "target": config.tgt_vocab} if name == "translate" else {"": config.vocab_size}
    for side, size in sizes.items():
        candidates = [f"{side}_vocabulary.json", "shared_vocabulary.json"] if side else ["vocabulary.json"]
        found = next((folder / c for c in candidates if (folder / c).is_file()), None)
        if found is None:
            raise NlpkitError(f"{where}: an incomplete CTranslate2 export (no {candidates[0]})")
        try:
            tokens = json.loads(found.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise NlpkitError(f"{where}: {found.name} is unreadable ({exc})") from None
        if tokens != [str(i) for i in range(size)]:
            raise NlpkitError(f"{where}: {found.name} does not hold the model's {size} token ids")


DTYPE_BYTES = (4, 1, 2, 4, 2, 2)  # CTranslate2's float32, int8, int16, int32, float16, bfloat16


def check_weights(path: Path, where: str) -> None:
    """Walk model.bin's variable table before CTranslate2 reads it: every variable's declared
    shape, type and byte count must agree and lie within the file, so CTranslate2 never
    allocates for data that is not there (a damaged or hostile file is refused first)."""
    import math
    import struct

    size = path.stat().st_size

    def bad(why: str):
        return NlpkitError(f"{where}: model.bin is damaged or not CTranslate2's ({why})")

    with open(path, "rb") as f:

        def read(fmt: str):
            data = f.read(struct.calcsize(fmt))
            if len(data) != struct.calcsize(fmt):
                raise bad("it ends early")
            return struct.unpack(fmt, data)

        def string() -> None:
            (length,) = read("H")
            if f.seek(length, 1) > size:
                raise bad("it ends early")

        read("I")  # binary version
        string()
        read("I")  # revision
        (count,) = read("I")
        if count > 100_000:
            raise bad(f"{count} variables")
        for _ in range(count):
            string()
            (rank,) = read("B")
            dims = read(f"{rank}I") if rank else ()
            (dtype,) = read("B")
            (nbytes,) = read("I")
            if dtype >= len(DTYPE_BYTES) or math.prod(dims) * DTYPE_BYTES[dtype] != nbytes:
                raise bad("a variable's size does not match its shape")
            if f.seek(nbytes, 1) > size:
                raise bad("a variable's data is cut short")


def _compute_type(quantize: str, about: dict) -> str:
    if quantize == "int8":
        return "int8"
    if quantize == "none":
        return "float32"
    return "int8" if about.get("int8") else "float32"


def _engine(folder: Path, where: str, name: str, device: str, compute_type: str, threads):
    import ctranslate2

    from nlpkit.threads import count

    cls = ctranslate2.Translator if name == "translate" else ctranslate2.Generator
    try:
        return cls(str(folder), device=device, compute_type=compute_type, intra_threads=count(threads), inter_threads=1)
    except Exception as exc:  # CTranslate2 raises RuntimeError, IndexError, ValueError ... for a bad file
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise NlpkitError(f"{where}: CTranslate2 cannot read the model ({first})") from None
