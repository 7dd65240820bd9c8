"""How much the loss at the last step depends on each earlier input: the norm of dL/dx_t,
the gradient with respect to the input vector t steps back. Vanishing gradients show as norms
that fall geometrically with distance; exploding ones as norms that grow.

A probe is an embedding, a shared encoder and a linear read-out at the last step; it is
either freshly initialised (untrained) or taken from a language model file (trained).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from nlpkit.encoders import EncoderConfig, build_encoder
from nlpkit.errors import NlpkitError, option


class Probe(nn.Module):
    def __init__(self, embedding: nn.Embedding, encoder: nn.Module, readout):
        super().__init__()
        self.embedding = embedding
        self.encoder = encoder
        self.readout = readout  # features at the last step [batch, dim] -> logits [batch, vocab]


def fresh_probe(kind: str, vocab: int, hidden: int, layers: int, seed: int = 0, max_len: int = 4096) -> Probe:
    torch.manual_seed(seed)
    config = EncoderConfig(
        kind=kind, input_size=hidden, hidden_size=hidden, layers=layers, causal=True, max_len=max_len
    )
    embedding = nn.Embedding(vocab, hidden)
    nn.init.normal_(embedding.weight, std=0.1 if config.is_recurrent else 0.02)
    return Probe(embedding, build_encoder(config), nn.Linear(hidden, vocab))


def probe_from_lm(model) -> Probe:
    """A language model as a probe: its own embedding, encoder and output layer."""

    def readout(h):
        h = model.drop(h)
        if model.project is not None:
            h = model.project(h)
        if model.adaptive is not None:
            return model.adaptive.log_prob(h)
        return model.decoder(h)

    return Probe(model.embedding, model.encoder, readout)


def scale_recurrent_weights(encoder: nn.Module, factor: float) -> None:
    """Multiply the hidden-to-hidden weights: above 1/(largest singular value) an Elman RNN's
    step Jacobian stretches vectors and gradients can explode."""
    with torch.no_grad():
        for name, p in encoder.named_parameters():
            if "weight_hh" in name:
                p.mul_(factor)


@dataclass
class GradientFlow:
    norms: list[float]  # mean |dL/dx_t| over the batch, index = distance from the last step (0 = last)
    loss: float
    param_grad_norm: float  # global norm of dL/dtheta: what clipping looks at


def gradient_flow(probe: Probe, tokens: torch.Tensor, targets: torch.Tensor) -> GradientFlow:
    """tokens [batch, time], targets [batch]: the loss is the cross-entropy of the read-out at
    the last step. Sequences in a batch do not interact, so one backward pass of the summed
    loss gives every sequence's own input gradients."""
    was_training = probe.training
    probe.eval()  # no dropout: the measurement must not be noise
    probe.zero_grad(set_to_none=True)
    x = probe.embedding(tokens).detach().requires_grad_(True)
    with torch.backends.cudnn.flags(enabled=False):  # cuDNN runs an RNN's backward in training mode only
        h, _ = probe.encoder(x)
    logits = probe.readout(h[:, -1])
    loss = F.cross_entropy(logits.float(), targets, reduction="sum")
    loss.backward()
    per_step = x.grad.norm(dim=-1)  # [batch, time]
    norms = per_step.mean(0).flip(0).tolist()
    grads = [p.grad.norm() for p in probe.parameters() if p.grad is not None]
    param_norm = float(torch.linalg.vector_norm(torch.stack(grads))) if grads else 0.0
    probe.zero_grad(set_to_none=True)
    probe.train(was_training)
    return GradientFlow(norms, float(loss.detach()) / tokens.size(0), param_norm)


def clipped_update_scale(param_grad_norm: float, clip: float) -> float:
    """The factor clipping by global norm applies to this step's update (1 = untouched; NaN
    when the norm itself overflowed, where clipping cannot rescue the step)."""
    if not math.isfinite(param_grad_norm):
        return float("nan")
    if not clip or param_grad_norm <= clip:
        return 1.0
    return clip / param_grad_norm


def decay_rate(norms: list[float]) -> float:
    """The fitted factor by which the gradient norm changes per step back (log-linear least
    squares over the distances with a positive, finite norm): < 1 vanishing, > 1 exploding."""
    points = [(d, math.log(n)) for d, n in enumerate(norms) if 0 < n < math.inf]
    if len(points) < 2:
        return float("nan")
    d = torch.tensor([p[0] for p in points], dtype=torch.float64)
    y = torch.tensor([p[1] for p in points], dtype=torch.float64)
    slope = ((d - d.mean()) * (y - y.mean())).sum() / ((d - d.mean()) ** 2).sum()
    return float(slope.exp())


def token_batches(text_path: str | None, tokenizer, vocab: int, batch: int, length: int, seed: int):
    """(tokens [batch, length], targets [batch]) from a text's token stream, or random tokens."""
    import torch

    if text_path is None:
        g = torch.Generator().manual_seed(seed)
        tokens = torch.randint(4, vocab, (batch, length + 1), generator=g)
        return tokens[:, :-1], tokens[:, -1]
    from nlpkit.data.readers import iter_lines
    from nlpkit.data.streams import token_stream

    ids = token_stream(tokenizer, list(iter_lines(text_path)))
    need = batch * (length + 1)
    if ids.numel() < length + 1:
        raise NlpkitError(f"{text_path}: {ids.numel():,} tokens, too few for {option('length')} {length}")
    if ids.numel() < need:
        batch = ids.numel() // (length + 1)
    windows = ids[: batch * (length + 1)].view(batch, length + 1)
    return windows[:, :-1], windows[:, -1]


def measure(*, models, encoders, text, length, batch, hidden, layers, scale_recurrent, clip, seed, device=None):
    """Gradient flow of each language-model file (trained, and re-initialised with `seed`) or,
    without files, of each fresh encoder kind (and, with scale_recurrent, the same encoder with
    its hidden-to-hidden weights scaled). Returns ({name: figures}, sequences averaged over)."""
    import copy

    from nlpkit.data.readers import iter_lines
    from nlpkit.modelfile import load
    from nlpkit.tasks.lm import model as lm
    from nlpkit.tasks.lm.files import from_modelfile
    from nlpkit.text.tokenizers import train_tokenizer

    probes = []  # (name, probe, tokenizer or None)
    for path in models:
        lm_model, tok = from_modelfile(load(path, task=lm.TASK))
        positions = lm_model.config.encoder
        if positions.kind == "transformer" and positions.positions == "learned" and length > positions.max_len:
            raise NlpkitError(
                f"{option('length')}: {length} steps; {path} has positions for {positions.max_len} "
                f"(give {option('length')} {positions.max_len} or less)"
            )
        probes.append((f"{path} (trained)", probe_from_lm(lm_model), tok))
        torch.manual_seed(seed)  # the re-initialised copy repeats from run to run
        fresh = copy.deepcopy(lm_model)
        fresh.load_state_dict(lm.build_model(lm.LMConfig.from_dict(lm_model.config.to_dict())).state_dict())
        probes.append((f"{path} (untrained)", probe_from_lm(fresh.eval()), tok))
    if not models:
        # Fresh encoders have no tokenizer of their own: a text is read character by character.
        tok = train_tokenizer("char", list(iter_lines(text))) if text else None
        vocab = tok.vocab_size if tok else 64
        for kind in encoders:
            probes.append(
                (f"{kind} (untrained)", fresh_probe(kind, vocab, hidden, layers, seed, max_len=length + 1), tok)
            )
            if scale_recurrent and kind != "transformer":
                scaled = fresh_probe(kind, vocab, hidden, layers, seed, max_len=length + 1)
                scale_recurrent_weights(scaled.encoder, scale_recurrent)
                probes.append((f"{kind} (W_hh x{scale_recurrent:g})", scaled, tok))
    results, read = {}, {}  # the text is read once per tokenizer, not once per probe
    for name, probe, tok in probes:
        key = (id(tok), probe.embedding.num_embeddings)
        if key not in read:
            read[key] = token_batches(text, tok, probe.embedding.num_embeddings, batch, length, seed)
        tokens, targets = read[key]
        if device is not None:
            probe, tokens, targets = probe.to(device), tokens.to(device), targets.to(device)
        flow = gradient_flow(probe, tokens, targets)
        results[name] = {
            "norms": flow.norms,
            "loss": flow.loss,
            "decay_per_step": decay_rate(flow.norms),
            "param_grad_norm": flow.param_grad_norm,
            "clip": clip,
            "update_scale_after_clip": clipped_update_scale(flow.param_grad_norm, clip),
        }
    return results, tokens.size(0)
