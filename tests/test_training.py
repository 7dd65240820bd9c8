import math

import pytest
import torch

from nlpkit import modelfile
from nlpkit.data.streams import token_stream
from nlpkit.encoders import EncoderConfig
from nlpkit.schedule import Schedule
from nlpkit.tasks.lm import model as lm
from nlpkit.tasks.lm.files import to_modelfile
from nlpkit.tasks.lm.training import LMTraining
from nlpkit.text.tokenizers import train_tokenizer
from nlpkit.training import TrainConfig, Trainer

LINES = ["the cat sat on the mat and the dog ran to the park"] * 40 + ["a bird sang in the old tree"] * 40
CPU = torch.device("cpu")


def make_task(kind="lstm", seed=0):
    torch.manual_seed(seed)
    tok = train_tokenizer("char", LINES)
    model = lm.build_model(
        lm.LMConfig(
            vocab_size=tok.vocab_size,
            embed_size=16,
            encoder=EncoderConfig(kind=kind, hidden_size=16, layers=1, heads=2),
            context=12,
            dropout=0.1,
        )
    )
    ids = token_stream(tok, LINES)
    return LMTraining(model, ids, ids[:400], 4, CPU, seed), tok


def params(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_training_lowers_the_loss():
    task, _ = make_task()
    before = task.evaluate()["valid_loss"]
    result = Trainer(task, TrainConfig.make(lr=1e-2, max_steps=60), CPU, quiet=True).fit()
    assert result.best["valid_loss"] < before - 0.5
    assert result.steps == 60 and result.tokens == 60 * 4 * 12


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_seeded_cpu_runs_repeat_exactly(kind):
    results = []
    for _ in range(2):
        task, _ = make_task(kind, seed=3)
        Trainer(task, TrainConfig.make(max_steps=15, seed=3), CPU, quiet=True).fit()
        results.append(params(task.model))
    assert torch.equal(results[0], results[1])


def interrupt_at(task, call):
    calls = {"n": 0}
    original = task.loss

    def interrupting(batch):
        calls["n"] += 1
        if calls["n"] == call:
            raise KeyboardInterrupt
        return original(batch)

    task.loss = interrupting


def final_weights(path):
    return {k: v for k, v in modelfile.load(path).tensors.items() if k.startswith("model.")}


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_resume_continues_exactly_where_training_stopped(tmp_path, kind):
    config = TrainConfig.make(max_steps=24, eval_every=8, schedule="cosine", warmup=3, seed=5)

    def trainer(task, tok, ckpt):
        meta = to_modelfile(task.model, tok, {}).meta
        return Trainer(task, config, CPU, quiet=True, checkpoint=ckpt, checkpoint_meta=meta, task_name="lm")

    task, tok = make_task(kind, seed=5)
    trainer(task, tok, tmp_path / "straight.ckpt").fit()

    task, tok = make_task(kind, seed=5)
    interrupt_at(task, 14)
    assert trainer(task, tok, tmp_path / "resumed.ckpt").fit().interrupted
    saved = modelfile.load(tmp_path / "resumed.ckpt")
    assert saved.meta["checkpoint"]["step"] == 13

    task, tok = make_task(kind, seed=99)  # other weights and RNG: all must come from the file
    resumed = trainer(task, tok, tmp_path / "resumed.ckpt")
    resumed.restore(saved)
    result = resumed.fit()
    assert result.steps == 24
    a, b = final_weights(tmp_path / "straight.ckpt"), final_weights(tmp_path / "resumed.ckpt")
    for name in a:
        torch.testing.assert_close(a[name], b[name], atol=0, rtol=0)


def test_clipping_is_counted_and_off_when_zero():
    task, _ = make_task()
    clipped = Trainer(task, TrainConfig.make(max_steps=10, clip=1e-6), CPU, quiet=True).fit()
    assert clipped.clipped_share == 1.0
    task, _ = make_task()
    free = Trainer(task, TrainConfig.make(max_steps=10, clip=0), CPU, quiet=True).fit()
    assert free.clipped_share == 0.0 and free.mean_grad_norm > 0


def test_early_stopping_after_patience():
    task, _ = make_task()
    # lr tiny enough that validation cannot improve meaningfully: stops after `patience` evals.
    result = Trainer(
        task, TrainConfig.make(lr=1e-9, epochs=50, eval_every=2, patience=2, schedule="constant"), CPU, quiet=True
    ).fit()
    assert result.stopped == "early stopping"
    assert result.steps < 50 * task.steps_per_epoch()


def test_time_budget_stops_training():
    task, _ = make_task()
    result = Trainer(task, TrainConfig.make(time_budget="0.5s", eval_every=0), CPU, quiet=True).fit()
    assert result.stopped == "time budget"
    assert result.seconds < 10


def test_keyboard_interrupt_writes_a_resumable_checkpoint(tmp_path):
    task, tok = make_task()
    interrupt_at(task, 6)
    ckpt = tmp_path / "m.nlpk.ckpt"
    result = Trainer(
        task,
        TrainConfig.make(max_steps=50),
        CPU,
        quiet=True,
        checkpoint=ckpt,
        checkpoint_meta=to_modelfile(task.model, tok, {}).meta,
        task_name="lm",
    ).fit()
    assert result.interrupted and result.steps == 5
    assert modelfile.load(ckpt).meta["checkpoint"]["step"] == 5


def test_divergence_is_a_clear_error():
    from nlpkit.errors import NlpkitError

    task, _ = make_task()
    task.loss = lambda batch: (torch.tensor(float("nan"), requires_grad=True), 1)
    with pytest.raises(NlpkitError, match="diverged"):
        Trainer(task, TrainConfig.make(max_steps=3), CPU, quiet=True).fit()


def test_best_model_is_kept():
    task, _ = make_task()
    result = Trainer(task, TrainConfig.make(lr=1e-2, max_steps=40, eval_every=10), CPU, quiet=True).fit()
    best = min(h["valid_loss"] for h in result.history)
    assert result.best["valid_loss"] == best
    assert task.evaluate()["valid_loss"] == pytest.approx(best, abs=1e-4)


def test_schedules():
    cos = Schedule("cosine", warmup=10)
    assert cos.factor(0, 0.0) == pytest.approx(0.1)
    assert cos.factor(50, 0.5) == pytest.approx(0.5)
    assert cos.factor(99, 1.0) == pytest.approx(0.0)
    assert Schedule("linear", min_ratio=0.1).factor(5, 1.0) == pytest.approx(0.1)
    plateau = Schedule("plateau", plateau_factor=0.5)
    plateau.observe(True)
    plateau.observe(False)
    assert plateau.factor(1, 0.3) == 0.5
    assert math.isclose(Schedule("constant").factor(7, 0.9), 1.0)


def test_layer_wise_rates_and_the_before_step_hook_reach_the_optimizer():
    from nlpkit.training import TrainConfig, Trainer

    class Task:
        metric, higher_is_better = "valid_loss", False

        def __init__(self):
            self.model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1))
            self.seen = []

        def param_groups(self):
            return [(list(self.model[0].parameters()), 0.1), (list(self.model[1].parameters()), 1.0)]

        def before_step(self, progress):
            self.seen.append(progress)

        def steps_per_epoch(self):
            return 4

        def batches(self, epoch, start):
            for _ in range(start, 4):
                yield torch.randn(3, 2)

        def loss(self, batch):
            return self.model(batch).pow(2).mean(), 3

        def evaluate(self):
            return {}

    task = Task()
    trainer = Trainer(task, TrainConfig.make(lr=0.5, schedule="constant", epochs=1), CPU, quiet=True)
    trainer.fit()
    rates = sorted({round(g["lr"], 6) for g in trainer.optimizer.param_groups})
    assert rates == [0.05, 0.5]
    assert task.seen == [0.0, 0.25, 0.5, 0.75]


class _Numbered:
    """A training adapter whose batches are their own numbers (for the dealing tests)."""

    metric, higher_is_better = "valid_loss", False

    def __init__(self, n):
        self.model, self.n = torch.nn.Linear(2, 2), n

    def steps_per_epoch(self):
        return self.n

    def batches(self, epoch, start):
        yield from range(start, self.n)


@pytest.mark.parametrize(
    "rank,size,accumulate,start,expected",
    [
        (0, 1, 1, 0, [[0], [1], [2], [3], [4], [5], [6], [7], [8], [9]]),
        (0, 1, 3, 0, [[0, 1, 2], [3, 4, 5], [6, 7, 8]]),  # the last, short step is dropped
        (0, 2, 1, 0, [[0], [2], [4], [6], [8]]),  # process 0 of 2: each step's first batch
        (1, 2, 1, 0, [[1], [3], [5], [7], [9]]),
        (1, 2, 2, 1, [[5, 7]]),  # from step 1 on: 4 batches a step, this process's two
    ],
)
def test_each_process_takes_its_share_of_every_step(rank, size, accumulate, start, expected):
    from nlpkit.distributed import World

    trainer = Trainer(
        _Numbered(10), TrainConfig.make(accumulate=accumulate), torch.device("cpu"), world=World(rank, size)
    )
    assert trainer.steps_per_epoch() == 10 // (accumulate * size)
    assert list(trainer._step_groups(0, start)) == expected


def test_average_last_keeps_the_mean_of_the_last_validations_and_resumes_with_them(tmp_path):
    task, _ = make_task()
    ckpt = tmp_path / "m.ckpt"
    config = TrainConfig.make(lr=1e-2, max_steps=40, eval_every=10, average_last=3)
    trainer = Trainer(task, config, CPU, quiet=True, checkpoint=ckpt, task_name="lm")
    result = trainer.fit()
    assert result.averaged == 3 and len(trainer.recent) == 3 and "valid_loss" in result.best
    kept = task.model.state_dict()
    for name, value in kept.items():
        mean = torch.stack([w[name].float() for w in trainer.recent]).mean(0)
        assert torch.allclose(value.float(), mean, atol=1e-6), name
    assert not torch.equal(kept["decoder.weight"], trainer.recent[-1]["decoder.weight"])

    again, _ = make_task()
    resumed = Trainer(again, TrainConfig.make(lr=1e-2, max_steps=50, eval_every=10, average_last=3), CPU, quiet=True)
    resumed.restore(modelfile.load(ckpt))
    assert len(resumed.recent) == 3  # the kept validations travel in the checkpoint
    assert torch.equal(resumed.recent[-1]["decoder.weight"], trainer.recent[-1]["decoder.weight"])
