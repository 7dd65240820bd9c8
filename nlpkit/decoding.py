"""Choosing the next token: greedy, sampling with temperature, top-k, top-p, repetition penalty
and n-gram blocking. Shared by text generation and (later) translation.

The decoder is model-agnostic: it calls `step(tokens [B, 1], state) -> (logits [B, V], state)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch


@dataclass
class SamplingConfig:
    max_new_tokens: int = 200
    temperature: float = 1.0  # 0 means greedy
    top_k: int = 0  # 0: off
    top_p: float = 1.0  # 1: off
    repetition_penalty: float = 1.0  # 1: off; >1 discourages tokens already present
    no_repeat_ngram: int = 0  # 0: off; n forbids repeating any n-gram

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ValueError("--temperature must be 0 (greedy) or positive")
        if not 0 < self.top_p <= 1:
            raise ValueError("--top-p must be in (0, 1]")
        if self.top_k < 0 or self.no_repeat_ngram < 0 or self.max_new_tokens < 0:
            raise ValueError("--top-k, --no-repeat-ngram and --max-new-tokens cannot be negative")
        if self.repetition_penalty <= 0:
            raise ValueError("--repetition-penalty must be positive")


def apply_repetition_penalty(logits: torch.Tensor, history: torch.Tensor, penalty: float) -> torch.Tensor:
    """CTRL's penalty: shrink the logits of every token already in the row's history."""
    if penalty == 1.0 or history.numel() == 0:
        return logits
    seen = torch.gather(logits, 1, history)
    seen = torch.where(seen > 0, seen / penalty, seen * penalty)
    return logits.scatter(1, history, seen)


def banned_ngram_tokens(row: list[int], n: int) -> list[int]:
    """Tokens that would complete an n-gram already present in `row`."""
    if n <= 0 or len(row) < n:
        return []
    prefix = tuple(row[len(row) - n + 1 :]) if n > 1 else ()
    return [row[i + n - 1] for i in range(len(row) - n + 1) if tuple(row[i : i + n - 1]) == prefix]


def filter_top_k_top_p(logits: torch.Tensor, top_k: int, top_p: float) -> torch.Tensor:
    if top_k and top_k < logits.size(-1):
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cumulative = torch.softmax(sorted_logits, dim=-1).cumsum(-1)
        # Drop a token when the mass before it already reaches top_p (the first always stays).
        drop_sorted = (cumulative - torch.softmax(sorted_logits, dim=-1)) >= top_p
        drop = drop_sorted.scatter(1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


def choose_next(
    logits: torch.Tensor, history: torch.Tensor, config: SamplingConfig, generator: torch.Generator | None = None
) -> torch.Tensor:
    """logits [B, V] (float), history [B, T] -> next token ids [B]."""
    logits = apply_repetition_penalty(logits.float(), history, config.repetition_penalty)
    if config.no_repeat_ngram:
        for row, tokens in enumerate(history.tolist()):
            banned = banned_ngram_tokens(tokens, config.no_repeat_ngram)
            if banned and len(set(banned)) < logits.size(-1):
                logits[row, banned] = float("-inf")
    if config.temperature == 0:
        return logits.argmax(-1)
    logits = filter_top_k_top_p(logits / config.temperature, config.top_k, config.top_p)
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)


StepFn = Callable[[torch.Tensor, object], tuple[torch.Tensor, object]]


@torch.no_grad()
def sample(
    step: StepFn,
    state,
    logits: torch.Tensor,
    history: torch.Tensor,
    config: SamplingConfig,
    generator: torch.Generator | None = None,
    finished: Callable[[int, list[int]], bool] | None = None,
    on_token: Callable[[torch.Tensor], None] | None = None,
    suppress: list[int] | None = None,
) -> list[list[int]]:
    """Extend each row of `history` until max_new_tokens or `finished(row, new_tokens)`.

    `logits` are the model's predictions after the last history token; `suppress` lists token
    ids that are never chosen (padding, sequence start). Returns the new tokens
    of each row (a finished row stops growing; the batch runs until every row is finished).
    """
    batch = history.size(0)
    new: list[list[int]] = [[] for _ in range(batch)]
    done = [False] * batch
    for _ in range(config.max_new_tokens):
        if suppress:
            logits = logits.float().index_fill(1, torch.tensor(suppress, device=logits.device), float("-inf"))
        token = choose_next(logits, history, config, generator)
        history = torch.cat([history, token[:, None]], dim=1)
        if on_token is not None:
            on_token(token)
        for row, t in enumerate(token.tolist()):
            if not done[row]:
                new[row].append(t)
                if finished is not None and finished(row, new[row]):
                    done[row] = True
        if all(done):
            break
        logits, state = step(token[:, None], state)
    return new
