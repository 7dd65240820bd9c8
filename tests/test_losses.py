import torch
import torch.nn.functional as F

from nlpkit.losses import linear_cross_entropy


def test_fused_linear_cross_entropy_matches_the_reference():
    torch.manual_seed(0)
    h = torch.randn(30, 8, requires_grad=True)
    w = torch.randn(50, 8, requires_grad=True)
    b = torch.randn(50, requires_grad=True)
    y = torch.randint(0, 50, (30,))
    ours = linear_cross_entropy(h, w, b, y)
    grads = torch.autograd.grad(3 * ours, [h, w, b])
    ref = F.cross_entropy(F.linear(h, w, b), y)
    ref_grads = torch.autograd.grad(3 * ref, [h, w, b])
    torch.testing.assert_close(ours, ref)
    for a, r in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(a, r, atol=1e-5, rtol=1e-4)


def test_without_bias_and_with_large_logits():
    torch.manual_seed(1)
    h = (100 * torch.randn(4, 3)).requires_grad_()
    w = torch.randn(6, 3, requires_grad=True)
    y = torch.tensor([0, 5, 2, 2])
    ours = linear_cross_entropy(h, w, None, y)
    ref = F.cross_entropy(h @ w.t(), y)
    assert torch.isfinite(ours)
    torch.testing.assert_close(ours, ref)
