"""A linear-chain CRF with transitions restricted to the ones a tag scheme allows.

Forbidden transitions get a large negative score (not -inf, which would turn log-sum-exp into
NaN on fully masked rows), so neither training nor Viterbi decoding ever follows them. The same
constrained Viterbi decodes softmax taggers (zero transition scores), so their output is always
a well-formed tag sequence too.
"""

from __future__ import annotations

import torch
from torch import nn

FORBIDDEN = -1e4


class CRF(nn.Module):
    def __init__(self, allowed: list[list[bool]], may_start: list[bool], may_end: list[bool]):
        super().__init__()
        n = len(allowed)
        self.transitions = nn.Parameter(torch.zeros(n, n))  # [from, to]
        self.start = nn.Parameter(torch.zeros(n))
        self.end = nn.Parameter(torch.zeros(n))
        self.register_buffer("allowed", torch.tensor(allowed, dtype=torch.bool), persistent=False)
        self.register_buffer("may_start", torch.tensor(may_start, dtype=torch.bool), persistent=False)
        self.register_buffer("may_end", torch.tensor(may_end, dtype=torch.bool), persistent=False)

    def scores(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Transition, start and end scores with the forbidden ones pushed down."""
        return (
            self.transitions.masked_fill(~self.allowed, FORBIDDEN),
            self.start.masked_fill(~self.may_start, FORBIDDEN),
            self.end.masked_fill(~self.may_end, FORBIDDEN),
        )

    def log_partition(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """log Z per sequence: emissions [B, T, N] (float32), mask [B, T] (first step always on)."""
        trans, start, end = self.scores()
        alpha = start + emissions[:, 0]
        for t in range(1, emissions.size(1)):
            step = torch.logsumexp(alpha[:, :, None] + trans[None], dim=1) + emissions[:, t]
            alpha = torch.where(mask[:, t, None], step, alpha)
        return torch.logsumexp(alpha + end, dim=1)

    def sequence_score(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        trans, start, end = self.scores()
        batch = torch.arange(emissions.size(0), device=emissions.device)
        score = start[tags[:, 0]] + emissions[batch, 0, tags[:, 0]]
        for t in range(1, emissions.size(1)):
            step = trans[tags[:, t - 1], tags[:, t]] + emissions[batch, t, tags[:, t]]
            score = score + step * mask[:, t]
        last = tags[batch, mask.sum(1) - 1]
        return score + end[last]

    def nll(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood of the gold tags, per sequence [B]."""
        emissions = emissions.float()
        return self.log_partition(emissions, mask) - self.sequence_score(emissions, tags, mask)

    def marginals(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """P(tag at t = k | sentence) [B, T, N]: the gradient of log Z with respect to the
        emissions is exactly the matrix of marginals (forward-backward by autograd)."""
        with torch.enable_grad():
            e = emissions.detach().float().requires_grad_(True)
            (grad,) = torch.autograd.grad(self.log_partition(e, mask).sum(), e)
        return grad

    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        trans, start, end = self.scores()
        return viterbi(emissions.float(), mask, trans, start, end)


def viterbi(emissions, mask, trans, start, end) -> list[list[int]]:
    """Best tag sequence per row of emissions [B, T, N] under transition scores [N, N]."""
    batch, time, _ = emissions.shape
    score = start + emissions[:, 0]
    history = []
    for t in range(1, time):
        best, index = (score[:, :, None] + trans[None]).max(dim=1)  # best previous tag for each tag
        step = best + emissions[:, t]
        on = mask[:, t, None]
        score = torch.where(on, step, score)
        history.append(torch.where(on, index, torch.arange(index.size(1), device=index.device)[None]))
    score = score + end
    lengths = mask.sum(1).tolist()
    last = score.argmax(1).tolist()
    # Backtrack in plain Python lists: one conversion instead of a tensor index per token.
    back = torch.stack(history, dim=1).tolist() if history else [[] for _ in range(batch)]  # [B][T-1][N]
    paths = []
    for row in range(batch):
        tag = last[row]
        path = [tag]
        steps = back[row]
        for t in range(time - 2, -1, -1):
            tag = steps[t][tag]
            path.append(tag)
        path.reverse()
        paths.append(path[: lengths[row]])
    return paths


def constraint_scores(allowed, may_start, may_end, device=None):
    """Zero scores where allowed and FORBIDDEN elsewhere: Viterbi for softmax taggers."""

    def as_scores(flags):
        t = torch.tensor(flags, dtype=torch.bool, device=device)
        return torch.zeros(t.shape, device=device).masked_fill(~t, FORBIDDEN)

    return as_scores(allowed), as_scores(may_start), as_scores(may_end)
