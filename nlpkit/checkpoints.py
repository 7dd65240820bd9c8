"""A training run's checkpoint: everything `--resume` needs to go on as if never stopped, in a
model file (tensors and JSON, no pickles) beside the model being trained."""

from __future__ import annotations

from dataclasses import asdict

import torch

from nlpkit import modelfile, optimizers
from nlpkit.errors import NlpkitError, option
from nlpkit.schedule import Schedule


def write(trainer) -> None:
    """Write the trainer's whole state (weights, best and averaged weights, optimizer, RNG,
    carried state, progress) to its checkpoint file; rank 0 only."""
    if trainer.checkpoint is None or not trainer.world.main:
        return
    tensors = {f"model.{k}": v for k, v in trainer.model.state_dict().items()}
    if trainer.best_state is not None:
        tensors.update({f"best.{k}": v for k, v in trainer.best_state.items()})
    for i, weights in enumerate(trainer.recent):
        tensors.update({f"recent.{i}.{k}": v for k, v in weights.items()})
    opt_tensors, opt_meta = optimizers.to_file(trainer.optimizer)
    tensors.update(opt_tensors)
    asgd_tensors, asgd_meta = trainer.asgd.to_file() if trainer.asgd is not None else ({}, None)
    tensors.update(asgd_tensors)
    tensors["rng.torch"] = torch.get_rng_state()
    carry = getattr(trainer.task, "carry_state", None)
    if carry is not None:
        tensors.update({f"carry.{k}": v for k, v in carry().items()})
    trainer_state = {
        "step": trainer.step,
        "epoch": trainer.epoch,
        "step_in_epoch": trainer.step_in_epoch,
        "best_value": trainer.best_value,
        "schedule": asdict(trainer.schedule),
        "optimizer": opt_meta,
        "result": trainer.result.to_dict(),
        "elapsed": trainer.elapsed_before + trainer._run_elapsed(),
        "clipped": trainer._clipped,
        "norm_sum": trainer._norm_sum,
        "train_config": asdict(trainer.config),
        "world_size": trainer.world.size,
        "asgd": asgd_meta,
    }
    extra = trainer.checkpoint_meta.get("tensors", {})
    meta = {k: v for k, v in trainer.checkpoint_meta.items() if k != "tensors"}
    modelfile.save(
        trainer.checkpoint,
        modelfile.ModelFile(trainer.task_name, {**meta, "checkpoint": trainer_state}, {**tensors, **extra}),
    )


def read(trainer, saved: modelfile.ModelFile) -> None:
    """Continue from a checkpoint: weights, optimizer, schedule, RNG and data position."""
    state = saved.meta.get("checkpoint")
    if state is None:
        raise NlpkitError("the checkpoint has no training state to resume from")
    written_by = (state.get("world_size", 1), state.get("train_config", {}).get("accumulate", 1))
    if written_by != (trainer.world.size, trainer.config.accumulate):
        raise NlpkitError(
            f"the checkpoint was written by {written_by[0]} process(es) accumulating {written_by[1]} batch(es) a step; "
            f"resume it the same way (its data position counts those steps)"
        )
    tensors = saved.tensors
    trainer.model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    best = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}
    trainer.best_state = best or None
    recent: dict[int, dict] = {}
    for name, value in tensors.items():
        if name.startswith("recent."):
            _, i, key = name.split(".", 2)
            recent.setdefault(int(i), {})[key] = value
    trainer.recent = (
        [recent[i] for i in sorted(recent)][-trainer.config.average_last :] if trainer.config.average_last else []
    )
    optimizers.from_file(trainer.optimizer, tensors, state["optimizer"])
    saved_asgd = state.get("asgd") or {}
    if saved_asgd.get("active") and trainer.asgd is None:
        raise NlpkitError(
            f"the checkpoint has been averaging weights since a validation stalled ({option('asgd')}); "
            f"resume with the same {option('asgd')} or its averaged weights would be dropped"
        )
    if trainer.asgd is not None and saved_asgd:
        try:
            trainer.asgd.from_file(tensors, saved_asgd)
        except (KeyError, TypeError, ValueError) as exc:
            raise NlpkitError(f"the checkpoint's averaged weights cannot be read: {exc}") from None
    torch.set_rng_state(tensors["rng.torch"])
    restore_carry = getattr(trainer.task, "restore_carry", None)
    if restore_carry is not None:  # the carried state saved is rank 0's own
        carry = {k[6:]: v for k, v in tensors.items() if k.startswith("carry.")} if trainer.world.main else {}
        restore_carry(carry)
    trainer.step, trainer.epoch, trainer.step_in_epoch = state["step"], state["epoch"], state["step_in_epoch"]
    trainer.best_value = state["best_value"]
    trainer.schedule = Schedule(**state["schedule"])
    trainer.elapsed_before = state["elapsed"]
    trainer._clipped, trainer._norm_sum = state["clipped"], state["norm_sum"]
    trainer.result = type(trainer.result)(**state["result"])
    trainer.result.interrupted = False
    trainer.result.stopped = ""
