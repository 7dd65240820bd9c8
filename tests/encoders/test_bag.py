"""The bag encoder and its n-gram hashing (nlpkit.encoders.bag)."""

import pytest
import torch

from nlpkit.encoders import EncoderConfig, build_encoder
from nlpkit.encoders.bag import ngram_ids


def test_the_bag_encoder_passes_every_position_through():
    encoder = build_encoder(EncoderConfig(kind="bag", input_size=8, hidden_size=8, layers=1))
    x = torch.randn(2, 5, 8)
    out, state = encoder(x, torch.tensor([5, 3]))
    assert out is x and state is None and encoder.output_size == 8
    assert not list(encoder.parameters())


def test_ngram_ids_hash_each_window_in_order_and_mark_the_start():
    tokens = torch.tensor([[5, 6, 7, 5, 6], [7, 5, 6, 0, 0]])
    ids = ngram_ids(tokens, 3, 1000)
    assert ids.shape == (2, 5, 2) and ids.dtype == torch.long
    assert ids[0, 0].tolist() == [1000, 1000]  # nothing ends at the first word
    assert ids[0, 1, 1] == 1000  # no trigram ends at the second
    assert ((ids >= 0) & (ids <= 1000)).all()
    assert ids[0, 1, 0] == ids[0, 4, 0] == ids[1, 2, 0]  # (5, 6) wherever it stands, in any row
    assert ids[0, 2, 0] != ids[1, 1, 0]  # (6, 7) is not (7, 5)
    assert ids[0, 2, 1] != ids[0, 2, 0]  # a trigram is not the bigram it ends with


def test_ngram_ids_of_a_sequence_shorter_than_the_order():
    ids = ngram_ids(torch.tensor([[4]]), 4, 50)
    assert ids.tolist() == [[[50, 50, 50]]]


def test_ngram_hashes_spread_over_the_buckets():
    torch.manual_seed(0)
    tokens = torch.randint(1, 5000, (64, 40))
    ids = ngram_ids(tokens, 2, 4096)[:, 1:, 0]
    used = ids.unique().numel()
    assert used > 0.4 * 4096  # 2,496 bigrams into 4,096 rows: few collisions beyond chance


def test_other_tasks_refuse_the_bag_in_one_line():
    from nlpkit.tasks.ner.options import NEROptions

    with pytest.raises(ValueError, match="is a classifier's: `nlpkit sentiment train` takes it"):
        EncoderConfig.from_options(NEROptions(encoder="bag"))
    with pytest.raises(ValueError, match="unknown encoder 'bog'"):
        EncoderConfig.from_options(NEROptions(encoder="bog"))
