import pytest
import torch

from nlpkit.decoding import (
    apply_repetition_penalty,
    banned_ngram_tokens,
    choose_next,
    filter_top_k_top_p,
    sample,
)
from nlpkit.errors import NlpkitError
from nlpkit.tasks.lm.options import SamplingOptions


def test_greedy_picks_the_argmax():
    logits = torch.tensor([[0.1, 2.0, 0.3], [5.0, 0.0, 1.0]])
    out = choose_next(logits, torch.zeros(2, 0, dtype=torch.long), SamplingOptions(temperature=0))
    assert out.tolist() == [1, 0]


def test_top_k_keeps_only_k_tokens():
    logits = torch.tensor([[1.0, 4.0, 3.0, 2.0]])
    out = filter_top_k_top_p(logits, 2, 1.0)
    assert torch.isinf(out[0, [0, 3]]).all() and torch.isfinite(out[0, [1, 2]]).all()


def test_top_p_keeps_the_smallest_set_reaching_p():
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    out = filter_top_k_top_p(probs.log(), 0, 0.7)
    assert torch.isfinite(out[0, :2]).all() and torch.isinf(out[0, 2:]).all()
    assert torch.isfinite(filter_top_k_top_p(probs.log(), 0, 0.4)[0, 0])  # the top token always stays
    only_top = filter_top_k_top_p(probs.log(), 0, 0.0)  # --top-p 0: the likeliest token alone
    assert torch.isfinite(only_top).sum().item() == 1 and torch.isfinite(only_top[0, 0])


def test_repetition_penalty_shrinks_seen_tokens_both_signs():
    logits = torch.tensor([[2.0, -2.0, 1.0]])
    out = apply_repetition_penalty(logits, torch.tensor([[0, 1]]), 2.0)
    assert out.tolist() == [[1.0, -4.0, 1.0]]


def test_no_repeat_ngram_bans_completions_of_seen_ngrams():
    assert banned_ngram_tokens([1, 2, 3, 1, 2], 3) == [3]
    assert banned_ngram_tokens([1, 2, 3], 1) == [1, 2, 3]
    assert banned_ngram_tokens([1, 2], 3) == []


def test_no_repeat_ngram_yields_when_it_would_ban_every_token():
    logits = torch.tensor([[0.0, 1.0, 2.0, float("-inf")]])  # token 3 suppressed elsewhere
    history = torch.tensor([[0, 1, 2]])  # n=1: every allowed token has been seen
    config = SamplingOptions(max_new_tokens=1, temperature=1.0, no_repeat_ngram=1)
    token = choose_next(logits.clone(), history, config, torch.Generator().manual_seed(0))
    assert token.item() in (0, 1, 2)  # no nan: the rule gives way for this step
    partly = torch.tensor([[0, 1]])
    assert choose_next(logits.clone(), partly, config, torch.Generator().manual_seed(0)).item() == 2


def test_sampling_is_repeatable_with_a_seeded_generator():
    logits = torch.randn(4, 20)
    cfg = SamplingOptions(temperature=1.0, top_k=10)
    picks = [
        choose_next(logits, torch.zeros(4, 0, dtype=torch.long), cfg, torch.Generator().manual_seed(3))
        for _ in range(2)
    ]
    assert picks[0].tolist() == picks[1].tolist()


def test_sample_stops_rows_independently_and_suppresses_tokens():
    vocab = 5

    def step(token, state):  # a "model" that always prefers the next id
        return torch.nn.functional.one_hot((token[:, 0] + 1) % vocab, vocab).float() * 10, state

    first = torch.nn.functional.one_hot(torch.tensor([0, 2]), vocab).float() * 10
    new = sample(
        step,
        None,
        first,
        torch.zeros(2, 1, dtype=torch.long),
        SamplingOptions(max_new_tokens=6, temperature=0),
        finished=lambda row, toks: toks[-1] == 3,
        suppress=[4],
    )
    assert new[1] == [2, 3]
    assert 4 not in new[0] and new[0][:4] == [0, 1, 2, 3]


@pytest.mark.parametrize("bad", [{"temperature": -1}, {"top_p": -0.1}, {"top_k": -1}, {"repetition_penalty": 0}])
def test_bad_sampling_options(bad):
    with pytest.raises(NlpkitError, match=next(iter(bad))):
        SamplingOptions.create(bad)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_the_batched_ngram_ban_is_the_rule_row_by_row(n):
    """ban_repeated_ngrams (the whole batch at once, no loop over rows) bans exactly what
    banned_ngram_tokens finds in each row, and leaves a row alone where that would ban everything."""
    from nlpkit.decoding import ban_repeated_ngrams

    g = torch.Generator().manual_seed(n)
    for length in (0, 1, n, 9, 30):
        history = torch.randint(0, 5, (6, length), generator=g)
        logits = torch.randn(6, 5, generator=g)
        out = ban_repeated_ngrams(logits, history, n)
        for row in range(6):
            banned = set(banned_ngram_tokens(history[row].tolist(), n))
            if len(banned) == 5:
                assert torch.equal(out[row], logits[row])
            else:
                assert {i for i in range(5) if out[row, i] == float("-inf")} == banned


def test_sample_steps_once_per_token_it_still_needs_and_keeps_the_history_in_order():
    vocab, calls = 7, []

    def step(token, state):
        calls.append(token[:, 0].tolist())
        return torch.nn.functional.one_hot((token[:, 0] + 2) % vocab, vocab).float() * 10, state

    first = torch.nn.functional.one_hot(torch.tensor([1, 3]), vocab).float() * 10
    history = torch.tensor([[5, 6], [6, 5]])
    config = SamplingOptions(max_new_tokens=4, temperature=0, repetition_penalty=1.2)
    new = sample(step, None, first, history, config)
    assert new == [[1, 3, 5, 0], [3, 5, 0, 2]]
    assert len(calls) == 3  # no step after the last token: its logits would be thrown away
