"""The right-to-left reader of an ELMo-style pair."""

import torch

from nlpkit.encoders import EncoderConfig
from nlpkit.encoders.backward import BackwardReader


def test_each_position_reads_only_itself_and_what_follows():
    torch.manual_seed(0)
    reader = BackwardReader(20, 6, EncoderConfig(kind="lstm", hidden_size=5, layers=2)).eval()
    tokens = torch.tensor([[5, 6, 7, 8, 0], [9, 10, 11, 0, 0]])
    lengths = torch.tensor([4, 3])
    h = reader(tokens, lengths, torch.nn.Identity())
    changed = tokens.clone()
    changed[0, 0], changed[1, 1] = 12, 13  # earlier words: later positions must not move
    h2 = reader(changed, lengths, torch.nn.Identity())
    assert torch.allclose(h[0, 1:4], h2[0, 1:4]) and not torch.allclose(h[0, 0], h2[0, 0])
    assert torch.allclose(h[1, 2], h2[1, 2]) and not torch.allclose(h[1, 0], h2[1, 0])
    # the last real word was read first, with nothing after it: as the sequence alone would give
    alone = reader(torch.tensor([[8]]), torch.tensor([1]), torch.nn.Identity())
    assert torch.allclose(h[0, 3], alone[0, 0], atol=1e-6)
