"""The one training loop every task uses.

A task hands the trainer an object with this shape (duck-typed, see LMTraining for one):

    model                       the nn.Module to train
    metric, higher_is_better    the validation metric that picks the best model
    steps_per_epoch()           batches in one epoch
    batches(epoch, start)       that epoch's batches, skipping the first `start` (for resume)
    loss(batch)                 (mean loss tensor, tokens in the batch)
    evaluate()                  {metric: value, ...} on the validation data, or {} with none
    carry_state() / restore_carry(tensors)   optional: state carried between batches (BPTT)
    param_groups()              optional: [(parameters, lr scale), ...] for layer-wise rates
    before_step(progress)       optional: called before each step with progress 0..1
                                (gradual unfreezing)
    shard(rank, size)           optional: keep only this process's share of the data when
                                training on several processes (nlpkit.distributed); without
                                it, the processes take turns at the batches of each step

The trainer owns the optimizer, the schedule, gradient accumulation, clipping, evaluation, early
stopping, budgets, best-model keeping, checkpoints, resume, progress, and the averaging of
gradients across processes under torchrun.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from nlpkit import checkpoints, modelfile, optimizers
from nlpkit.averaging import AveragedSGD, mean_weights
from nlpkit.device import autocast
from nlpkit.errors import NlpkitError, option
from nlpkit.option_parsing import parse_duration
from nlpkit.schedule import Schedule
from nlpkit.tracking import progress_bar, show_progress


@dataclass
class TrainConfig:
    """What the loop needs of the training options (nlpkit.options.TrainOptions, where each is
    declared, defaulted and bounded once), resolved: the task's learning rate for lr 0, the
    optimizer's weight decay for none, the time budget in seconds. Made by from_options()."""

    optimizer: str  # adamw | sgd
    lr: float
    weight_decay: float
    schedule: str
    warmup: int
    clip: float  # max global gradient norm; 0 turns clipping off
    epochs: int  # 0: 10 epochs, or unlimited under a time or step budget
    max_steps: int
    time_budget: float  # seconds, evaluation included; 0: none
    eval_every: int  # steps; 0: at the end of every epoch
    accumulate: int  # batches whose gradients add up to one optimizer step
    average_last: int  # keep the average of the weights at the last N validations (0: the best)
    patience: int  # evaluations without improvement before stopping; 0: never stop early
    asgd: int  # NT-ASGD's non-monotone window in validations (nlpkit.averaging); 0: off
    seed: int
    momentum: float = 0.0  # sgd; not an option
    min_lr_ratio: float = 0.0  # where the schedule ends; not an option

    @classmethod
    def from_options(cls, options) -> TrainConfig:
        """The config of a checked TrainOptions (any task's)."""
        weight_decay = options.weight_decay
        if weight_decay is None:
            weight_decay = 0.0 if options.optimizer == "sgd" else 0.01
        return cls(
            optimizer=options.optimizer,
            lr=options.lr or options.default_lr(),
            weight_decay=weight_decay,
            schedule=options.schedule,
            warmup=options.warmup,
            clip=options.clip,
            epochs=options.epochs,
            max_steps=options.max_steps,
            time_budget=parse_duration(options.time_budget) if options.time_budget else 0.0,
            eval_every=options.eval_every,
            accumulate=options.accumulate,
            average_last=options.average_last,
            patience=options.patience,
            asgd=options.asgd,
            seed=options.seed,
        )

    @classmethod
    def make(cls, **options) -> TrainConfig:
        """The config of these training options, checked as nlpkit.train checks them (for code
        that drives a Trainer itself: tests, benchmarks)."""
        from nlpkit.options import TrainOptions

        return cls.from_options(TrainOptions.create(options))

    @property
    def epoch_limit(self) -> int:
        if self.epochs:
            return self.epochs
        return 1_000_000 if (self.max_steps or self.time_budget) else 10


@dataclass
class TrainResult:
    steps: int = 0
    epochs: float = 0.0
    train_loss: float = float("nan")
    best: dict = field(default_factory=dict)  # validation metrics of the kept model
    best_step: int = 0
    history: list = field(default_factory=list)  # one entry per evaluation
    tokens: int = 0
    tokens_per_s: float = 0.0
    clipped_share: float = 0.0
    mean_grad_norm: float = 0.0
    seconds: float = 0.0
    stopped: str = ""
    interrupted: bool = False
    averaged: int = 0  # validations whose weights were averaged into the kept model (average_last)

    def to_dict(self) -> dict:
        return asdict(self)


class Trainer:
    def __init__(
        self,
        task,
        config: TrainConfig,
        device,
        *,
        checkpoint: Path | None = None,
        checkpoint_meta: dict | None = None,
        task_name: str = "",
        quiet: bool = False,
        console=None,
        world=None,
        log=None,
    ):
        from nlpkit.distributed import World

        self.task = task
        self.world = world or World()
        # a task that splits its data per process itself (the LM's streams) says so with shard()
        self.own_shard = self.world.distributed and hasattr(task, "shard")
        if self.own_shard:
            task.shard(self.world.rank, self.world.size)
        self.config = config
        self.device = device
        self.checkpoint = checkpoint
        self.checkpoint_meta = checkpoint_meta or {}
        self.task_name = task_name
        self.quiet = quiet
        self.console = console
        self.log = log  # nlpkit.tracking.RunLog: lines for batch jobs, TensorBoard, MLflow
        self._tokens_run, self._lr = 0, 0.0
        self.model = task.model
        scaled_groups = task.param_groups() if hasattr(task, "param_groups") else None
        self.optimizer = optimizers.build_optimizer(self.model, config, scaled_groups)
        self._before_step = getattr(task, "before_step", None)
        self._lr_scale = getattr(task, "lr_scale", None)
        self.asgd = AveragedSGD(self.model, config.asgd, task.higher_is_better) if config.asgd else None
        self.schedule = Schedule(config.schedule, warmup=config.warmup, min_ratio=config.min_lr_ratio)
        self.step = 0
        self.epoch = 0
        self.step_in_epoch = 0
        self.best_value: float | None = None
        self.best_state: dict | None = None
        self.recent: list[dict] = []  # weights at the last average_last validations
        self.result = TrainResult()
        self.elapsed_before = 0.0  # time spent in earlier runs of a resumed training
        self._clipped = 0
        self._norm_sum = 0.0
        self._eval_time = 0.0
        self._start = time.perf_counter()  # reset when fit() starts

    # ----- progress and budgets -------------------------------------------------------------
    def _batches_per_step(self) -> int:
        """Batches of the epoch's stream one optimizer step takes: `accumulate` on each process."""
        return self.config.accumulate * (1 if self.own_shard else self.world.size)

    def steps_per_epoch(self) -> int:
        return self.task.steps_per_epoch() // self._batches_per_step()

    def _step_groups(self, epoch: int, start: int):
        """This process's batches for each optimizer step of the epoch from step `start` on. With
        several processes, batch k of a step's consecutive batches goes to process k % size, so N
        processes make the same steps as one process accumulating N batches."""
        per_step, size, rank = self._batches_per_step(), self.world.size, self.world.rank
        steps_left = self.steps_per_epoch() - start
        group, k = [], 0
        for batch in self.task.batches(epoch, start * per_step):
            if steps_left <= 0:
                return
            if self.own_shard or k % size == rank:
                group.append(batch)
            k += 1
            if k == per_step:
                yield group
                group, k, steps_left = [], 0, steps_left - 1

    def _total_steps(self) -> int:
        by_epochs = self.config.epoch_limit * self.steps_per_epoch()
        if self.config.max_steps:
            return min(self.config.max_steps, by_epochs)
        return by_epochs

    def _progress(self, elapsed: float) -> float:
        p = self.step / max(1, self._total_steps())
        if self.config.time_budget:
            p = max(p, elapsed / self.config.time_budget)
        return p

    def _set_lr(self, elapsed: float, batches: list) -> float:
        factor = self.schedule.factor(self.step, self._progress(elapsed))
        factor *= self._lr_scale(batches) if self._lr_scale is not None else 1.0
        lr = self.config.lr * factor
        for group in self.optimizer.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)
        return lr

    # ----- evaluation and best model -------------------------------------------------------
    def _better(self, value: float) -> bool:
        if self.best_value is None or math.isnan(self.best_value):
            return not math.isnan(value)
        return value > self.best_value if self.task.higher_is_better else value < self.best_value

    def _evaluate(self, train_loss: float, elapsed: float) -> bool:
        """Evaluate; keep the model if it is the best so far. Returns whether it improved."""
        if not self.world.main:  # rank 0 validates and keeps the best model for all
            return False
        t0 = time.perf_counter()
        try:
            if self.asgd is None:
                return self._evaluate_inner(train_loss, elapsed)
            with self.asgd.swapped():  # once averaging has begun, the average is what is validated and kept
                return self._evaluate_inner(train_loss, elapsed)
        finally:
            self._eval_time += time.perf_counter() - t0

    def _evaluate_inner(self, train_loss: float, elapsed: float) -> bool:
        was_training = self.model.training
        self.model.eval()
        with torch.no_grad(), autocast(self.device):
            metrics = self.task.evaluate()
        self.model.train(was_training)
        entry = {
            "step": self.step,
            "epoch": round(self.step / max(1, self.steps_per_epoch()), 3),
            "train_loss": train_loss,
            "seconds": round(elapsed, 1),
            **metrics,
        }
        self.result.history.append(entry)
        if self.config.average_last:
            self.recent = [*self.recent, {k: v.detach().clone() for k, v in self.model.state_dict().items()}]
            self.recent = self.recent[-self.config.average_last :]
        improved = bool(metrics) and self._better(metrics[self.task.metric])
        if improved:
            self.best_value = metrics[self.task.metric]
            self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
            self.result.best = dict(metrics)
            self.result.best_step = self.step
        if metrics:
            self.schedule.observe(improved)
        if self.log is not None:
            record = self.record("eval", train_loss)
            record.update({k: v for k, v in metrics.items()})
            if self.best_value is not None:
                record["best"] = {"metric": self.task.metric, "value": self.best_value, "step": self.result.best_step}
            self.log.emit(record)
        return improved

    def record(self, event: str, train_loss: float) -> dict:
        """A record for the run's log (nlpkit.tracking): where the run is, and how fast it goes."""
        elapsed = self._elapsed()
        done = self._progress(elapsed)
        train_time = self._train_time()
        return {
            "event": event,
            "step": self.step,
            "epoch": round(self.step / max(1, self.steps_per_epoch()), 3),
            "elapsed": round(elapsed, 1),
            "tokens_per_s": round(self._tokens_run / train_time, 1) if train_time > 0 else 0.0,
            "train_loss": train_loss,
            "lr": self._lr,
            "eta": round(elapsed * (1 - done) / done, 1) if 0 < done < 1 else (0.0 if done >= 1 else None),
        }

    # ----- checkpoints ------------------------------------------------------------------------
    def save_checkpoint(self) -> None:
        checkpoints.write(self)

    def restore(self, saved: modelfile.ModelFile) -> None:
        """Continue from a checkpoint: weights, optimizer, schedule, RNG and data position."""
        checkpoints.read(self, saved)

    def finished(self) -> str:
        """Why a run restored from a checkpoint would stop before its first step ("" if it
        would not): the epochs, steps or time its options allow are spent, or early stopping."""
        config = self.config
        if self.epoch >= config.epoch_limit:
            return f"its {config.epoch_limit} epochs are done"
        if config.max_steps and self.step >= config.max_steps:
            return f"it has run its {config.max_steps} steps"
        if config.time_budget and self.elapsed_before >= config.time_budget:
            return f"it has used its time budget of {config.time_budget:g} s"
        if config.patience and self.best_value is not None:
            if sum(1 for h in self.result.history if h["step"] > self.result.best_step) >= config.patience:
                return "early stopping ended it"
        return ""

    def _run_elapsed(self) -> float:
        return time.perf_counter() - self._start

    # ----- the loop ----------------------------------------------------------------------------
    def fit(self) -> TrainResult:
        if self.steps_per_epoch() < 1:
            raise NlpkitError(
                f"the training data make {self.task.steps_per_epoch()} batch(es) an epoch, fewer than one step takes "
                f"({self._batches_per_step()}: {option('accumulate')} x processes); use smaller batches or more data"
            )
        self._start = time.perf_counter()
        progress = None
        if not self.quiet:
            progress = progress_bar(self.console)
            progress.start()
            bar = progress.add_task("train", total=1000, info="")
        config = self.config
        self._tokens_run, losses = 0, []  # for tokens/s
        self._eval_time = 0.0
        stop = ""
        try:
            self.model.train()
            while not stop:
                if self.epoch >= config.epoch_limit:
                    stop = f"{config.epoch_limit} epochs"
                    break
                for group in self._step_groups(self.epoch, self.step_in_epoch):
                    elapsed = self.world.main_value(self._elapsed(), self.device)  # one clock for all
                    if config.time_budget and elapsed >= config.time_budget:
                        stop = "time budget"
                        break
                    if config.max_steps and self.step >= config.max_steps:
                        stop = f"{config.max_steps} steps"
                        break
                    lr = self._lr = self._set_lr(elapsed, group)
                    if self._before_step is not None:
                        self._before_step(self._progress(elapsed))
                    loss, n_tokens = self._gradients(group)
                    max_norm = config.clip if config.clip else float("inf")
                    norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), max_norm))
                    self._clipped += bool(config.clip and norm > config.clip)
                    self._norm_sum += norm if math.isfinite(norm) else 0.0
                    self.optimizer.step()
                    if self.asgd is not None:
                        self.asgd.update()
                    self.step += 1
                    self.step_in_epoch += 1
                    losses.append(loss)
                    self._tokens_run += n_tokens
                    self.result.tokens += n_tokens
                    if self.log is not None and self.log.due():
                        self.log.emit(self.record("progress", _mean_tail(losses)))
                    if config.eval_every and self.step % config.eval_every == 0:
                        self._eval_and_checkpoint(losses, elapsed)
                        if self._patience_exhausted():
                            stop = "early stopping"
                            break
                    if progress is not None and (self.step % 5 == 0 or self.step == 1):
                        last = self.result.history[-1] if self.result.history else {}
                        tps = self._tokens_run / max(self._train_time(), 1e-9)
                        shown = show_progress(self.step, _mean_tail(losses), self.task.metric, last, lr, tps)
                        progress.update(bar, completed=min(1000, 1000 * self._progress(self._elapsed())), info=shown)
                else:
                    self.epoch += 1
                    self.step_in_epoch = 0
                    if not config.eval_every:
                        self._eval_and_checkpoint(losses, self._elapsed())
                        if self._patience_exhausted():
                            stop = "early stopping"
        except KeyboardInterrupt:
            self.result.interrupted = True
            stop = "interrupted"
        finally:
            if progress is not None:
                progress.stop()
        # A final evaluation unless the last step was just evaluated.
        if not self.result.interrupted and (not self.result.history or self.result.history[-1]["step"] != self.step):
            self._evaluate(_mean_tail(losses), self._elapsed())
        self.result.stopped = stop
        self.result.steps = self.step
        self.result.epochs = round(self.step / max(1, self.steps_per_epoch()), 3)
        self.result.train_loss = _mean_tail(losses)
        self.result.seconds = round(self._elapsed(), 2)
        train_time = self._train_time()
        run_tps = self._tokens_run / train_time if train_time else 0.0
        self.result.tokens_per_s = round(run_tps, 1)
        self.result.clipped_share = round(self._clipped / max(1, self.step), 4)
        self.result.mean_grad_norm = round(self._norm_sum / max(1, self.step), 4)
        self.save_checkpoint()
        if self.config.average_last and self.recent and self.world.main:
            self._keep_average()
        elif self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        self.model.eval()  # training is over: what the caller does next is inference or saving
        return self.result

    def _keep_average(self) -> None:
        """Checkpoint averaging: the mean of the weights at the last N validations (integer
        buffers from the last), validated once more; its metrics become the kept model's."""
        from nlpkit.console import warn

        n, wanted = len(self.recent), self.config.average_last
        if n < wanted:
            warn(f"{option('average_last')} {wanted}: the run made {n} validation(s); averaged those {n}")
        self.model.load_state_dict(mean_weights(self.recent))
        self.model.eval()
        with torch.no_grad(), autocast(self.device):
            metrics = self.task.evaluate()
        if metrics:
            self.result.best, self.result.best_step = dict(metrics), self.step
        self.result.averaged = n

    def _gradients(self, group: list) -> tuple[float, int]:
        """Gradients of one optimizer step: the mean over this process's batches, averaged over
        the processes. Returns the step's mean loss and its tokens (all processes)."""
        self.optimizer.zero_grad(set_to_none=True)
        loss_sum, tokens = 0.0, 0
        for batch in group:
            with autocast(self.device):
                loss, n_tokens = self.task.loss(batch)
            if not torch.isfinite(loss):
                raise NlpkitError(
                    f"training diverged at step {self.step} (loss is {loss.item()}); lower {option('lr')} or {option('clip')}"
                )
            (loss / len(group)).backward()
            loss_sum += loss.item()
            tokens += n_tokens
        if self.world.distributed:
            params = [p for p in self.model.parameters() if p.requires_grad]
            for p in params:
                if p.grad is None:  # unused this step here, perhaps not on another process
                    p.grad = torch.zeros_like(p)
            loss_sum, tokens = self.world.average([p.grad for p in params], [loss_sum, float(tokens)], self.device)
            return loss_sum / (len(group) * self.world.size), int(tokens)
        return loss_sum / len(group), tokens

    def _elapsed(self) -> float:
        return self.elapsed_before + self._run_elapsed()

    def _train_time(self) -> float:
        """Wall time of this run spent outside evaluation: what tokens/s is measured over."""
        return self._run_elapsed() - self._eval_time

    def _eval_and_checkpoint(self, losses: list, elapsed: float) -> None:
        self._evaluate(_mean_tail(losses), elapsed)
        if self.asgd is not None and not self.asgd.active:  # rank 0 validated; all start together
            metric = self.result.history[-1].get(self.task.metric) if self.world.main else None
            if self.world.main_value(metric is not None and self.asgd.due(metric), self.device):
                self.asgd.start()
        t0 = time.perf_counter()
        self.save_checkpoint()  # counted with evaluation: tokens/s measures training steps only
        self._eval_time += time.perf_counter() - t0

    def _patience_exhausted(self) -> bool:
        """Whether early stopping ends the run: rank 0's decision, the one that validates."""
        exhausted = False
        if self.config.patience and self.best_value is not None:
            evals_since_best = sum(1 for h in self.result.history if h["step"] > self.result.best_step)
            exhausted = evals_since_best >= self.config.patience
        return bool(self.world.main_value(exhausted, self.device))


def _mean_tail(losses: list, n: int = 50) -> float:
    tail = losses[-n:]
    return round(sum(tail) / len(tail), 5) if tail else float("nan")
