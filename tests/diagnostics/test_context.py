"""nlpkit.diagnostics.context: loss against the context a language model may read."""

import pytest
import torch

from nlpkit.diagnostics.context import context_curve, token_losses
from nlpkit.tasks.lm.scoring import evaluate
from tests.tasks.lm.test_model import LINES, model_for


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_token_losses_are_what_lm_eval_reads(kind):
    from nlpkit.data.streams import token_stream

    model, tok = model_for(kind, context=8)
    ids = token_stream(tok, LINES[:6])
    mean = token_losses(model, ids).mean().item()
    assert mean == pytest.approx(evaluate(model, ids, batch_size=1)["loss"], rel=1e-5)


@pytest.mark.parametrize("adaptive", [False, True])
def test_context_curve_reads_exactly_k_tokens_before_each_position(adaptive):
    model, tok = model_for("lstm", context=8, adaptive_cutoffs=[8] if adaptive else [])
    ids = torch.randint(4, tok.vocab_size, (120,))
    found = context_curve(model, ids, [1, 3, 10], positions=5)
    assert [r["context"] for r in found["rows"]] == [1, 3, 10] and found["positions"] == 5
    # by hand: position 10 (the first target) from its last 3 tokens
    targets = torch.linspace(10, 119, 5).long()
    expected = []
    for t in targets.tolist():
        logits, _ = model(ids[None, t - 3 : t])
        expected.append(torch.nn.functional.cross_entropy(logits[0, -1], ids[t]).item())
    assert found["rows"][1]["loss"] == pytest.approx(sum(expected) / 5, abs=1e-4)


def test_a_transformer_is_measured_up_to_its_context_only():
    model, tok = model_for("transformer", context=8)
    found = context_curve(model, torch.randint(4, tok.vocab_size, (60,)), [2, 8, 16], positions=4)
    assert [r["context"] for r in found["rows"]] == [2, 8]
