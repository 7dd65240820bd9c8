import pytest
import torch

from nlpkit.encoders import EncoderConfig, build_encoder, initial_cache

RECURRENT = ["rnn", "lstm", "gru"]


def make(kind, **kw):
    torch.manual_seed(0)
    return build_encoder(EncoderConfig(kind=kind, input_size=8, hidden_size=12, layers=2, **kw)).eval()


@pytest.mark.parametrize("kind", [*RECURRENT, "transformer"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_output_shapes(kind, bidirectional):
    if kind == "transformer" and bidirectional:
        pytest.skip("bidirectional is a recurrent option")
    enc = make(kind, bidirectional=bidirectional)
    out, _ = enc(torch.randn(3, 7, 8))
    assert out.shape == (3, 7, 12 * (2 if bidirectional else 1))
    assert enc.output_size == out.size(-1)


@pytest.mark.parametrize("kind", RECURRENT)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_padding_never_changes_a_result(kind, bidirectional):
    enc = make(kind, bidirectional=bidirectional)
    short = torch.randn(1, 4, 8)
    padded = torch.cat([short, torch.randn(1, 3, 8)], dim=1)  # garbage after the end
    other = torch.randn(1, 7, 8)
    alone, state_alone = enc(short)
    batch, state_batch = enc(torch.cat([padded, other]), torch.tensor([4, 7]))
    torch.testing.assert_close(batch[0, :4], alone[0])
    assert torch.all(batch[0, 4:] == 0)
    h_alone = state_alone[0] if kind == "lstm" else state_alone
    h_batch = state_batch[0] if kind == "lstm" else state_batch
    torch.testing.assert_close(h_batch[:, 0], h_alone[:, 0])


@pytest.mark.parametrize("causal", [False, True])
def test_transformer_padding_never_changes_a_result(causal):
    enc = make("transformer", causal=causal, heads=2)
    short = torch.randn(1, 4, 8)
    padded = torch.cat([short, torch.randn(1, 3, 8)], dim=1)
    alone, _ = enc(short)
    batch, _ = enc(torch.cat([padded, torch.randn(1, 7, 8)]), torch.tensor([4, 7]))
    torch.testing.assert_close(batch[0, :4], alone[0], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("positions", ["sinusoidal", "learned"])
def test_causal_transformer_has_no_future_leak(positions):
    enc = make("transformer", causal=True, heads=2, positions=positions)
    x = torch.randn(2, 9, 8)
    changed = x.clone()
    changed[:, 5:] = torch.randn(2, 4, 8)
    a, _ = enc(x)
    b, _ = enc(changed)
    torch.testing.assert_close(a[:, :5], b[:, :5])
    assert not torch.allclose(a[:, 5:], b[:, 5:])


def test_non_causal_transformer_sees_the_future():
    enc = make("transformer", heads=2)
    x = torch.randn(1, 6, 8)
    changed = x.clone()
    changed[:, -1] += 1
    assert not torch.allclose(enc(x)[0][:, 0], enc(changed)[0][:, 0])


@pytest.mark.parametrize("kind", RECURRENT)
def test_recurrent_state_carried_across_calls_equals_one_long_call(kind):
    enc = make(kind)
    x = torch.randn(2, 10, 8)
    whole, _ = enc(x)
    first, state = enc(x[:, :6])
    second, _ = enc(x[:, 6:], state=state)
    torch.testing.assert_close(torch.cat([first, second], 1), whole)


def test_transformer_kv_cache_equals_one_long_call():
    enc = make("transformer", causal=True, heads=2)
    x = torch.randn(2, 10, 8)
    whole, _ = enc(x)
    cache = initial_cache(enc)
    parts = [enc(x[:, :4], state=cache)[0]]
    parts.append(enc(x[:, 4:7], state=cache)[0])  # several new positions at once
    parts += [enc(x[:, t : t + 1], state=cache)[0] for t in range(7, 10)]  # one at a time
    torch.testing.assert_close(torch.cat(parts, 1), whole, atol=1e-5, rtol=1e-5)
    assert cache.length == 10


def test_config_rejects_nonsense():
    with pytest.raises(ValueError, match="unknown encoder"):
        EncoderConfig(kind="cnn")
    with pytest.raises(ValueError, match="divisible"):
        EncoderConfig(kind="transformer", hidden_size=10, heads=4)
    with pytest.raises(ValueError, match="recurrent"):
        EncoderConfig(kind="transformer", bidirectional=True)


def test_config_round_trips_through_json():
    cfg = EncoderConfig(kind="gru", bidirectional=True, layers=3)
    assert EncoderConfig.from_dict(cfg.to_dict()) == cfg


def test_lstm_starts_with_forget_gate_bias_one():
    enc = make("lstm")
    h = enc.config.hidden_size
    total = enc.rnn.bias_ih_l0[h : 2 * h] + enc.rnn.bias_hh_l0[h : 2 * h]
    assert torch.allclose(total, torch.ones(h))


def test_kv_cache_grows_past_its_block_and_selects_rows():
    enc = make("transformer", causal=True, heads=2, max_len=600)
    x = torch.randn(2, 300, 8)  # past KVCache.BLOCK (256)
    whole, _ = enc(x)
    cache = initial_cache(enc)
    parts = [enc(x[:, :250], state=cache)[0]] + [enc(x[:, t : t + 1], state=cache)[0] for t in range(250, 300)]
    torch.testing.assert_close(torch.cat(parts, 1), whole, atol=1e-5, rtol=1e-5)
    picked = cache.select(torch.tensor([1, 1, 0]))
    assert picked.length == 300
    nxt = torch.randn(2, 1, 8)
    torch.testing.assert_close(enc(nxt[[1, 1, 0]], state=picked)[0][2], enc(nxt, state=cache)[0][0])


def test_sinusoidal_positions_start_at_the_scale_of_the_embeddings():
    enc = make("transformer", heads=2, positions="sinusoidal")
    assert 0.01 < enc.position_scale.item() < 0.05
    assert make("transformer", heads=2, positions="learned").position_scale is None


@pytest.mark.parametrize("kind", RECURRENT)
def test_single_sequence_inference_path_matches_the_batched_one(kind):
    enc = make(kind)
    x = torch.randn(1, 5, 8)
    with torch.no_grad():
        fast, _ = enc(x)  # batch 1 without grad: torch's own kernel
    slow, _ = enc(x)  # with grad: the default (oneDNN) kernel
    torch.testing.assert_close(fast, slow.detach(), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("positions", ["sinusoidal", "learned"])
@pytest.mark.parametrize("input_size", [16, 12])
def test_the_lean_decoding_step_gives_the_layered_path_exactly(positions, input_size):
    """TransformerEncoder.step (one new position on a KV cache, eval) computes what forward's
    layer-by-layer path computes, to the bit, and a quantized model keeps the layered path."""
    torch.manual_seed(0)
    cfg = EncoderConfig(kind="transformer", input_size=input_size, hidden_size=16, layers=2, heads=4, causal=True,
                        positions=positions)  # fmt: skip
    enc = build_encoder(cfg).eval()
    x = torch.randn(3, 7, input_size)
    with torch.no_grad():
        lean_cache, layered_cache = initial_cache(enc), initial_cache(enc)
        enc(x[:, :4], None, lean_cache)
        enc(x[:, :4], None, layered_cache)
        for t in range(4, 7):
            lean, _ = enc(x[:, t : t + 1], None, lean_cache)  # the lean step
            enc.training = True  # forward's layered path (dropout 0: the same arithmetic)
            for m in enc.modules():
                m.training = True
            layered, _ = enc.forward(x[:, t : t + 1], None, layered_cache)
            enc.eval()
            assert torch.equal(lean, layered)
    int8 = torch.ao.quantization.quantize_dynamic(enc, {torch.nn.Linear}, dtype=torch.qint8)
    assert not int8._plain() and enc._plain()


def test_sinusoid_tables_made_while_generating_serve_training_later():
    """Generation runs under inference mode; the position table it grows is shared with a
    training step later in the same process, which must be able to use it."""
    from nlpkit.encoders.transformer import _TABLES, sinusoidal_positions

    _TABLES.pop((24, "cpu"), None)
    with torch.inference_mode():
        sinusoidal_positions(300, 24)
    encoder = build_encoder(EncoderConfig(kind="transformer", input_size=24, hidden_size=24, layers=1, heads=2,
                                          positions="sinusoidal", causal=True)).train()  # fmt: skip
    x = torch.randn(2, 5, 24, requires_grad=True)
    encoder(x)[0].sum().backward()
    assert x.grad is not None
