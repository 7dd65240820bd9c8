"""The parts of a `train` command every task shares: configs, the run, the summary."""

from __future__ import annotations

import json
from pathlib import Path

from nlpkit.cli.common import console, info, parse_budget
from nlpkit.errors import NlpkitError


def train_config(
    *,
    optimizer,
    lr,
    weight_decay,
    schedule,
    warmup,
    clip,
    epochs,
    max_steps,
    time_budget,
    eval_every,
    patience,
    seed,
    momentum=0.0,
    min_lr_ratio=0.0,
):
    from nlpkit.training import TrainConfig

    if not lr:
        lr = 20.0 if optimizer == "sgd" else 2e-3
    if weight_decay is None:
        weight_decay = 0.0 if optimizer == "sgd" else 0.01
    try:
        return TrainConfig(
            optimizer=optimizer,
            lr=lr,
            weight_decay=weight_decay,
            momentum=momentum,
            schedule=schedule,
            warmup=warmup,
            min_lr_ratio=min_lr_ratio,
            clip=clip,
            epochs=epochs,
            max_steps=max_steps,
            time_budget=parse_budget(time_budget),
            eval_every=eval_every,
            patience=patience,
            seed=seed,
        )
    except ValueError as exc:
        raise NlpkitError(str(exc)) from None


def checkpoint_path(out: str) -> Path:
    return Path(out + ".ckpt")


def make_trainer(task, config, device, *, out: str, file_meta, batch_size: int, quiet: bool, resume_from=None):
    """The trainer with its checkpoint next to `out`. The checkpoint carries what the model file
    will (config, tokenizer) plus the batch size, since the data position is counted in batches;
    with `resume_from` (a loaded checkpoint) training continues where it stopped."""
    from nlpkit.training import Trainer

    ckpt_meta = {
        **file_meta.meta,
        "tensors": {k: v for k, v in file_meta.tensors.items() if k.startswith("tokenizer.")},
        "batch_size": batch_size,
    }
    trainer = Trainer(
        task,
        config,
        device,
        checkpoint=checkpoint_path(out),
        checkpoint_meta=ckpt_meta,
        task_name=file_meta.task,
        quiet=quiet,
        console=console(),
    )
    if resume_from is not None:
        trainer.restore(resume_from)
    return trainer


def run(trainer, out: str):
    """Fit, turning Ctrl-C into a resumable checkpoint and a clean exit message."""
    result = trainer.fit()
    if result.interrupted:
        info(
            f"[yellow]interrupted[/yellow] at step {result.steps}; checkpoint written to "
            f"{checkpoint_path(out)}; continue with the same command and --resume",
            quiet=False,
        )
    return result


def render_summary(title: str, rows: list[tuple[str, str]], quiet: bool) -> None:
    if quiet:
        return
    from rich.table import Table

    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(key, value)
    console().print(table)


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
    return rows


def write_metrics(path: str | None, metrics: dict) -> None:
    if not path:
        return
    try:
        Path(path).write_text(json.dumps(metrics, indent=2) + "\n")
    except OSError as exc:
        raise NlpkitError(f"{path}: cannot write metrics ({exc.strerror})") from None
