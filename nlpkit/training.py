"""The one training loop every task uses, and the contract of what a task hands it.

A task hands the Trainer a TrainingAdapter (nlpkit.training_adapter: every hook listed once, the
optional ones with their defaults). The Trainer owns the optimizer, the schedule, gradient accumulation, clipping,
validation, the stop rules (epochs, steps, time budget, patience), the kept model (best,
averaged or NT-ASGD), checkpoints (state_dict / load_state_dict), progress, and the averaging of
gradients across processes under torchrun. `fit()` reads as the loop it is: take a step's
batches, step, validate when due, until a stop reason says why not.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
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
from nlpkit.training_adapter import TrainingAdapter, hooks


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
    precision: str = "auto"  # auto | bf16 | fp32: nlpkit.device.autocast
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
            precision=options.precision,
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


class Clock:
    """The run's one clock: wall time since fit() started plus what earlier runs of a resumed
    training spent, and the part of it spent validating and checkpointing (tokens/s counts the
    training steps only)."""

    def __init__(self, before: float = 0.0):
        self.before, self.start, self.aside = before, time.perf_counter(), 0.0

    def restart(self) -> None:
        self.start, self.aside = time.perf_counter(), 0.0

    def run(self) -> float:
        """Seconds of this run."""
        return time.perf_counter() - self.start

    def elapsed(self) -> float:
        """Seconds of the whole training, earlier runs included (what budgets count)."""
        return self.before + self.run()

    def training(self) -> float:
        """Seconds of this run spent outside validation and checkpoints."""
        return self.run() - self.aside

    def set_aside(self, since: float) -> None:
        self.aside += time.perf_counter() - since


class Trainer:
    def __init__(
        self,
        task: TrainingAdapter,
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

        self.task, self.config, self.device = task, config, device
        self.world = world or World()
        self.hooks = hooks(task)
        # a task that splits its data per process itself (the LM's streams) says so
        self.own_shard = self.world.distributed and bool(self.hooks["shard"](self.world.rank, self.world.size))
        self.checkpoint = checkpoint
        self.checkpoint_meta = checkpoint_meta or {}
        self.task_name = task_name
        self.quiet, self.console = quiet, console
        self.log = log  # nlpkit.tracking.RunLog: lines for batch jobs, TensorBoard, MLflow
        self.model = task.model
        self.optimizer = optimizers.build_optimizer(self.model, config, self.hooks["param_groups"]())
        self.asgd = AveragedSGD(self.model, config.asgd, task.higher_is_better) if config.asgd else None
        self.schedule = Schedule(config.schedule, warmup=config.warmup, min_ratio=config.min_lr_ratio)
        self.clock = Clock()
        # where the run is: restored by load_state_dict
        self.step = self.epoch = self.step_in_epoch = 0
        self.best_value: float | None = None
        self.best_state: dict | None = None
        self.recent: list[dict] = []  # weights at the last average_last validations
        self.result = TrainResult()
        self.clipped, self.norm_sum = 0, 0.0  # steps clipped, and their gradient norms summed
        # this run's counters (tokens/s, the loss shown)
        self.tokens_run, self.lr, self.losses = 0, 0.0, []

    # ----- the loop ----------------------------------------------------------------------------
    def fit(self) -> TrainResult:
        """Train until a stop rule says why not; keep the best (or averaged) model; return the
        run's figures. Ctrl-C stops after the step in progress, with a checkpoint."""
        self._check_epoch_size()
        self.clock.restart()
        self.tokens_run, self.losses = 0, []
        bar = _Bar(self.console) if not self.quiet else None
        steps = self._step_groups(self.epoch, self.step_in_epoch)
        stop = ""
        try:
            self.model.train()
            while not (stop := self.stop_reason()):
                group = next(steps, None)
                if group is None:  # the epoch is over
                    self.epoch, self.step_in_epoch = self.epoch + 1, 0
                    steps = self._step_groups(self.epoch, 0)
                    if not self.config.eval_every:
                        self._validate_and_checkpoint()
                    continue
                self._train_step(group)
                if self.log is not None and self.log.due():
                    self.log.emit(self.record("progress"))
                if self.config.eval_every and self.step % self.config.eval_every == 0:
                    self._validate_and_checkpoint()
                if bar is not None:
                    bar.show(self)
        except KeyboardInterrupt:
            self.result.interrupted, stop = True, "interrupted"
        finally:
            if bar is not None:
                bar.close()
        if not self.result.interrupted and (not self.result.history or self.result.history[-1]["step"] != self.step):
            self._validate()  # the model as it ends, unless that step was just validated
        self._finish_result(stop)
        self.save_checkpoint()
        self._keep_model()
        self.model.eval()  # training is over: what the caller does next is inference or saving
        return self.result

    def stop_reason(self) -> str:
        """Why the run stops before its next step ("" to go on): its epochs, steps or time are
        spent, or early stopping. Rank 0 decides for every process (one clock, one validation)."""
        config = self.config
        reasons = (
            (self.epoch >= config.epoch_limit, f"{config.epoch_limit} epochs"),
            (bool(config.max_steps) and self.step >= config.max_steps, f"{config.max_steps} steps"),
            (bool(config.time_budget) and self.clock.elapsed() >= config.time_budget, "time budget"),
            (self._patience_spent(), "early stopping"),
        )
        first = next((i for i, (hit, _) in enumerate(reasons) if hit), -1)
        first = int(self.world.main_value(first, self.device))
        return reasons[first][1] if first >= 0 else ""

    def _patience_spent(self) -> bool:
        """Whether `patience` validations have passed since the best one (early stopping)."""
        if not self.config.patience or self.best_value is None:
            return False
        return sum(1 for h in self.result.history if h["step"] > self.result.best_step) >= self.config.patience

    def _train_step(self, group: list) -> None:
        """One optimizer step over this process's batches of the step."""
        self.lr = self._set_lr(group)
        self.hooks["before_step"](self._progress())
        loss, n_tokens = self._gradients(group)
        clip = self.config.clip
        norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip if clip else float("inf")))
        self.clipped += bool(clip and norm > clip)
        self.norm_sum += norm if math.isfinite(norm) else 0.0
        self.optimizer.step()
        if self.asgd is not None:
            self.asgd.update()
        self.step += 1
        self.step_in_epoch += 1
        self.losses.append(loss)
        self.tokens_run += n_tokens
        self.result.tokens += n_tokens

    def _gradients(self, group: list) -> tuple[float, int]:
        """Gradients of one optimizer step: the mean over this process's batches, averaged over
        the processes. Returns the step's mean loss and its tokens (all processes)."""
        self.optimizer.zero_grad(set_to_none=True)
        loss_sum, tokens = 0.0, 0
        for batch in group:
            with autocast(self.device, self.config.precision):
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

    # ----- batches, progress and the learning rate ----------------------------------------------
    def _check_epoch_size(self) -> None:
        if self.steps_per_epoch() < 1:
            raise NlpkitError(
                f"the training data make {self.task.steps_per_epoch()} batch(es) an epoch, fewer than one step takes "
                f"({self._batches_per_step()}: {option('accumulate')} x processes); use smaller batches or more data"
            )

    def _batches_per_step(self) -> int:
        """Batches of the epoch's stream one optimizer step takes: `accumulate` on each process."""
        return self.config.accumulate * (1 if self.own_shard else self.world.size)

    def steps_per_epoch(self) -> int:
        return self.task.steps_per_epoch() // self._batches_per_step()

    def _step_groups(self, epoch: int, start: int) -> Iterator[list]:
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
        return min(self.config.max_steps, by_epochs) if self.config.max_steps else by_epochs

    def _progress(self) -> float:
        """0..1: the larger of the steps done and the time spent, against the run's budget."""
        done = self.step / max(1, self._total_steps())
        if self.config.time_budget:
            done = max(done, self.clock.elapsed() / self.config.time_budget)
        return done

    def _set_lr(self, batches: list) -> float:
        lr = self.config.lr * self.schedule.factor(self.step, self._progress()) * self.hooks["lr_scale"](batches)
        for group in self.optimizer.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)
        return lr

    def train_loss(self) -> float:
        """The mean loss of the last 50 steps."""
        tail = self.losses[-50:]
        return round(sum(tail) / len(tail), 5) if tail else float("nan")

    # ----- validation and the kept model -----------------------------------------------------
    def _validate_and_checkpoint(self) -> None:
        self._validate()
        if self.asgd is not None and not self.asgd.active:  # rank 0 validated; all start together
            metric = self.result.history[-1].get(self.task.metric) if self.world.main else None
            if self.world.main_value(metric is not None and self.asgd.due(metric), self.device):
                self.asgd.start()
        since = time.perf_counter()
        self.save_checkpoint()
        self.clock.set_aside(since)

    def _validate(self) -> None:
        """Validate (rank 0, for every process); keep the model if it is the best so far. Once
        NT-ASGD averages, the average is what is validated and kept."""
        if not self.world.main:
            return
        since = time.perf_counter()
        try:
            if self.asgd is None:
                self._validate_model()
            else:
                with self.asgd.swapped():
                    self._validate_model()
        finally:
            self.clock.set_aside(since)

    def _validate_model(self) -> None:
        was_training = self.model.training
        self.model.eval()
        with torch.no_grad(), autocast(self.device, self.config.precision):
            metrics = self.task.evaluate()
        self.model.train(was_training)
        entry = {
            "step": self.step,
            "epoch": round(self.step / max(1, self.steps_per_epoch()), 3),
            "train_loss": self.train_loss(),
            "seconds": round(self.clock.elapsed(), 1),
            **metrics,
        }
        self.result.history.append(entry)
        if self.config.average_last:
            self.recent = [*self.recent, _copy(self.model.state_dict())][-self.config.average_last :]
        improved = bool(metrics) and self._better(metrics[self.task.metric])
        if improved:
            self.best_value = metrics[self.task.metric]
            self.best_state = _copy(self.model.state_dict())
            self.result.best, self.result.best_step = dict(metrics), self.step
        if metrics:
            self.schedule.observe(improved)
        if self.log is not None:
            record = {**self.record("eval"), **metrics}
            if self.best_value is not None:
                record["best"] = {"metric": self.task.metric, "value": self.best_value, "step": self.result.best_step}
            self.log.emit(record)

    def _better(self, value: float) -> bool:
        if self.best_value is None or math.isnan(self.best_value):
            return not math.isnan(value)
        return value > self.best_value if self.task.higher_is_better else value < self.best_value

    def _keep_model(self) -> None:
        """The model the run keeps: the average of the last validations' weights (average_last),
        else the best validated one (the average itself under NT-ASGD)."""
        if self.config.average_last and self.recent and self.world.main:
            self._keep_average()
        elif self.best_state is not None:
            self.model.load_state_dict(self.best_state)

    def _keep_average(self) -> None:
        """Checkpoint averaging: the mean of the weights at the last N validations (integer
        buffers from the last), validated once more; its metrics become the kept model's."""
        from nlpkit.console import warn

        n, wanted = len(self.recent), self.config.average_last
        if n < wanted:
            warn(f"{option('average_last')} {wanted}: the run made {n} validation(s); averaged those {n}")
        self.model.load_state_dict(mean_weights(self.recent))
        self.model.eval()
        with torch.no_grad(), autocast(self.device, self.config.precision):
            metrics = self.task.evaluate()
        if metrics:
            self.result.best, self.result.best_step = dict(metrics), self.step
        self.result.averaged = n

    def _finish_result(self, stop: str) -> None:
        r, steps = self.result, max(1, self.step)
        r.stopped, r.steps = stop, self.step
        r.epochs = round(self.step / max(1, self.steps_per_epoch()), 3)
        r.train_loss = self.train_loss()
        r.seconds = round(self.clock.elapsed(), 2)
        train_time = self.clock.training()
        r.tokens_per_s = round(self.tokens_run / train_time, 1) if train_time else 0.0
        r.clipped_share = round(self.clipped / steps, 4)
        r.mean_grad_norm = round(self.norm_sum / steps, 4)

    def record(self, event: str) -> dict:
        """A record for the run's log (nlpkit.tracking): where the run is, and how fast it goes."""
        elapsed, done, train_time = self.clock.elapsed(), self._progress(), self.clock.training()
        return {
            "event": event,
            "step": self.step,
            "epoch": round(self.step / max(1, self.steps_per_epoch()), 3),
            "elapsed": round(elapsed, 1),
            "tokens_per_s": round(self.tokens_run / train_time, 1) if train_time > 0 else 0.0,
            "train_loss": self.train_loss(),
            "lr": self.lr,
            "eta": round(elapsed * (1 - done) / done, 1) if 0 < done < 1 else (0.0 if done >= 1 else None),
        }

    # ----- state: checkpoints and resume -----------------------------------------------------
    def state_dict(self) -> tuple[dict, dict]:
        """(tensors, JSON state) of everything a resumed run needs to go on as if never stopped:
        weights (current, best, recent, averaged), optimizer, RNG, carried state, position."""
        tensors = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        if self.best_state is not None:
            tensors.update({f"best.{k}": v for k, v in self.best_state.items()})
        for i, weights in enumerate(self.recent):
            tensors.update({f"recent.{i}.{k}": v for k, v in weights.items()})
        opt_tensors, opt_meta = optimizers.to_file(self.optimizer)
        asgd_tensors, asgd_meta = self.asgd.to_file() if self.asgd is not None else ({}, None)
        tensors.update({**opt_tensors, **asgd_tensors, "rng.torch": torch.get_rng_state()})
        tensors.update({f"carry.{k}": v for k, v in self.hooks["carry_state"]().items()})
        state = {
            "step": self.step,
            "epoch": self.epoch,
            "step_in_epoch": self.step_in_epoch,
            "best_value": self.best_value,
            "schedule": asdict(self.schedule),
            "optimizer": opt_meta,
            "result": self.result.to_dict(),
            "elapsed": self.clock.elapsed(),
            "clipped": self.clipped,
            "norm_sum": self.norm_sum,
            "train_config": asdict(self.config),
            "world_size": self.world.size,
            "asgd": asgd_meta,
        }
        return tensors, state

    def load_state_dict(self, tensors: dict, state: dict) -> None:
        """Take back what state_dict() gave (checked against this run's config)."""
        written_by = (state.get("world_size", 1), state.get("train_config", {}).get("accumulate", 1))
        if written_by != (self.world.size, self.config.accumulate):
            raise NlpkitError(
                f"the checkpoint was written by {written_by[0]} process(es) accumulating {written_by[1]} batch(es) "
                "a step; resume it the same way (its data position counts those steps)"
            )
        self.model.load_state_dict(_prefixed(tensors, "model."))
        self.best_state = _prefixed(tensors, "best.") or None
        recent: dict[int, dict] = {}
        for name, value in tensors.items():
            if name.startswith("recent."):
                _, i, key = name.split(".", 2)
                recent.setdefault(int(i), {})[key] = value
        last = self.config.average_last
        self.recent = [recent[i] for i in sorted(recent)][-last:] if last else []
        optimizers.from_file(self.optimizer, tensors, state["optimizer"])
        saved_asgd = state.get("asgd") or {}
        if saved_asgd.get("active") and self.asgd is None:
            raise NlpkitError(
                f"the checkpoint has been averaging weights since a validation stalled ({option('asgd')}); "
                f"resume with the same {option('asgd')} or its averaged weights would be dropped"
            )
        if self.asgd is not None and saved_asgd:
            try:
                self.asgd.from_file(tensors, saved_asgd)
            except (KeyError, TypeError, ValueError) as exc:
                raise NlpkitError(f"the checkpoint's averaged weights cannot be read: {exc}") from None
        torch.set_rng_state(tensors["rng.torch"])
        # the carried state saved is rank 0's own; the other processes start theirs afresh
        self.hooks["restore_carry"](_prefixed(tensors, "carry.") if self.world.main else {})
        self.step, self.epoch, self.step_in_epoch = state["step"], state["epoch"], state["step_in_epoch"]
        self.best_value = state["best_value"]
        self.schedule = Schedule(**state["schedule"])
        self.clock = Clock(before=state["elapsed"])
        self.clipped, self.norm_sum = state["clipped"], state["norm_sum"]
        self.result = TrainResult(**{**state["result"], "interrupted": False, "stopped": ""})

    def save_checkpoint(self) -> None:
        """Write state_dict() to the checkpoint file (rank 0; nlpkit.checkpoints)."""
        if self.checkpoint is not None and self.world.main:
            checkpoints.write(self.checkpoint, self.task_name, self.checkpoint_meta, *self.state_dict())

    def restore(self, saved: modelfile.ModelFile) -> None:
        """Continue from a checkpoint read by modelfile.load: weights, optimizer, schedule, RNG and
        data position."""
        self.load_state_dict(*checkpoints.read(saved))

    def finished(self) -> str:
        """Why a run restored from a checkpoint would stop before its first step ("" if it
        would not), as a sentence."""
        reason = self.stop_reason()
        said = {
            "time budget": f"it has used its time budget of {self.config.time_budget:g} s",
            "early stopping": "early stopping ended it",
        }
        return said.get(reason) or (f"it has run its {reason}" if reason else "")


class _Bar:
    """The progress bar of a run on a terminal (rich): step, loss, last metric, lr, tokens/s."""

    def __init__(self, console):
        self.progress = progress_bar(console)
        self.progress.start()
        self.bar = self.progress.add_task("train", total=1000, info="")

    def show(self, trainer: Trainer) -> None:
        if trainer.step % 5 and trainer.step != 1:
            return
        last = trainer.result.history[-1] if trainer.result.history else {}
        tps = trainer.tokens_run / max(trainer.clock.training(), 1e-9)
        shown = show_progress(trainer.step, trainer.train_loss(), trainer.task.metric, last, trainer.lr, tps)
        self.progress.update(self.bar, completed=min(1000, 1000 * trainer._progress()), info=shown)

    def close(self) -> None:
        self.progress.stop()


def _copy(state: dict) -> dict:
    return {k: v.detach().clone() for k, v in state.items()}


def _prefixed(tensors: dict, prefix: str) -> dict:
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
