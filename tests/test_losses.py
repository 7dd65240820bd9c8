import torch
import torch.nn.functional as F

from nlpkit.losses import linear_cross_entropy


def problem(seed: int):
    """Hidden states [30, 8], an output layer of 50 words and targets, all float32."""
    torch.manual_seed(seed)
    h = torch.randn(30, 8, requires_grad=True)
    w = torch.randn(50, 8, requires_grad=True)
    b = torch.randn(50, requires_grad=True)
    return h, w, b, torch.randint(0, 50, (30,))


def test_fused_linear_cross_entropy_matches_the_reference():
    h, w, b, y = problem(0)
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


def test_under_bf16_autocast_each_gradient_comes_back_in_its_inputs_type():
    # autocast makes the hidden states bf16 while the weights stay float32; backward runs
    # without autocast, so the loss must reconcile the two itself
    h, w, b, y = problem(2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ours = linear_cross_entropy(h.bfloat16(), w, b, y)  # bf16, as an autocast layer hands them on
    gh, gw, gb = torch.autograd.grad(ours, [h, w, b])
    assert (gh.dtype, gw.dtype, gb.dtype) == (torch.float32,) * 3
    ref = F.cross_entropy(F.linear(h, w, b), y)
    for a, r in zip((gh, gw, gb), torch.autograd.grad(ref, [h, w, b]), strict=True):
        torch.testing.assert_close(a, r, atol=2e-2, rtol=5e-2)  # bf16 keeps 8 bits of mantissa
    torch.testing.assert_close(ours, ref, atol=5e-2, rtol=2e-2)
