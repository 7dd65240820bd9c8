"""Recurrent layers without packed sequences (the export path) give the packed run's outputs."""

import pytest
import torch

from nlpkit.encoders import EncoderConfig, build_encoder
from nlpkit.encoders.unpacked import prepare, reverse_index, run_unpacked


def test_reverse_index_reverses_within_length_and_undoes_itself():
    index = reverse_index(torch.tensor([3, 1, 4]), 4)
    assert index.tolist() == [[2, 1, 0, 3], [0, 1, 2, 3], [3, 2, 1, 0]]
    assert torch.equal(index.gather(1, index), torch.arange(4).expand(3, 4))


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_unpacked_outputs_equal_the_packed_ones_padding_included(kind, bidirectional):
    torch.manual_seed(0)
    config = EncoderConfig(kind=kind, input_size=5, hidden_size=4, layers=2, bidirectional=bidirectional)
    encoder = build_encoder(config).eval()
    x, lengths = torch.randn(4, 7, 5), torch.tensor([7, 3, 1, 5])
    with torch.no_grad():
        packed, _ = encoder(x, lengths)
        unpacked = run_unpacked(encoder.rnn, x, lengths)
        prepared = run_unpacked(prepare(encoder).rnn, x, lengths)
    assert torch.allclose(unpacked, packed, atol=1e-6)
    assert torch.equal(prepared, unpacked)
    assert unpacked[1, 3:].abs().max() == 0  # padded steps are zero, as pad_packed_sequence leaves them


def test_split_directions_share_the_weights_rather_than_copy_them():
    encoder = build_encoder(EncoderConfig(kind="lstm", input_size=3, hidden_size=2, layers=1, bidirectional=True))
    prepare(encoder)
    assert encoder.rnn.directions[1].weight_hh_l0.data_ptr() == encoder.rnn.weight_hh_l0_reverse.data_ptr()
