import math

import pytest
import torch

from nlpkit.data.streams import token_stream
from nlpkit.encoders import EncoderConfig
from nlpkit.tasks.lm import generation
from nlpkit.tasks.lm import model as lm
from nlpkit.tasks.lm.files import from_modelfile, to_modelfile
from nlpkit.tasks.lm.generation import generate, prompt_ids
from nlpkit.tasks.lm.options import SamplingOptions
from nlpkit.tasks.lm.scoring import evaluate, score_lines, stream_nll
from nlpkit.text.tokenizers import train_tokenizer

LINES = ["the cat sat on the mat", "a dog ran to the park", "the bird sang"] * 10


def model_for(kind, context=16, **kw):
    torch.manual_seed(0)
    tok = train_tokenizer("char", LINES)
    cfg = lm.LMConfig(
        vocab_size=tok.vocab_size,
        embed_size=16,
        context=context,
        encoder=EncoderConfig(kind=kind, hidden_size=16, layers=2, heads=2),
        **kw,
    )
    return lm.build_model(cfg).eval(), tok


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru", "transformer"])
def test_forward_shapes(kind):
    model, tok = model_for(kind)
    logits, _ = model(torch.randint(0, tok.vocab_size, (3, 5)))
    assert logits.shape == (3, 5, tok.vocab_size)


def test_tied_weights_share_one_tensor_even_with_a_projection():
    torch.manual_seed(0)
    cfg = lm.LMConfig(vocab_size=30, embed_size=8, tie_weights=True, encoder=EncoderConfig(kind="lstm", hidden_size=12))
    model = lm.build_model(cfg)
    assert model.decoder.weight is model.embedding.weight
    assert model.project is not None


def test_bidirectional_language_model_is_refused():
    with pytest.raises(ValueError, match="bidirectional"):
        lm.build_model(lm.LMConfig(vocab_size=10, encoder=EncoderConfig(kind="lstm", bidirectional=True)))


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_score_lines_matches_a_direct_computation(kind):
    model, tok = model_for(kind)
    lines = ["the cat", "", "a dog ran to the park and far beyond the hills"]  # the last is past the context
    scores = score_lines(model, tok, lines)
    for line, (loglik, count) in zip(lines, scores, strict=True):
        ids = [tok.eos_id, *tok.encode(line), tok.eos_id]
        assert count == len(ids) - 1
        nll = stream_nll(model, torch.tensor([ids]), 10_000).item() if kind == "lstm" else None
        if nll is not None:
            assert loglik == pytest.approx(-nll, rel=1e-4)
    assert len(scores) == 3 and scores[1][1] == 1  # an empty line still has its line end


def test_score_lines_is_independent_of_batching():
    model, tok = model_for("lstm")
    lines = ["the cat sat", "a", "the bird sang on the mat", ""]
    together = score_lines(model, tok, lines)
    alone = [score_lines(model, tok, [line])[0] for line in lines]
    for (a, n), (b, m) in zip(together, alone, strict=True):
        assert n == m and a == pytest.approx(b, rel=1e-5)


def test_transformer_window_scoring_covers_every_token_once():
    model, tok = model_for("transformer", context=8)
    ids = torch.randint(4, tok.vocab_size, (1, 30))
    nll = stream_nll(model, ids, 8)
    # Brute force: each token with (up to) the half-context windows stream_nll promises.
    assert torch.isfinite(nll).all() and nll.item() > 0
    short = stream_nll(model, ids[:, :8], 8)  # fits in one window: exact full-context score
    logits, _ = model(ids[:, :7])
    direct = torch.nn.functional.cross_entropy(logits[0], ids[0, 1:8], reduction="sum")
    assert short.item() == pytest.approx(direct.item(), rel=1e-5)


def test_evaluate_reports_perplexity():
    model, tok = model_for("gru")
    result = evaluate(model, token_stream(tok, LINES))
    assert result["ppl"] == pytest.approx(math.exp(result["loss"]))
    assert result["loss"] == pytest.approx(math.log(tok.vocab_size), rel=0.2)  # untrained: near uniform


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
@pytest.mark.parametrize("samples", [1, 3])
def test_cached_and_uncached_generation_give_identical_tokens(kind, samples):
    model, tok = model_for(kind, context=12)  # 40 new tokens: the Transformer's window slides
    greedy = SamplingOptions(max_new_tokens=40, temperature=0)
    cached = generate(model, tok, "the ", greedy, num_samples=samples)
    uncached = generate(model, tok, "the ", greedy, num_samples=samples, use_cache=False)
    assert cached == uncached
    sampled = SamplingOptions(max_new_tokens=30, temperature=1.0, top_k=5)
    a = generate(model, tok, "a", sampled, num_samples=samples, generator=torch.Generator().manual_seed(1))
    b = generate(
        model, tok, "a", sampled, num_samples=samples, use_cache=False, generator=torch.Generator().manual_seed(1)
    )
    assert a == b


def test_stop_strings_cut_the_completion():
    model, tok = model_for("lstm")
    full = generate(model, tok, "", SamplingOptions(max_new_tokens=30, temperature=0))[0]
    stop = full[5:7]
    cut = generate(model, tok, "", SamplingOptions(max_new_tokens=30, temperature=0), stop=(stop,))[0]
    assert cut == full[: full.find(stop)]


def test_long_prompt_keeps_its_right_end_for_the_transformer():
    model, tok = model_for("transformer", context=8)
    ids, cut = prompt_ids(model, tok, "the cat sat on the mat")
    assert len(ids) == 8 and cut == 23 - 8
    assert ids == [tok.eos_id, *tok.encode("the cat sat on the mat")][-8:]
    recurrent, _ = model_for("lstm", context=8)
    assert prompt_ids(recurrent, tok, "the cat sat on the mat")[1] == 0


def test_generation_never_emits_padding_or_start_symbols():
    model, tok = model_for("lstm")
    with torch.no_grad():
        model.decoder.bias[:3] = 100.0  # make <pad>, <unk>, <bos> overwhelmingly likely
    text = generate(model, tok, "", SamplingOptions(max_new_tokens=10, temperature=0))[0]
    assert "<pad>" not in text and "<bos>" not in text


def test_model_file_round_trip_gives_the_same_model(tmp_path):
    from nlpkit import modelfile

    model, tok = model_for("transformer")
    modelfile.save(tmp_path / "m.nlpk", to_modelfile(model, tok, {"metrics": {}}))
    again, tok2 = from_modelfile(modelfile.load(tmp_path / "m.nlpk", task="lm"))
    x = torch.randint(0, tok.vocab_size, (2, 6))
    torch.testing.assert_close(model(x)[0], again(x)[0])
    assert tok2.symbols == tok.symbols


def test_adaptive_softmax_gives_normalised_log_probs_and_a_matching_loss():
    torch.manual_seed(0)
    cfg = lm.LMConfig(
        vocab_size=60,
        embed_size=16,
        adaptive_cutoffs=[10, 30],
        encoder=EncoderConfig(kind="lstm", hidden_size=16, layers=1),
    )
    model = lm.build_model(cfg).eval()
    x = torch.randint(0, 60, (2, 5))
    y = torch.randint(0, 60, (2, 5))
    logp, _ = model(x)
    torch.testing.assert_close(logp.exp().sum(-1), torch.ones(2, 5))
    h, _ = model.features(x)
    direct = torch.nn.functional.cross_entropy(logp.reshape(-1, 60), y.reshape(-1))
    torch.testing.assert_close(model.loss(h.reshape(-1, 16), y.reshape(-1)), direct)


@pytest.mark.parametrize(
    "cutoffs,tie,message",
    [([30, 10], False, "cutoffs must increase .*got 30,10"), ([10, 60], False, "below the vocabulary size \\(60\\)"),
     ([10], True, "tie_weights does not combine with adaptive_softmax")],
)  # fmt: skip
def test_adaptive_softmax_bad_settings(cutoffs, tie, message):
    cfg = lm.LMConfig(vocab_size=60, adaptive_cutoffs=cutoffs, tie_weights=tie, encoder=EncoderConfig(kind="lstm"))
    with pytest.raises(ValueError, match=message):
        lm.build_model(cfg)


def test_word_vocabulary_is_in_frequency_order():
    tok = train_tokenizer("word", ["b b b a a c"])
    assert tok.symbols[4:] == ["b", "a", "c"]


def test_a_long_prompt_is_read_in_pieces_with_the_same_result(lm_model, monkeypatch):

    _, model = lm_model
    prompt = "At dawn the harbour bakery opened its doors " * 3

    def complete():
        return model.generate(prompt, max_new_tokens=12, temperature=0, seed=0)

    whole = complete()
    monkeypatch.setattr(generation, "PROMPT_PIECE", 7)  # a recurrent model's state carries across pieces
    assert complete() == whole
