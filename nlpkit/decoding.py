"""Choosing the next token: greedy, sampling with temperature, top-k, top-p, repetition penalty
and n-gram blocking (text generation), and greedy / beam search for translation.

Sampling is model-agnostic: it calls `step(tokens [B, 1], state) -> (logits [B, V], state)`.
The searches drive a decoder with `start(memory)`, `step(tokens, state, memory, need_weights)`
and `reorder(state, index)` (nlpkit.tasks.translate.model.Seq2Seq). Sampling settings are
nlpkit.tasks.lm.options.SamplingOptions (declared, checked and documented there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch


def apply_repetition_penalty(logits: torch.Tensor, history: torch.Tensor, penalty: float) -> torch.Tensor:
    """CTRL's penalty: shrink the logits of every token already in the row's history."""
    if penalty == 1.0 or history.numel() == 0:
        return logits
    seen = torch.gather(logits, 1, history)
    seen = torch.where(seen > 0, seen / penalty, seen * penalty)
    return logits.scatter(1, history, seen)


def banned_ngram_tokens(row: list[int], n: int) -> list[int]:
    """Tokens that would complete an n-gram already present in `row` (one row, for reading and
    testing; the sampler uses ban_repeated_ngrams on the whole batch)."""
    if n <= 0 or len(row) < n:
        return []
    prefix = tuple(row[len(row) - n + 1 :]) if n > 1 else ()
    return [row[i + n - 1] for i in range(len(row) - n + 1) if tuple(row[i : i + n - 1]) == prefix]


def ban_repeated_ngrams(logits: torch.Tensor, history: torch.Tensor, n: int) -> torch.Tensor:
    """-inf for every token that would complete an n-gram already in its row's history, on the
    whole batch at once; a row whose every token would repeat one keeps its logits (the rule
    yields for that step rather than leave nothing to choose)."""
    if n <= 0 or history.size(1) < n:
        return logits
    grams = history.unfold(1, n, 1)  # [B, windows, n]
    if n > 1:
        match = (grams[:, :, :-1] == history[:, None, history.size(1) - n + 1 :]).all(-1)
    else:
        match = torch.ones(grams.shape[:2], dtype=torch.bool, device=history.device)
    banned = torch.zeros(logits.shape, dtype=torch.uint8, device=logits.device)
    banned.scatter_reduce_(1, grams[:, :, -1], match.to(torch.uint8), reduce="amax")
    out = logits.masked_fill(banned.bool(), float("-inf"))
    keep = ~torch.isfinite(out).any(-1, keepdim=True)
    return torch.where(keep, logits, out)


def filter_top_k_top_p(logits: torch.Tensor, top_k: int, top_p: float) -> torch.Tensor:
    if top_k and top_k < logits.size(-1):
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        probs = torch.softmax(sorted_logits, dim=-1)
        # Drop a token when the mass before it already reaches top_p (the first always stays).
        drop_sorted = (probs.cumsum(-1) - probs) >= top_p
        drop_sorted[:, 0] = False
        drop = drop_sorted.scatter(1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


def choose_next(
    logits: torch.Tensor, history: torch.Tensor, config, generator: torch.Generator | None = None
) -> torch.Tensor:
    """logits [B, V] (float), history [B, T] -> next token ids [B]; no Python loop over rows."""
    logits = apply_repetition_penalty(logits.float(), history, config.repetition_penalty)
    logits = ban_repeated_ngrams(logits, history, config.no_repeat_ngram)
    if config.temperature == 0:
        return logits.argmax(-1)
    logits = filter_top_k_top_p(logits / config.temperature, config.top_k, config.top_p)
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)


StepFn = Callable[[torch.Tensor, object], tuple[torch.Tensor, object]]


@torch.inference_mode()
def sample(
    step: StepFn,
    state,
    logits: torch.Tensor,
    history: torch.Tensor,
    config,
    generator: torch.Generator | None = None,
    finished: Callable[[int, list[int]], bool] | None = None,
    on_token: Callable[[torch.Tensor], None] | None = None,
    suppress: list[int] | None = None,
) -> list[list[int]]:
    """Extend each row of `history` until max_new_tokens or `finished(row, new_tokens)`.

    `logits` are the model's predictions after the last history token; `suppress` lists token
    ids that are never chosen (padding, sequence start). Returns the new tokens
    of each row (a finished row stops growing; the batch runs until every row is finished).

    The loop is lean: the history lives in one buffer allocated up front, the suppressed tokens
    are one mask made once, and tokens come back to the host only where something needs them
    there (a stop rule, a token stream); otherwise once, at the end.
    """
    batch, known = history.shape
    steps = config.max_new_tokens
    buffer = torch.empty(batch, known + steps, dtype=history.dtype, device=history.device)
    buffer[:, :known] = history
    ban = None
    if suppress:
        ban = torch.zeros(logits.size(-1), dtype=torch.bool, device=logits.device)
        ban[torch.tensor(suppress, device=logits.device)] = True
    needs_history = config.repetition_penalty != 1.0 or config.no_repeat_ngram > 0
    new: list[list[int]] = [[] for _ in range(batch)]
    ends = [steps] * batch  # where each row's new tokens end (a finished row, earlier)
    done = [False] * batch
    made = 0
    for t in range(steps):
        if ban is not None:
            logits = logits.float().masked_fill(ban, float("-inf"))
        seen = buffer[:, : known + t] if needs_history else buffer[:, :0]
        token = choose_next(logits, seen, config, generator)
        buffer[:, known + t] = token
        made = t + 1
        if on_token is not None:
            on_token(token)
        if finished is not None:
            for row, tok in enumerate(token.tolist()):
                if not done[row]:
                    new[row].append(tok)
                    if finished(row, new[row]):
                        done[row], ends[row] = True, t + 1
            if all(done):
                break
        if t + 1 < steps:
            logits, state = step(token[:, None], state)
    if finished is not None:
        return new
    rows = buffer[:, known : known + made].tolist()
    return [row[: ends[r]] for r, row in enumerate(rows)]


# ----- search (translation) ----------------------------------------------------------------------


@dataclass
class Hypothesis:
    tokens: list[int]  # without the end token
    score: float  # log-probability divided by the length penalty: what the beam ranks by
    logprob: float  # log-probability of the tokens and the end token
    attention: torch.Tensor | None = None  # [len(tokens) + 1, source length]


def length_penalty(length: int, alpha: float) -> float:
    """GNMT's ((5 + length) / 6) ** alpha: alpha 0 ranks by raw log-probability (short outputs
    win), larger alphas favour longer outputs."""
    return ((5 + length) / 6) ** alpha


def coverage_penalty(coverage: torch.Tensor, mask: torch.Tensor, beta: float) -> float:
    """GNMT's beta * sum over source positions of log(min(attention received, 1)): 0 when every
    real source position got at least a whole unit of attention, more negative the more of the
    source the translation left unread (Wu et al. 2016)."""
    return beta * float(coverage[mask].clamp(min=1e-6, max=1.0).log().sum())


def _banned(logp: torch.Tensor, banned: list[int]) -> torch.Tensor:
    """Log-probabilities over the tokens the search may choose: the banned ones taken out and the
    rest renormalised (as CTranslate2 does, so that its scores and these agree)."""
    index = torch.tensor(banned, device=logp.device)
    # log(1 - p(banned)) from the few banned columns, not a second pass over the vocabulary
    kept = torch.log1p(-logp.index_select(1, index).exp().sum(-1, keepdim=True).clamp(max=1 - 1e-6))
    return logp.index_fill(1, index, float("-inf")) - kept


@torch.inference_mode()
def greedy_search(model, memory, max_lens: list[int], eos: int, bos: int, banned: list[int], need_weights=False):
    """One hypothesis per row: the most probable token at every step, until `eos` or the row's
    maximum length (counting the end token)."""
    n = len(max_lens)
    device = memory.mask.device
    state = model.start(memory)
    tokens = torch.full((n,), bos, dtype=torch.long, device=device)
    out: list[list[int]] = [[] for _ in range(n)]
    logprob = [0.0] * n
    attn: list[list[torch.Tensor]] = [[] for _ in range(n)]
    done = [False] * n
    for t in range(max(max_lens)):
        logp, weights, state = model.step(tokens, state, memory, need_weights)
        logp = _banned(logp, banned if t else [*banned, eos])  # an empty translation is never chosen
        best, tokens = logp.max(-1)
        for row, (tok, lp) in enumerate(zip(tokens.tolist(), best.tolist(), strict=True)):
            if done[row]:
                continue
            logprob[row] += lp
            if weights is not None:
                attn[row].append(weights[row])
            if tok == eos or t + 1 >= max_lens[row]:
                done[row] = True
            if tok != eos:
                out[row].append(tok)
        if all(done):
            break
    return [[Hypothesis(out[r], logprob[r], logprob[r], torch.stack(attn[r]) if attn[r] else None)] for r in range(n)]


@torch.inference_mode()
def beam_search(
    model,
    memory,
    max_lens: list[int],
    beam: int,
    eos: int,
    bos: int,
    banned: list[int],
    alpha: float = 0.6,
    n_best: int = 1,
    need_weights: bool = False,
    beta: float = 0.0,
) -> list[list[Hypothesis]]:
    """The `n_best` best hypotheses of every row (best first) by log-probability over GNMT's
    length penalty, plus its coverage penalty when `beta` > 0 (the decoder must then return
    attention). Each step keeps the `beam` best unfinished continuations per row; a row
    stops once `beam` hypotheses have ended (or at its maximum length, where the open ones end),
    and its beam leaves the batch, so the steps that follow compute only sentences still open
    (as CTranslate2 does)."""
    b, k = len(max_lens), beam
    device = memory.mask.device
    memory = memory.expand(k)
    state = model.start(memory)
    tokens = torch.full((b * k,), bos, dtype=torch.long, device=device)
    scores = torch.full((b, k), float("-inf"), device=device)
    scores[:, 0] = 0.0
    history: list[list[int]] = [[] for _ in range(b * k)]
    attention: torch.Tensor | None = None  # [rows, steps, S]
    coverage: torch.Tensor | None = None  # [rows, S]: attention each source position received so far
    finished: list[list[Hypothesis]] = [[] for _ in range(b)]
    alive = list(range(b))  # sentence alive[p] owns batch rows p*k .. p*k+k-1
    for t in range(max(max_lens)):
        logp, weights, state = model.step(tokens, state, memory, need_weights or bool(beta))
        logp = _banned(logp, banned if t else [*banned, eos])  # an empty translation is never chosen
        vocab = logp.size(-1)
        if weights is not None and need_weights:
            attention = weights[:, None] if attention is None else torch.cat([attention, weights[:, None]], 1)
        if beta:
            coverage = weights.float() if coverage is None else coverage + weights.float()
        candidates = (scores.view(-1, 1) + logp).view(len(alive), k * vocab)
        top_scores, top_index = candidates.topk(min(2 * k, k * vocab), dim=1)
        top_scores, top_index = top_scores.tolist(), top_index.tolist()
        rows, new_tokens, new_scores, still_open = [], [], [], []
        for p, i in enumerate(alive):
            chosen: list[tuple[int, int, float]] = []
            last = t + 1 >= max_lens[i]
            for score, index in zip(top_scores[p], top_index[p], strict=True):
                if score == float("-inf"):
                    break
                row, tok = p * k + index // vocab, index % vocab
                if tok == eos or last:
                    seq = history[row] + ([] if tok == eos else [tok])
                    att = attention[row] if attention is not None else None
                    ranked = score / length_penalty(t + 1, alpha)
                    if beta:
                        ranked += coverage_penalty(coverage[row], memory.mask[row], beta)
                    finished[i].append(Hypothesis(seq, ranked, score, att))
                    if len(finished[i]) >= k:
                        break
                elif len(chosen) < k:
                    chosen.append((row, tok, score))
                if len(chosen) == k:
                    break
            if len(finished[i]) >= k or last or not chosen:
                continue  # done: its rows leave the batch
            while len(chosen) < k:  # fewer open continuations than the beam: rows never chosen again
                chosen.append((p * k, eos if t else bos, float("-inf")))
            still_open.append(i)
            for row, tok, score in chosen:
                rows.append(row)
                new_tokens.append(tok)
                new_scores.append(score)
        shrunk, alive = len(still_open) < len(alive), still_open
        if not alive:
            break
        index = torch.tensor(rows, device=device)
        state = model.reorder(state, index)
        if shrunk:  # a sentence's rows share one memory row, so only a finished sentence changes it
            memory = memory.select(index)
        if attention is not None:
            attention = attention.index_select(0, index)
        if coverage is not None:
            coverage = coverage.index_select(0, index)
        history = [history[r] + [tok] for r, tok in zip(rows, new_tokens, strict=True)]
        tokens = torch.tensor(new_tokens, device=device)
        scores = torch.tensor(new_scores, device=device).view(len(alive), k)
    return [sorted(f, key=lambda h: -h.score)[:n_best] for f in finished]
