import math

import pytest
import torch

from nlpkit.diagnostics import gradients as gr
from nlpkit.diagnostics import memory as mem
from nlpkit.diagnostics import speed as sp


def test_input_gradients_match_hand_written_backpropagation_through_time():
    torch.manual_seed(0)
    probe = gr.fresh_probe("rnn", vocab=10, hidden=4, layers=1)
    tokens = torch.tensor([[3, 5, 7, 2, 9, 4]])
    target = torch.tensor([6])
    flow = gr.gradient_flow(probe, tokens, target)

    rnn = probe.encoder.rnn
    w_ih, w_hh = rnn.weight_ih_l0.detach(), rnn.weight_hh_l0.detach()
    b = (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach()
    x = probe.embedding(tokens)[0].detach()
    h, hs = torch.zeros(4), []
    for t in range(x.size(0)):
        h = torch.tanh(w_ih @ x[t] + w_hh @ h + b)
        hs.append(h)
    out = probe.readout
    p = torch.softmax(out.weight.detach() @ hs[-1] + out.bias.detach(), 0)
    grad_h = out.weight.detach().T @ (p - torch.nn.functional.one_hot(target[0], 10).float())
    expected = []
    for t in reversed(range(x.size(0))):
        delta = (1 - hs[t] ** 2) * grad_h  # through tanh
        expected.append(float((w_ih.T @ delta).norm()))
        grad_h = w_hh.T @ delta  # one step further back
    assert flow.norms == pytest.approx(expected, rel=1e-4)


def test_scaling_touches_only_recurrent_weights():
    probe = gr.fresh_probe("lstm", 10, 4, 1)
    before = {n: p.clone() for n, p in probe.encoder.named_parameters()}
    gr.scale_recurrent_weights(probe.encoder, 2.0)
    for name, p in probe.encoder.named_parameters():
        factor = 2.0 if "weight_hh" in name else 1.0
        assert torch.allclose(p, before[name] * factor)


def test_decay_rate_and_clipping_factor():
    assert gr.decay_rate([0.5**d for d in range(30)]) == pytest.approx(0.5)
    assert gr.decay_rate([1.1**d for d in range(30)]) == pytest.approx(1.1)
    assert math.isnan(gr.decay_rate([1.0]))
    assert gr.clipped_update_scale(4.0, 1.0) == 0.25
    assert gr.clipped_update_scale(0.5, 1.0) == 1.0
    assert gr.clipped_update_scale(4.0, 0.0) == 1.0


@pytest.mark.parametrize("distance", [1, 2, 7])
def test_recall_task_asks_for_the_first_token(distance):
    tokens, labels = mem.make_batch("recall", distance, 64, torch.Generator().manual_seed(0))
    assert tokens.shape == (64, distance + 1)
    assert torch.equal(tokens[:, 0] - mem.KEY0, labels)
    assert (tokens[:, -1] == mem.QUERY).all()
    middle = tokens[:, 1:-1]
    assert ((middle >= mem.FILL0) & (middle < mem.SING0)).all()  # distractors are never keys


def test_agreement_task_labels_the_subject_not_the_nearest_noun():
    tokens, labels = mem.make_batch("agreement", 30, 256, torch.Generator().manual_seed(0))
    subject_plural = (tokens[:, 0] >= mem.PLUR0).long()
    assert torch.equal(subject_plural, labels)
    middle = tokens[:, 1:-1]
    attractors = middle >= mem.SING0
    assert 0.15 < attractors.float().mean() < 0.35
    nearest_plural = torch.tensor(
        [int(row[row >= mem.SING0][-1] >= mem.PLUR0) if (row >= mem.SING0).any() else -1 for row in middle]
    )
    assert (nearest_plural != labels).any()  # the most recent noun often disagrees


def test_memory_training_runs_and_scores_a_short_distance():
    r = mem.train_and_score("gru", "recall", 2, steps=60, batch=32, hidden=16)
    assert 0.0 <= r.accuracy <= 1.0 and r.distance == 2
    assert r.accuracy > 1 / mem.KEYS  # distance 2 is easy


def test_speed_measures_both_directions():
    r = sp.measure("lstm", 8, batch=2, hidden=8, layers=1, repeats=1)
    assert r.train_tokens_per_s > 0 and r.infer_tokens_per_s > 0


def test_sparkline_is_log_scaled_and_marks_underflow_and_overflow():
    from nlpkit.diagnostics.summary import SPARK, finite_or_none, sparkline

    line = sparkline([10.0**-k for k in range(8)], width=8)
    assert line == SPARK[::-1]  # one bar lower per factor of 10
    assert sparkline([1.0, 0.0, math.inf, 0.1]) == "█·█▁"
    assert finite_or_none({"a": [1.0, math.inf], "b": math.nan}) == {"a": [1.0, None], "b": None}


def test_overflowed_norms_do_not_break_the_fit_or_the_clip_factor():
    assert gr.decay_rate([1.0, 2.0, 4.0, math.inf]) == pytest.approx(2.0)
    assert math.isnan(gr.clipped_update_scale(math.inf, 1.0))
