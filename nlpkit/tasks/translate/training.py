"""Translation training: sentence pairs encoded within length limits, token-budget batches, and
the training adapter (label-smoothed loss, validation BLEU and loss)."""

from __future__ import annotations

import math

import torch

from nlpkit.data.batching import pad, shuffled_token_batches, token_budget_groups
from nlpkit.tasks.translate.files import Tokenizers
from nlpkit.tasks.translate.model import Seq2Seq
from nlpkit.tasks.translate.options import SearchOptions, TranslateOptions
from nlpkit.tasks.translate.search import detokenize, translate
from nlpkit.text.tokenizers import BOS_ID, EOS_ID


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


class TranslationTraining:
    """The translation side of the training engine (see nlpkit.training)."""

    metric, higher_is_better = TranslateOptions.SELECTED_BY

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
        from nlpkit.tasks.translate.scores import translation_scores

        src, ref = self.valid
        found = translate(self.model, self.toks, src, SearchOptions(beam=1, n_best=1))
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
