"""Synthetic long-range dependency tasks: can an encoder carry one fact across d steps?

recall     [key, d-1 distractors, query] -> the key (one of 8 symbols; chance 1/8)
agreement  [subject noun, d-1 words, verb slot] -> the subject's number (chance 1/2); the words
           in between include nouns of either number ("the cat near the dogs ... sleeps"), so the
           most recent noun is no guide.

Each encoder is trained on freshly generated sequences for a fixed number of steps at each
distance and scored on held-out sequences.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from nlpkit.encoders import EncoderConfig, build_encoder

TASKS = ("recall", "agreement")
KEYS = 8  # recall: symbols to remember
FILLERS = 32  # neutral distractor words
NOUNS = 8  # agreement: nouns of each number
QUERY = 1  # ids: 1 = query / verb slot, then keys, fillers, singular and plural nouns
KEY0 = 2
FILL0 = KEY0 + KEYS
SING0 = FILL0 + FILLERS
PLUR0 = SING0 + NOUNS
VOCAB = PLUR0 + NOUNS


def make_batch(task: str, distance: int, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Sequences [batch, distance + 1] and their labels [batch]; the fact sits `distance` steps
    before the query at the end."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; use {', '.join(TASKS)}")
    if distance < 1:
        raise ValueError("distance must be at least 1")
    middle = FILL0 + torch.randint(0, FILLERS, (batch, distance - 1), generator=generator)
    if task == "recall":
        labels = torch.randint(0, KEYS, (batch,), generator=generator)
        first = KEY0 + labels
    else:
        labels = torch.randint(0, 2, (batch,), generator=generator)  # 0 singular, 1 plural
        first = SING0 + labels * NOUNS + torch.randint(0, NOUNS, (batch,), generator=generator)
        # A quarter of the words in between are attractor nouns of random number.
        attract = torch.rand(middle.shape, generator=generator) < 0.25
        nouns = SING0 + torch.randint(0, 2 * NOUNS, middle.shape, generator=generator)
        middle = torch.where(attract, nouns, middle)
    query = torch.full((batch, 1), QUERY)
    return torch.cat([first[:, None], middle, query], dim=1), labels


def classes(task: str) -> int:
    return KEYS if task == "recall" else 2


class LastStepClassifier(nn.Module):
    def __init__(self, kind: str, hidden: int, layers: int, n_classes: int, max_len: int):
        super().__init__()
        config = EncoderConfig(
            kind=kind, input_size=hidden, hidden_size=hidden, layers=layers, causal=True, max_len=max_len, heads=4
        )
        self.embedding = nn.Embedding(VOCAB, hidden)
        self.encoder = build_encoder(config)
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, tokens):
        h, _ = self.encoder(self.embedding(tokens))
        return self.head(h[:, -1])


@dataclass
class MemoryResult:
    encoder: str
    task: str
    distance: int
    accuracy: float
    final_loss: float
    seconds: float


def train_and_score(
    kind: str,
    task: str,
    distance: int,
    *,
    steps: int = 300,
    batch: int = 32,
    hidden: int = 64,
    layers: int = 1,
    lr: float = 3e-3,
    eval_size: int = 512,
    seed: int = 0,
    device="cpu",
) -> MemoryResult:
    import time

    t0 = time.perf_counter()
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = LastStepClassifier(kind, hidden, layers, classes(task), distance + 8).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    losses = []
    model.train()
    for step in range(steps):
        for group in optimizer.param_groups:  # short warmup, then linear decay
            group["lr"] = lr * min(1.0, (step + 1) / 30) * (1 - step / steps)
        tokens, labels = make_batch(task, distance, batch, g)
        loss = F.cross_entropy(model(tokens.to(device)), labels.to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    held_out = torch.Generator().manual_seed(10_000 + seed)
    tokens, labels = make_batch(task, distance, eval_size, held_out)
    with torch.no_grad():
        accuracy = (model(tokens.to(device)).argmax(-1).cpu() == labels).float().mean().item()
    tail = losses[-20:]
    return MemoryResult(
        kind, task, distance, round(accuracy, 4), round(sum(tail) / len(tail), 4), round(time.perf_counter() - t0, 2)
    )


def sweep(o) -> dict:
    """Every task x encoder x distance of a MemoryOptions set (`nlpkit diagnose memory`), with a
    progress line each: {"steps", "batch", "hidden", "layers", "results": [MemoryResult as dict]}."""
    from nlpkit.console import info
    from nlpkit.device import resolve_device
    from nlpkit.option_parsing import comma_numbers

    tasks = list(TASKS) if o.task == "both" else [o.task]
    dists, device = comma_numbers(o.distances, "distances"), resolve_device(o.device)
    results = []
    total = len(tasks) * len(o.encoders) * len(dists)
    for task in tasks:
        for kind in o.encoders:
            for d in dists:
                r = train_and_score(
                    kind, task, d, steps=o.steps, batch=o.batch, hidden=o.hidden, layers=o.layers, lr=o.lr,
                    seed=o.seed, device=device,
                )  # fmt: skip
                results.append(r)
                what = f"{task} {kind} distance {d}: accuracy {r.accuracy:.3f} ({r.seconds:.1f} s)"
                info(f"[{len(results)}/{total}] {what}", o.quiet)
    shape = {"steps": o.steps, "batch": o.batch, "hidden": o.hidden, "layers": o.layers}
    return {**shape, "results": [vars(r) for r in results]}
