import random

from nlpkit.data.batching import token_budget_groups


def test_token_budget_groups_bound_the_padded_size_and_keep_every_index():
    rng = random.Random(0)
    lengths = [rng.choice([1, 2, 3, 40, 120]) for _ in range(3000)]
    groups = token_budget_groups(lengths, batch_tokens=1000, max_batch=200)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    for g in groups:
        assert len(g) <= 200
        assert len(g) == 1 or len(g) * max(lengths[i] for i in g) <= 1000


def test_token_budget_groups_lets_a_single_overlong_item_through():
    assert token_budget_groups([5000, 3], batch_tokens=100) == [[1], [0]]


def test_token_budget_groups_of_nothing():
    assert token_budget_groups([], batch_tokens=100) == []
