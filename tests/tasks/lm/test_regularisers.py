"""The language-model regularisers (issue 26): each acts in training only, as documented."""

import pytest
import torch

from nlpkit import modelfile
from nlpkit.averaging import AveragedSGD
from nlpkit.data.streams import batchify, token_stream, variable_windows, window_count
from nlpkit.encoders import EncoderConfig
from nlpkit.encoders.regularised import locked_dropout, run_layers
from nlpkit.errors import NlpkitError
from nlpkit.tasks.lm import model as lm
from nlpkit.tasks.lm.files import from_modelfile, to_modelfile
from nlpkit.tasks.lm.training import LMTraining, Regularisers
from nlpkit.text.tokenizers import train_tokenizer
from nlpkit.training import TrainConfig, Trainer

LINES = ["the cat sat on the mat and the dog ran to the park"] * 30 + ["a bird sang in the old tree"] * 30
CPU = torch.device("cpu")


def build(kind="lstm", layers=2, weight_drop=0.0, layer_dropout=0.0, **kw):
    torch.manual_seed(0)
    tok = train_tokenizer("char", LINES)
    enc = EncoderConfig(
        kind=kind, hidden_size=16, layers=layers, heads=2, weight_drop=weight_drop, layer_dropout=layer_dropout
    )
    cfg = lm.LMConfig(vocab_size=tok.vocab_size, embed_size=16, encoder=enc, context=12, dropout=0.0, **kw)
    return lm.build_model(cfg), tok


@pytest.mark.parametrize("module", [torch.nn.LSTM, torch.nn.GRU, torch.nn.RNN])
def test_layer_by_layer_pass_equals_the_fused_module_without_dropout(module):
    torch.manual_seed(0)
    rnn = module(4, 6, 3, batch_first=True)
    x, state = torch.randn(2, 7, 4), None
    expected, expected_state = rnn(x)
    out, state = run_layers(rnn, x, None, 0.0, 0.0, 0.0)
    torch.testing.assert_close(out, expected)
    for a, b in zip(
        state if isinstance(state, tuple) else (state,),
        expected_state if isinstance(expected_state, tuple) else (expected_state,),
        strict=True,
    ):
        torch.testing.assert_close(a, b)


def test_weight_drop_drops_recurrent_weights_in_training_only_and_keeps_the_parameters():
    model, tok = build(weight_drop=0.5)
    names = {n for n, _ in model.named_parameters()}
    plain, _ = build()
    assert names == {n for n, _ in plain.named_parameters()}  # a file any runtime reads as a plain LSTM
    x = torch.randint(3, tok.vocab_size, (2, 9))
    model.train()
    torch.manual_seed(1)
    a, _ = model(x)
    torch.manual_seed(2)
    b, _ = model(x)
    assert not torch.allclose(a, b)  # a new DropConnect mask each call
    a.sum().backward()
    assert model.encoder.rnn.weight_hh_l0.grad.abs().sum() > 0  # gradients reach the raw weights
    model.eval()
    plain.load_state_dict(model.state_dict())
    plain.eval()
    torch.testing.assert_close(model(x)[0], plain(x)[0])  # inference uses the raw weights


def test_dropconnect_mask_is_shared_by_every_step_of_a_window():
    """A dropped recurrent weight is gone for the whole window (one mask per call), unlike
    dropout on the hidden state, which would draw one per step."""
    torch.manual_seed(0)
    rnn = torch.nn.RNN(1, 3, 1, batch_first=True, bias=False)
    x = torch.zeros(1, 6, 1)
    h0 = torch.ones(1, 1, 3)
    torch.manual_seed(5)
    out, _ = run_layers(rnn, x, h0, 0.5, 0.0, 0.0)
    torch.manual_seed(5)
    dropped = torch.nn.functional.dropout(rnn.weight_hh_l0, 0.5, True)
    h, expected = h0[0], []
    for _ in range(6):
        h = torch.tanh(h @ dropped.T)
        expected.append(h)
    torch.testing.assert_close(out[0], torch.cat(expected))


def test_locked_dropout_uses_one_mask_for_all_steps():
    torch.manual_seed(0)
    x = torch.ones(4, 10, 8)
    y = locked_dropout(x, 0.5, True)
    assert torch.equal(y, y[:, :1].expand_as(y))  # the same at every step
    assert set(y.unique().tolist()) <= {0.0, 2.0} and (y == 0).any()
    assert locked_dropout(x, 0.5, False) is x


def test_embedding_dropout_removes_whole_words_in_training_only():
    model, tok = build(embedding_dropout=0.5)
    model.train()
    torch.manual_seed(3)
    tokens = torch.tensor([[5, 5, 6, 6, 7, 7, 8, 8]])
    e = model.embed(tokens)[0]
    for i in range(0, 8, 2):  # both occurrences of a word are dropped or kept together
        assert torch.equal(e[i], e[i + 1])
    zero = (e.abs().sum(1) == 0).tolist()
    assert any(zero) or all(not z for z in zero)
    model.eval()
    torch.testing.assert_close(model.embed(tokens), model.embedding(tokens))


def test_ar_and_tar_add_their_penalties_to_the_loss():
    model, tok = build()
    ids = token_stream(tok, LINES)
    batch = next(iter(LMTraining(model, ids, None, 4, CPU).batches(0, 0)))
    model.eval()  # no dropout: the same activations every call

    def loss_with(**reg):
        task = LMTraining(model, ids, None, 4, CPU, regularisers=Regularisers(**reg))
        return task.loss(batch)[0].item()

    base = loss_with()
    acts = {}
    h, _ = model.features(batch[0], activations=acts)
    ar = acts["dropped"].pow(2).mean().item()
    tar = (acts["raw"][:, 1:] - acts["raw"][:, :-1]).pow(2).mean().item()
    assert loss_with(ar=2.0) == pytest.approx(base + 2.0 * ar, rel=1e-5)
    assert loss_with(tar=3.0) == pytest.approx(base + 3.0 * tar, rel=1e-5)


def test_variable_bptt_windows_cover_the_stream_once_and_repeat_per_seed():
    data = batchify(torch.arange(2000), 4)
    g = lambda seed: torch.Generator().manual_seed(seed)  # noqa: E731
    wins = list(variable_windows(data, 35, g(1)))
    lengths = [x.size(1) for x, _ in wins]
    assert len(wins) <= window_count(data, 35) and len(set(lengths)) > 3
    joined = torch.cat([x for x, _ in wins], dim=1)
    assert torch.equal(joined, data[:, :-1])  # every step once, in order
    for x, y in wins:
        assert torch.equal(y[:, :-1], x[:, 1:])
    assert lengths == [x.size(1) for x, _ in variable_windows(data, 35, g(1))]
    assert lengths != [x.size(1) for x, _ in variable_windows(data, 35, g(2))]


def test_variable_bptt_scales_the_rate_by_window_length():
    model, tok = build()
    ids = token_stream(tok, LINES)
    task = LMTraining(model, ids, None, 4, CPU, regularisers=Regularisers(variable_bptt=True))
    batches = list(task.batches(0, 0))
    assert task.lr_scale(batches[:1]) == pytest.approx(batches[0][0].size(1) / 12)
    assert LMTraining(model, ids, None, 4, CPU).lr_scale(batches[:1]) == 1.0


def test_asgd_triggers_on_a_non_monotone_validation_and_averages_from_then_on():
    model = torch.nn.Linear(2, 1)
    asgd = AveragedSGD(model, nonmono=2)
    assert [asgd.due(v) for v in (5.0, 4.0, 3.0, 2.5)] == [False] * 4
    assert not asgd.due(3.5)  # worse than the last two, not than the best before them (4.0)
    assert asgd.due(3.2)  # worse than the best of the validations more than 2 before (3.0)
    asgd.start()
    first = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(2.0)
    asgd.update()
    with asgd.swapped():
        torch.testing.assert_close(model.weight, first + 1.0)  # the mean of the two iterates
    torch.testing.assert_close(model.weight, first + 2.0)  # the raw iterate is back


def make_training(**reg):
    model, tok = build(weight_drop=0.3, layer_dropout=0.2, input_dropout=0.1, output_dropout=0.2, embedding_dropout=0.1)
    ids = token_stream(tok, LINES)
    return LMTraining(model, ids, ids[:300], 4, CPU, 0, Regularisers(**reg)), tok


def test_asgd_validates_and_keeps_the_average_and_resume_continues_it(tmp_path):
    config = TrainConfig.make(optimizer="sgd", lr=1.0, schedule="constant", max_steps=40, eval_every=4, asgd=1, seed=2)

    def trainer(task, tok, ckpt):
        meta = to_modelfile(task.model, tok, {}).meta
        return Trainer(task, config, CPU, quiet=True, checkpoint=ckpt, checkpoint_meta=meta, task_name="lm")

    # a rate this high makes validation go up and down: the trigger fires early
    task, tok = make_training(ar=1.0, tar=1.0, variable_bptt=True)
    straight = trainer(task, tok, tmp_path / "a.ckpt")
    result = straight.fit()
    assert straight.asgd.active and straight.asgd.count > 1
    assert result.history[-1]["step"] == 40
    with straight.asgd.swapped():  # the last validation read the averaged weights
        assert task.evaluate()["valid_loss"] == result.history[-1]["valid_loss"]
    kept = task.model.state_dict()  # the kept model is the best validated one: an average
    for name, value in straight.best_state.items():
        assert torch.equal(kept[name], value)
    # resumed from a checkpoint written mid-run, the run ends with the same average
    from tests.test_training import interrupt_at

    task, tok = make_training(ar=1.0, tar=1.0, variable_bptt=True)
    interrupt_at(task, 30)
    first = trainer(task, tok, tmp_path / "b.ckpt")
    assert first.fit().interrupted
    saved = modelfile.load(tmp_path / "b.ckpt")
    assert saved.meta["checkpoint"]["asgd"]["active"] == first.asgd.active
    task, tok = make_training(ar=1.0, tar=1.0, variable_bptt=True)
    torch.manual_seed(123)  # the random state must come from the checkpoint
    resumed = trainer(task, tok, tmp_path / "b.ckpt")
    resumed.restore(saved)
    resumed.fit()
    for a, b in zip(straight.asgd.average, resumed.asgd.average, strict=True):
        torch.testing.assert_close(a, b, atol=0, rtol=0)


def test_resuming_an_averaging_run_without_asgd_is_refused(tmp_path):
    from nlpkit.errors import NlpkitError

    task, tok = make_training()
    meta = to_modelfile(task.model, tok, {}).meta
    config = TrainConfig.make(optimizer="sgd", lr=1.0, schedule="constant", max_steps=12, eval_every=2, asgd=1)
    trainer = Trainer(
        task, config, CPU, quiet=True, checkpoint=tmp_path / "c.ckpt", checkpoint_meta=meta, task_name="lm"
    )
    trainer.asgd.start()  # as if a validation had stalled
    trainer.save_checkpoint()
    plain = Trainer(make_training()[0], TrainConfig.make(optimizer="sgd", lr=1.0, max_steps=12), CPU, quiet=True)
    with pytest.raises(NlpkitError, match="resume with the same asgd"):
        plain.restore(modelfile.load(tmp_path / "c.ckpt"))


def test_asgd_needs_sgd():
    with pytest.raises(NlpkitError, match="asgd.*sgd"):
        TrainConfig.make(optimizer="adamw", asgd=5)


@pytest.mark.parametrize("name", ["weight_drop", "layer_dropout"])
def test_recurrent_only_regularisers_refuse_a_transformer_and_bad_rates(name):
    with pytest.raises(ValueError, match=name):
        EncoderConfig(kind="transformer", heads=2, hidden_size=8, **{name: 0.2})
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        EncoderConfig(kind="lstm", **{name: 1.0})


@pytest.mark.parametrize("name", ["input_dropout", "output_dropout", "embedding_dropout"])
def test_model_rates_must_lie_in_zero_to_one(name):
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        lm.LMConfig(vocab_size=10, **{name: -0.1})


def test_a_model_file_without_regulariser_fields_still_loads():
    model, tok = build()
    saved = to_modelfile(model, tok, {})
    for key in ("input_dropout", "output_dropout", "embedding_dropout"):
        saved.meta["model"].pop(key)
    for key in ("weight_drop", "layer_dropout"):
        saved.meta["model"]["encoder"].pop(key)
    loaded, _ = from_modelfile(saved)
    assert loaded.config.input_dropout == 0.0 and loaded.config.encoder.weight_drop == 0.0
