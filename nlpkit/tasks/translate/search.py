"""Translating a batch of sentences with greedy or beam search: source encoding, the search
settings, and hypotheses turned back into text and subword pieces.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from nlpkit.data.batching import pad, token_budget_groups
from nlpkit.decoding import Hypothesis, beam_search, greedy_search
from nlpkit.tasks.translate.files import Tokenizers
from nlpkit.tasks.translate.model import TASK, Seq2Seq, Seq2SeqConfig  # noqa: F401 - TASK is part of the API
from nlpkit.tasks.translate.options import SearchOptions
from nlpkit.text.tokenizers import BOS_ID, EOS_ID, PAD_ID


def encode_source(tok, text: str, max_len: int) -> tuple[list[int], bool]:
    """Source ids ending in the end token; (ids, whether the text was cut to max_len tokens)."""
    ids = tok.encode(text)
    cut = len(ids) > max_len - 1
    return ids[: max_len - 1] + [EOS_ID], cut


def longest_output(search: SearchOptions, source_tokens: int) -> int:
    """The most tokens a translation may have (its end token included)."""
    return int(search.max_length_ratio * source_tokens) + 5


# ----- translating -------------------------------------------------------------------------------


@dataclass
class Translation:
    hypotheses: list[Hypothesis]  # best first; empty for an empty source line
    source_ids: list[int]
    cut: bool = False


@torch.no_grad()
def translate(model: Seq2Seq, toks: Tokenizers, lines: list[str], search: SearchOptions) -> list[Translation]:
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
    if getattr(model, "runtime", None) == "ctranslate2":  # an export: CTranslate2 batches and searches
        max_lens = [longest_output(search, len(results[i].source_ids)) for i in todo]
        found = model.search([results[i].source_ids for i in todo], max_lens, search)
        for i, hyps in zip(todo, found, strict=True):
            results[i].hypotheses = hyps
        return results
    lengths = [len(results[i].source_ids) for i in todo]
    for group in token_budget_groups(lengths, search.batch_size * 32, max_batch=search.batch_size):
        rows = [todo[g] for g in group]
        src, src_lengths = pad([results[r].source_ids for r in rows])
        memory = model.encode(src.to(device), src_lengths)
        max_lens = [longest_output(search, len(results[r].source_ids)) for r in rows]
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
