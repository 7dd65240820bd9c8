"""Seq2seq models: step-by-step decoding equals teacher forcing, padding does not leak, search."""

import pytest
import torch

from nlpkit.decoding import beam_search, greedy_search, length_penalty
from nlpkit.encoders import EncoderConfig
from nlpkit.tasks.translate import model as s2s

KINDS = [("gru", "bahdanau"), ("lstm", "luong-dot"), ("gru", "luong-general"), ("transformer", "bahdanau")]


def tiny(kind: str, attention: str, shared: bool = True, scale: bool = False) -> s2s.Seq2Seq:
    torch.manual_seed(0)
    enc = EncoderConfig(kind=kind, hidden_size=16, layers=2, bidirectional=kind != "transformer", heads=2)
    cfg = s2s.Seq2SeqConfig(
        src_vocab=30,
        tgt_vocab=30 if shared else 25,
        shared_vocab=shared,
        embed_size=16,
        encoder=enc,
        decoder_layers=2,
        decoder_hidden=24,
        attention=attention,
        scale_embeddings=scale,
    )
    return s2s.build_model(cfg).eval()


@pytest.mark.parametrize(("kind", "attention"), KINDS)
def test_stepwise_decoding_equals_teacher_forcing(kind, attention):
    model = tiny(kind, attention)
    src, lengths = torch.randint(4, 30, (3, 7)), torch.tensor([7, 4, 1])
    tgt = torch.randint(4, 30, (3, 5))
    full = torch.log_softmax(model(src, lengths, tgt), -1)
    memory = model.encode(src, lengths)
    state = model.start(memory)
    for t in range(5):
        logp, weights, state = model.step(tgt[:, t], state, memory, need_weights=True)
        assert torch.allclose(logp, full[:, t], atol=1e-5)
        assert torch.allclose(weights.sum(-1), torch.ones(3), atol=1e-5)
        assert weights[1, 4:].abs().max() == 0 and weights[2, 1:].abs().max() == 0  # padding gets none


@pytest.mark.parametrize(("kind", "attention"), KINDS)
def test_source_padding_changes_nothing(kind, attention):
    model = tiny(kind, attention)
    src = torch.randint(4, 30, (1, 5))
    tgt = torch.randint(4, 30, (1, 4))
    alone = model(src, torch.tensor([5]), tgt)
    padded = model(torch.cat([src, torch.zeros(1, 3, dtype=torch.long)], 1), torch.tensor([5]), tgt)
    assert torch.allclose(alone, padded, atol=1e-5)


def test_scaled_embeddings_start_at_unit_size_and_decode_stepwise_as_in_training():
    model = tiny("transformer", "bahdanau", scale=True)
    table = model.tgt_embedding.weight[1:]
    assert abs(table.std().item() - 16**-0.5) < 0.05 and model.embed_scale == 4.0
    src, lengths, tgt = torch.randint(4, 30, (2, 6)), torch.tensor([6, 3]), torch.randint(4, 30, (2, 4))
    full = torch.log_softmax(model(src, lengths, tgt), -1)
    memory = model.encode(src, lengths)
    state = model.start(memory)
    for t in range(4):
        logp, _, state = model.step(tgt[:, t], state, memory)
        assert torch.allclose(logp, full[:, t], atol=1e-5)
    model.embed_scale = 1.0  # the scale reaches the encoder's input
    assert not torch.allclose(model.encode(src, lengths).outputs, memory.outputs)
    with pytest.raises(ValueError, match="scale.embeddings is for Transformer models"):
        tiny("gru", "bahdanau", scale=True)


def test_separate_vocabularies_have_two_embedding_tables():
    model = tiny("gru", "bahdanau", shared=False)
    assert model.src_embedding is not model.tgt_embedding
    assert model.src_embedding.num_embeddings == 30 and model.tgt_embedding.num_embeddings == 25


def test_config_rejects_unknown_attention_and_the_elman_rnn():
    with pytest.raises(ValueError, match="attention"):
        s2s.Seq2SeqConfig(src_vocab=5, tgt_vocab=5, attention="cosine")
    with pytest.raises(ValueError, match="gru, lstm or transformer"):
        s2s.Seq2SeqConfig(src_vocab=5, tgt_vocab=5, encoder=EncoderConfig(kind="rnn"))


def test_loss_ignores_padding_and_counts_target_tokens():
    model = tiny("gru", "bahdanau")
    src, lengths = torch.randint(4, 30, (2, 4)), torch.tensor([4, 4])
    tgt_in = torch.tensor([[2, 5, 6], [2, 7, 0]])
    tgt_out = torch.tensor([[5, 6, 3], [7, 3, 0]])
    loss, n = model.loss(src, lengths, tgt_in, tgt_out)
    logp = torch.log_softmax(model(src, lengths, tgt_in), -1)
    real = [(0, 0, 5), (0, 1, 6), (0, 2, 3), (1, 0, 7), (1, 1, 3)]  # the padded position (1, 2) is not among them
    expected = -sum(logp[b, t, w] for b, t, w in real) / len(real)
    assert n == 5 and torch.allclose(loss, expected, atol=1e-5)
    tgt_in[1, 2] = 9  # what a padded position is fed cannot change the loss either
    assert torch.allclose(model.loss(src, lengths, tgt_in, tgt_out)[0], loss, atol=1e-6)


@pytest.mark.parametrize(("kind", "attention"), [KINDS[0], KINDS[3]])
def test_beam_search_scores_at_least_greedy_and_beam_one_is_greedy(kind, attention):
    model = tiny(kind, attention)
    src, lengths = torch.randint(4, 30, (4, 6)), torch.tensor([6, 5, 3, 1])
    memory = model.encode(src, lengths)
    lens = [9, 9, 9, 9]
    greedy = greedy_search(model, memory, lens, eos=3, bos=2, banned=[0, 2], need_weights=True)
    one = beam_search(model, memory, lens, 1, eos=3, bos=2, banned=[0, 2], alpha=0.0)
    five = beam_search(model, memory, lens, 5, eos=3, bos=2, banned=[0, 2], alpha=0.0, n_best=3, need_weights=True)
    for g, o, f in zip(greedy, one, five, strict=True):
        assert o[0].tokens == g[0].tokens and o[0].logprob == pytest.approx(g[0].logprob, abs=1e-4)
        assert f[0].logprob >= g[0].logprob - 1e-4
        assert len(f) == 3 and [h.score for h in f] == sorted((h.score for h in f), reverse=True)
        assert all(len(h.tokens) <= 9 for h in f)
        assert f[0].attention.shape[1] == 6 and len(f[0].attention) >= len(f[0].tokens)
        assert g[0].attention is not None


@pytest.mark.parametrize(("kind", "attention"), [KINDS[0], KINDS[3]])
def test_the_coverage_penalty_ranks_by_the_attention_each_source_token_received(kind, attention):
    model = tiny(kind, attention)
    src, lengths = torch.randint(4, 30, (3, 6)), torch.tensor([6, 4, 2])
    memory = model.encode(src, lengths)
    search = dict(eos=3, bos=2, banned=[0, 2], alpha=0.6, n_best=4)
    plain = beam_search(model, memory, [8] * 3, 4, **search)
    covered = beam_search(model, memory, [8] * 3, 4, **search, beta=0.5, need_weights=True)
    for row, hyps in enumerate(covered):
        assert [h.score for h in hyps] == sorted((h.score for h in hyps), reverse=True)
        for h in hyps:  # the score: log-probability over the length penalty, plus beta x coverage
            received = h.attention.sum(0)[: lengths[row]]
            expected = h.logprob / length_penalty(len(h.attention), 0.6) + 0.5 * float(
                received.clamp(max=1).log().sum()
            )
            assert h.score == pytest.approx(expected, abs=1e-4) and h.attention[:, lengths[row] :].abs().sum() == 0
        assert {tuple(h.tokens) for h in hyps} == {tuple(h.tokens) for h in plain[row]}  # same search, reranked
    assert plain[0][0].attention is None  # without need_weights, coverage alone keeps no attention history


def test_beam_search_respects_each_rows_maximum_length():
    model = tiny("transformer", "bahdanau")
    src, lengths = torch.randint(4, 30, (2, 4)), torch.tensor([4, 4])
    found = beam_search(model, model.encode(src, lengths), [2, 6], 3, eos=3, bos=2, banned=[0, 2])
    assert len(found[0][0].tokens) <= 2 and len(found[1][0].tokens) <= 6


@pytest.mark.parametrize(("kind", "attention"), KINDS)
def test_beam_search_of_a_batch_equals_each_sentence_alone(kind, attention):
    """Sentences finish at different steps and leave the batch; the others must not notice."""
    model = tiny(kind, attention)
    torch.manual_seed(3)
    src, lengths = torch.randint(4, 30, (5, 6)), torch.tensor([6, 5, 3, 2, 1])
    lens = [2, 9, 4, 9, 6]  # row maxima make rows end at different steps
    together = beam_search(model, model.encode(src, lengths), lens, 4, eos=3, bos=2, banned=[0, 2], need_weights=True)
    for row in range(5):
        one = model.encode(src[row : row + 1, : lengths[row]], lengths[row : row + 1])
        alone = beam_search(model, one, lens[row : row + 1], 4, eos=3, bos=2, banned=[0, 2], need_weights=True)[0]
        assert [h.tokens for h in together[row]] == [h.tokens for h in alone]
        assert together[row][0].logprob == pytest.approx(alone[0].logprob, abs=1e-4)
        assert together[row][0].attention[:, : lengths[row]].shape == alone[0].attention.shape


def test_length_penalty_grows_with_length_and_alpha_zero_is_neutral():
    assert length_penalty(10, 0.0) == 1.0
    assert length_penalty(20, 1.0) > length_penalty(10, 1.0) > 1.0
