"""Translation: encoding sentence pairs, the training adapter (label-smoothed loss, validation
BLEU), batch translation with greedy or beam search, and model files with one or two tokenizers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from nlpkit.data.batching import pad, shuffled_token_batches, token_budget_groups
from nlpkit.decoding import Hypothesis, beam_search, greedy_search
from nlpkit.errors import option
from nlpkit.tasks.seq2seq import TASK, Seq2Seq, Seq2SeqConfig  # noqa: F401 - TASK is part of the API
from nlpkit.text.tokenizers import BOS_ID, EOS_ID, PAD_ID

TARGET_PREFIX = "tokenizer.target."


@dataclass
class Tokenizers:
    src: object
    tgt: object

    @property
    def shared(self) -> bool:
        return self.src is self.tgt


def encode_source(tok, text: str, max_len: int) -> tuple[list[int], bool]:
    """Source ids ending in the end token; (ids, whether the text was cut to max_len tokens)."""
    ids = tok.encode(text)
    cut = len(ids) > max_len - 1
    return ids[: max_len - 1] + [EOS_ID], cut


def encode_pairs(toks: Tokenizers, src: list[str], tgt: list[str], max_src: int, max_tgt: int):
    """Encoded (source, target) pairs within the length limits, and how many were left out
    (too long, or empty on one side)."""
    kept, dropped = [], 0
    for s, t in zip(src, tgt, strict=True):
        s_ids, t_ids = toks.src.encode(s), toks.tgt.encode(t)
        if not s_ids or not t_ids or len(s_ids) >= max_src or len(t_ids) >= max_tgt:
            dropped += 1
            continue
        kept.append((s_ids + [EOS_ID], t_ids))
    return kept, dropped


def make_batch(pairs: list, indices: list[int]):
    src, src_lengths = pad([pairs[i][0] for i in indices])
    tgt_in, _ = pad([[BOS_ID, *pairs[i][1]] for i in indices])
    tgt_out, _ = pad([[*pairs[i][1], EOS_ID] for i in indices])
    return src, src_lengths, tgt_in, tgt_out


# ----- translating -------------------------------------------------------------------------------


@dataclass
class SearchConfig:
    beam: int = 5
    length_penalty: float = 0.6
    coverage_penalty: float = 0.0  # GNMT's beta (beam search only)
    n_best: int = 1
    max_length_ratio: float = 2.0
    max_src_len: int = 256
    batch_size: int = 64
    alignments: bool = False

    def __post_init__(self) -> None:
        if self.coverage_penalty < 0:
            raise ValueError(f"{option('coverage_penalty')} must be 0 (off) or more")
        if self.coverage_penalty and self.beam == 1:  # greedy search has no hypotheses to rank
            raise ValueError(
                f"{option('coverage_penalty')} ranks beam search hypotheses; give {option('beam')} 2 or more"
            )
        if self.n_best > self.beam:
            raise ValueError(f"{option('n_best')} {self.n_best} cannot exceed {option('beam')} {self.beam}")


@dataclass
class Translation:
    hypotheses: list[Hypothesis]  # best first; empty for an empty source line
    source_ids: list[int]
    cut: bool = False


@torch.no_grad()
def translate(model: Seq2Seq, toks: Tokenizers, lines: list[str], search: SearchConfig) -> list[Translation]:
    """One Translation per line, in input order; an empty (or blank) line gives no hypotheses.
    Sentences are batched by source length (up to batch_size sentences)."""
    device = next(model.parameters()).device
    results = [Translation([], []) for _ in lines]
    todo = []
    for i, line in enumerate(lines):
        if line.strip():
            ids, cut = encode_source(toks.src, line, search.max_src_len)
            results[i] = Translation([], ids, cut)
            todo.append(i)
    lengths = [len(results[i].source_ids) for i in todo]
    for group in token_budget_groups(lengths, search.batch_size * 32, max_batch=search.batch_size):
        rows = [todo[g] for g in group]
        src, src_lengths = pad([results[r].source_ids for r in rows])
        memory = model.encode(src.to(device), src_lengths)
        max_lens = [int(search.max_length_ratio * len(results[r].source_ids)) + 5 for r in rows]
        banned = [PAD_ID, BOS_ID]
        if search.beam == 1:
            found = greedy_search(model, memory, max_lens, EOS_ID, BOS_ID, banned, search.alignments)
        else:
            found = beam_search(
                model,
                memory,
                max_lens,
                search.beam,
                EOS_ID,
                BOS_ID,
                banned,
                alpha=search.length_penalty,
                n_best=search.n_best,
                need_weights=search.alignments,
                beta=search.coverage_penalty,
            )
        for r, hyps in zip(rows, found, strict=True):
            results[r].hypotheses = hyps
    return results


def detokenize(tok, ids: list[int]) -> str:
    """The text of a hypothesis, on one line whatever the tokenizer (a character model may
    have produced a newline)."""
    return tok.decode(ids).replace("\n", " ").strip()


def pieces(tok, ids: list[int]) -> list[str]:
    """The subword (or word) strings of token ids, for alignments."""
    if hasattr(tok, "sp"):
        return [tok.sp.id_to_piece(i) for i in ids]
    return [tok.symbols[i] for i in ids]


# ----- training ----------------------------------------------------------------------------------


class TranslationTraining:
    """The translation side of the training engine (see nlpkit.training)."""

    metric = "valid_bleu"
    higher_is_better = True

    def __init__(
        self,
        model: Seq2Seq,
        toks: Tokenizers,
        train: list,
        valid: tuple[list[str], list[str]] | None,
        batch_tokens: int,
        device,
        *,
        label_smoothing: float = 0.1,
        seed: int = 0,
    ):
        self.model = model
        self.toks = toks
        self.pairs = train
        self.valid = valid
        self.batch_tokens = batch_tokens
        self.device = device
        self.label_smoothing = label_smoothing
        self.seed = seed
        self._lengths = [max(len(s), len(t) + 1) for s, t in train]
        self._steps = len(self._epoch_batches(0))
        # the validation pairs for the loss, encoded once (not at every validation)
        self._valid_pairs = encode_pairs(toks, *valid, 10_000, 10_000)[0] if valid is not None else []

    def _epoch_batches(self, epoch: int) -> list[list[int]]:
        g = torch.Generator().manual_seed(self.seed * 1000 + epoch)
        return shuffled_token_batches(self._lengths, self.batch_tokens, g)

    def steps_per_epoch(self) -> int:
        return self._steps

    def batches(self, epoch: int, start: int):
        for i, group in enumerate(self._epoch_batches(epoch)):
            if i >= start:
                yield tuple(t.to(self.device) for t in make_batch(self.pairs, group))

    def loss(self, batch):
        src, src_lengths, tgt_in, tgt_out = batch
        return self.model.loss(src, src_lengths, tgt_in, tgt_out, self.label_smoothing)

    @torch.no_grad()
    def evaluate(self) -> dict:
        """Greedy BLEU on the validation pairs (what chooses the kept model) and the validation
        loss without label smoothing."""
        if self.valid is None:
            return {}
        from nlpkit.metrics import translation_scores

        src, ref = self.valid
        found = translate(self.model, self.toks, src, SearchConfig(beam=1, n_best=1))
        hyps = [detokenize(self.toks.tgt, t.hypotheses[0].tokens) if t.hypotheses else "" for t in found]
        scores = translation_scores(hyps, ref)
        pairs = self._valid_pairs
        total, count = 0.0, 0
        for group in token_budget_groups([max(len(s), len(t)) for s, t in pairs], 4096):
            s, sl, ti, to = (t.to(self.device) for t in make_batch(pairs, group))
            loss, n = self.model.loss(s, sl, ti, to)
            total += float(loss) * n
            count += n
        out = {"valid_bleu": scores["bleu"], "valid_chrf": scores["chrf"]}
        if count:
            out["valid_loss"] = round(total / count, 4)
            out["valid_ppl"] = round(math.exp(min(total / count, 50)), 2)
        return out


# ----- model files -------------------------------------------------------------------------------


def to_modelfile(model: Seq2Seq, toks: Tokenizers, extra_meta: dict):
    from nlpkit.modelfile import ModelFile
    from nlpkit.text.tokenizers import tokenizer_to_file

    meta, tensors = tokenizer_to_file(toks.src)
    file_meta = {"model": model.config.to_dict(), "tokenizer": meta, **extra_meta}
    if not toks.shared:
        tgt_meta, tgt_tensors = tokenizer_to_file(toks.tgt)
        file_meta["target_tokenizer"] = tgt_meta
        tensors.update({TARGET_PREFIX + k.split(".", 1)[1]: v for k, v in tgt_tensors.items()})
    weights = {f"model.{k}": v for k, v in model.state_dict().items()}
    return ModelFile(TASK, file_meta, {**weights, **tensors})


def from_modelfile(saved, device=None) -> tuple[Seq2Seq, Tokenizers]:
    """The model (eval mode, on `device`) and its tokenizers from a loaded model file."""
    from nlpkit.tasks.files import load_weights
    from nlpkit.tasks.seq2seq import build_model

    model, src = load_weights(lambda: build_model(Seq2SeqConfig.from_dict(saved.meta["model"])), saved, device)
    return model, Tokenizers(src, target_tokenizer(saved, src))


def target_tokenizer(saved, src):
    """The target side's tokenizer of a loaded model file: its own, or `src` where the vocabulary is joint."""
    from nlpkit.tasks.files import read_tokenizer

    if "target_tokenizer" not in saved.meta:
        return src
    blob = {"tokenizer." + k[len(TARGET_PREFIX) :]: v for k, v in saved.tensors.items() if k.startswith(TARGET_PREFIX)}
    return read_tokenizer(saved, "target_tokenizer", blob)
