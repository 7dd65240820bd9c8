"""The one training lifecycle every task goes through:

    options -> data -> tokenizer and model (new, or the checkpoint's with resume) -> trainer
    -> fit -> save the model file (metrics, data fingerprint, recipe) -> summary

The task supplies the steps that differ (nlpkit.tasks.contract.Task); everything else is here once.
"""

from __future__ import annotations

import json
from pathlib import Path

from nlpkit import checkpoints
from nlpkit.budget_recipes import AUTO, OFF, describe, named
from nlpkit.console import console, info, table, warn
from nlpkit.errors import NlpkitError, option
from nlpkit.tracking import run_log


def train(task_cls, options, recipe_file: str | None = None):
    """Train a model of `task_cls` with `options` (its Options), write it to options.out and
    return it (a Task, with .result holding the run's TrainResult). `recipe_file`: the recipe the
    options came from, which no output of the run may overwrite."""
    from nlpkit import distributed

    world = distributed.join(options.device)
    try:
        return _train(task_cls, options, world, recipe_file)
    finally:
        world.close()


def _train(task_cls, options, world, recipe_file=None):
    import torch

    from nlpkit import threads
    from nlpkit.device import precision_warning, resolve_device, uses_bf16
    from nlpkit.modelfile import load, save, versions
    from nlpkit.training import TrainConfig, Trainer

    config = TrainConfig.from_options(options)
    check_out(options, recipe_file)
    if world.main:
        remove_orphans(options.out)
    # processes started side by side by torchrun would each see every core free: split them
    # a long run takes every core of its CPU set (not those free at its start): its share of it
    # under torchrun, or what --threads, $NLPKIT_THREADS or $OMP_NUM_THREADS say
    threads.apply(options.threads or (max(1, threads.cores() // world.local_size) if world.distributed else 0), True)
    device = resolve_device(options.device)
    if device.type == "cuda" and world.distributed:
        device = torch.device("cuda", world.local_rank)
    quiet = options.quiet or not world.main  # rank 0 speaks for all
    emulated = precision_warning(device, options.precision)
    if emulated and not quiet:
        warn(emulated)
    torch.manual_seed(options.seed)
    data = task_cls.read_data(options)

    ckpt = checkpoints.path_for(options.out)
    saved = None
    if options.resume:
        if not ckpt.exists():
            raise NlpkitError(
                f"{option('resume')}: no checkpoint {ckpt} (it is written next to {option('out')} while training)"
            )
        saved = load(ckpt, task=task_cls.file_task)
        if not isinstance(saved.meta.get("checkpoint"), dict):
            raise NlpkitError(f"{ckpt}: holds no training state to resume from (a model file, not a checkpoint?)")
        check_same_recipe(saved.meta.get("recipe"), options.recipe(), ckpt)
        task = task_cls.resume(saved, options)
        info(f"resuming from {ckpt} at step {saved.meta['checkpoint']['step']:,}", quiet)
    else:
        task = task_cls.build(options, data)
    task.model.to(device)
    task.device = device
    recipe = options.recipe()
    file_meta = task.to_file({**task.extra_meta(), "recipe": recipe})
    if world.distributed:
        described = json.dumps(file_meta.meta, sort_keys=True, default=str).encode()
        tokenizer = b"".join(
            t.numpy().tobytes() for k, t in sorted(file_meta.tensors.items()) if k.startswith("tokenizer.")
        )
        world.same_everywhere(task.model, described + tokenizer, device)
        torch.manual_seed(options.seed + world.rank)  # same weights, each process its own dropout
    adapter = task.training(data, options)
    log = run_log(options, recipe, quiet, console().is_terminal, world.main)

    trainer = Trainer(
        adapter,
        config,
        device,
        checkpoint=ckpt,
        checkpoint_meta={
            **file_meta.meta,
            "tensors": {k: v for k, v in file_meta.tensors.items() if k.startswith("tokenizer.")},
            "batch_size": options.batch,  # the data position is counted in batches
        },
        task_name=task_cls.file_task,
        quiet=quiet or (log is not None and log.lines),  # the log's lines replace the bar
        console=console(),
        world=world,
        log=log,
    )
    if saved is not None:
        trainer.restore(saved)
        done = trainer.finished()
        if done:  # fit() would take no step and write a model with no training loss over the finished one
            raise NlpkitError(
                f"{option('resume')}: the run in {ckpt} has finished ({done}) and {options.out} holds its model; "
                f"to train on, raise {option('max_steps')}, {option('epochs')} or {option('time_budget')}"
            )
    processes = f", {world.size} processes ({world.backend})" if world.distributed else ""
    arithmetic = " (bf16 autocast)" if uses_bf16(device, options.precision) else ""
    what = task.describe(data, adapter) + f", device {device}{arithmetic}, {torch.get_num_threads()} threads{processes}"
    info(f"{what}; the model goes to {options.out}", quiet or options.log_format == "json")
    if options.budget_recipe not in (AUTO, OFF):
        info(describe(named(task_cls.name, options.budget_recipe)), quiet or options.log_format == "json")
    if log is not None:
        log.emit({"event": "start", "what": what, "model": options.out, "recipe": recipe, "step": trainer.step})
    try:
        result = trainer.fit()
    except BaseException:
        if log is not None:
            log.close(None)
        raise
    if not world.main:  # rank 0 writes the model file (and is the only one that logs)
        task.result = result
        return task
    if result.interrupted and options.log_format != "json":  # in JSON, the end record says so
        info(
            f"[yellow]interrupted[/yellow] at step {result.steps}; checkpoint written to {ckpt}; "
            f"continue with the same command and {option('resume')}",
            quiet=False,
        )

    task.finish_embeddings()
    metrics = {"train": result.to_dict()}
    if result.best:
        metrics["valid"] = result.best
        metrics["selected_by"] = adapter.metric  # what `nlpkit plot` draws by default
    task.meta = {
        **task.extra_meta(),
        "data": data.fingerprint,
        "metrics": metrics,
        "training": {**vars(config), options.BATCH: options.batch, "world_size": world.size},
        "recipe": recipe,
        "versions": versions(),
    }
    task.result = result
    save(options.out, task.to_file(task.meta))
    if not options.quiet and options.log_format != "json":  # JSON lines only: the end record holds the figures
        table(task.title, [*result_rows(result), *task.summary(result), ("model file", options.out)])
    if options.metrics_out:
        _write_metrics(options.metrics_out, metrics)
    if log is not None:
        log.emit(
            {
                "event": "end",
                "steps": result.steps,
                "elapsed": result.seconds,
                "model": options.out,
                "stopped": result.stopped or "completed",
                "interrupted": result.interrupted,
                **({"checkpoint": str(ckpt)} if result.interrupted else {}),
                **result.best,
            }
        )
        log.close(options.out)
    return task


def check_out(options, recipe_file: str | None = None) -> None:
    """Refuse, before any training, an output the run must not write (nlpkit.outputs.claim): the
    model file, its checkpoint, the metrics file and the TensorBoard folder, against every path
    the options name, the recipe and each other."""
    from nlpkit.outputs import Output, claim

    claim(options, inputs=[recipe_file], outputs=[Output("out", str(checkpoints.path_for(options.out)))])


# What a resumed run may change: how long it goes on and how often it validates. Anything else
# (data, model, optimizer, seed) would not apply to the weights and state the checkpoint holds,
# while the model file would record it. (--asgd has its own rule, in nlpkit.averaging.)
# precision changes the arithmetic, not the model: a run may resume in another
RESUMABLE = ("epochs", "max_steps", "time_budget", "patience", "eval_every", "asgd", "precision")


def check_same_recipe(saved, given: dict, ckpt) -> None:
    """Refuse resuming `ckpt` (whose run recorded the recipe `saved`) with other options than
    RESUMABLE changed, naming them."""
    if not isinstance(saved, dict):  # a checkpoint from before recipes were recorded
        return
    changed = [k for k in sorted(set(saved) | set(given)) if k not in RESUMABLE and saved.get(k) != given.get(k)]
    if changed:
        said = "; ".join(f"{option(k)} {saved.get(k)!r} there, {given.get(k)!r} now" for k in changed[:3])
        more = f" (and {len(changed) - 3} more)" if len(changed) > 3 else ""
        raise NlpkitError(
            f"{option('resume')}: {ckpt} was trained with other options: {said}{more}; a resumed run may change "
            f"only {', '.join(option(k) for k in RESUMABLE[:5])} (or train anew without {option('resume')})"
        )


def remove_orphans(out: str) -> None:
    """Delete the temporary files an earlier run left when it was killed while writing this
    model file or its checkpoint (modelfile.save writes `.NAME.XXXXXXXX` and renames it)."""
    import re

    path = Path(out)
    pattern = re.compile(re.escape(f".{path.name}.") + r"(ckpt\.)?[a-z0-9_]{8}")
    for orphan in path.parent.glob(f".{path.name}.*"):
        if pattern.fullmatch(orphan.name) and orphan.is_file():
            orphan.unlink(missing_ok=True)


def result_rows(result) -> list[tuple[str, str]]:
    rows = [
        ("steps", f"{result.steps:,} ({result.epochs:g} epochs)"),
        ("stopped by", result.stopped or "completed"),
        ("time", f"{result.seconds:,.1f} s"),
        ("throughput", f"{result.tokens_per_s:,.0f} tokens/s (training steps only)"),
        ("train loss", f"{result.train_loss:.4f}"),
        ("clipped steps", f"{100 * result.clipped_share:.1f}% (mean gradient norm {result.mean_grad_norm:.3g})"),
    ]
    for key, value in result.best.items():
        rows.append((f"best {key}", f"{value:,.4f}" if isinstance(value, float) else str(value)))
    if result.best:
        rows.append(("best at step", f"{result.best_step:,}"))
    if result.averaged:
        rows.append(("kept model", f"the average of the last {result.averaged} validations' weights"))
    return rows


def _write_metrics(path: str, metrics: dict) -> None:
    from nlpkit.outputs import write_atomically

    try:
        write_atomically(path, (json.dumps(metrics, indent=2) + "\n").encode("utf-8"))
    except OSError as exc:
        raise NlpkitError(f"{path}: cannot write metrics ({exc.strerror})") from None
