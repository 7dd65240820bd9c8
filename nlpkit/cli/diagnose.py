"""`nlpkit diagnose gradients|memory|speed`: measure the recurrent trade-offs on this machine."""

from __future__ import annotations

import json
import math
from enum import Enum
from typing import Annotated

import typer

from nlpkit import threads
from nlpkit.cli import common as c
from nlpkit.diagnostics.summary import finite_or_none, sparkline
from nlpkit.encoders import ENCODER_KINDS
from nlpkit.plots import line_plot

app = typer.Typer(
    help="Measure gradient flow through time, memory over distance and speed against length.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

ALL_ENCODERS = ",".join(ENCODER_KINDS)


class Format(str, Enum):
    table = "table"
    json = "json"


FormatOpt = Annotated[Format, typer.Option("--format", help="table (on stdout) | json.")]
EncodersOpt = Annotated[str, typer.Option("--encoder", help=f"Comma list of encoders: {', '.join(ENCODER_KINDS)}.")]
PlotOpt = Annotated[
    str | None, typer.Option("--plot", metavar="FILE.png", help="Also draw the curves (needs matplotlib).")
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed.")]


def parse_encoders(text: str) -> list[str]:
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    bad = [k for k in kinds if k not in ENCODER_KINDS]
    if bad or not kinds:
        raise c.fail(
            f"--encoder: unknown encoder {','.join(bad) or '(none)'}; use a comma list of {', '.join(ENCODER_KINDS)}"
        )
    return kinds


def parse_ints(text: str, option: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise c.fail(f"{option}: expected a comma list of whole numbers, got {text!r}") from None
    if not values or min(values) < 1:
        raise c.fail(f"{option}: expected positive whole numbers, got {text!r}")
    return values


def print_table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for i, name in enumerate(columns):
        table.add_column(name, justify="left" if i == 0 else "right", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=240)  # files and pipes get whole rows, not ellipses
    console.print(table)


# ----- gradients ------------------------------------------------------------------------------


@app.command()
def gradients(
    encoder: EncodersOpt = ALL_ENCODERS,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", help="A language model file: measured trained and re-initialised (repeatable)."),
    ] = None,
    text: Annotated[
        str | None, typer.Option("--text", help="Read the sequences from this text (default: random tokens).")
    ] = None,
    length: Annotated[int, typer.Option("--length", min=2, help="Steps from the first input to the loss.")] = 100,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Sequences averaged over.")] = 16,
    hidden: Annotated[int, typer.Option("--hidden", min=2, help="Width of the fresh encoders.")] = 128,
    layers: Annotated[int, typer.Option("--layers", min=1, help="Layers of the fresh encoders.")] = 1,
    scale_recurrent: Annotated[
        float,
        typer.Option(
            "--scale-recurrent",
            min=0.0,
            help="Also measure each fresh recurrent encoder with its hidden-to-hidden weights times this (the exploding case; 0 = skip).",
        ),
    ] = 3.0,
    clip: Annotated[
        float,
        typer.Option("--clip", min=0.0, help="Show what clipping the global gradient norm to this does to the update."),
    ] = 1.0,
    fmt: FormatOpt = Format.table,
    plot: PlotOpt = None,
    seed: SeedOpt = 0,
    device: c.DeviceOpt = c.Device.auto,
    quiet: c.QuietOpt = False,
    threads_n: c.ThreadsOpt = 0,
) -> None:
    """Norm of the gradient of the last step's loss with respect to each earlier input."""
    threads.apply(threads_n)
    from nlpkit import console
    from nlpkit.device import resolve_device
    from nlpkit.diagnostics import gradients as gr

    console.silence(quiet)
    kinds = None if model else parse_encoders(encoder)
    results, batch = gr.measure(
        models=model or [], encoders=kinds, text=text, length=length, batch=batch, hidden=hidden, layers=layers,
        scale_recurrent=scale_recurrent, clip=clip, seed=seed, device=resolve_device(device.value),
    )  # fmt: skip
    if plot:
        line_plot(
            plot,
            {n: (list(range(len(r["norms"]))), r["norms"]) for n, r in results.items()},
            xlabel="steps back from the loss",
            ylabel="|dL/dx_t|",
            title=f"gradient flow, length {length}",
            log_y=True,
        )
    if fmt is Format.json:
        print(json.dumps(finite_or_none({"length": length, "batch": batch, "text": text, "results": results})))
        return
    marks = [d for d in (0, 1, 5, 10, 25, 50, 100, 200, 500, 1000) if d < length]
    rows = []
    for name, r in results.items():
        rows.append(
            [name]
            + [f"{r['norms'][d]:.2e}" for d in marks]
            + [
                f"{r['decay_per_step']:.3f}",
                sparkline(r["norms"]),
                f"{r['param_grad_norm']:.3g}",
                "overflow" if math.isnan(r["update_scale_after_clip"]) else f"{r['update_scale_after_clip']:.3g}",
            ]
        )
    columns = ["model"] + [f"t-{d}" for d in marks] + ["per step", "0 ... back", "|grad|", f"clip {clip:g}: x"]
    print_table(
        f"|dL/dx| of the loss at the last step, {length} steps, mean of {batch} sequences "
        "(per step: fitted change per step back; <1 vanishing, >1 exploding)",
        columns,
        rows,
    )


# ----- memory ---------------------------------------------------------------------------------


@app.command()
def memory(
    task: Annotated[str, typer.Option("--task", help="recall | agreement | both.")] = "both",
    encoder: EncodersOpt = ALL_ENCODERS,
    distances: Annotated[str, typer.Option("--distances", help="Comma list of distances.")] = "5,10,20,50,100,200",
    steps: Annotated[int, typer.Option("--steps", min=1, help="Training steps per encoder and distance.")] = 300,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Sequences per step.")] = 32,
    hidden: Annotated[int, typer.Option("--hidden", min=4, help="Encoder width.")] = 64,
    layers: Annotated[int, typer.Option("--layers", min=1, help="Encoder layers.")] = 1,
    lr: Annotated[float, typer.Option("--lr", min=0.0, help="Peak learning rate (AdamW).")] = 3e-3,
    fmt: FormatOpt = Format.table,
    plot: PlotOpt = None,
    seed: SeedOpt = 0,
    device: c.DeviceOpt = c.Device.auto,
    quiet: c.QuietOpt = False,
    threads_n: c.ThreadsOpt = 0,
) -> None:
    """Train each encoder for the same budget on synthetic long-range tasks at each distance and
    print held-out accuracy against distance."""
    threads.apply(threads_n)
    from nlpkit.device import resolve_device
    from nlpkit.diagnostics import memory as mem

    tasks = list(mem.TASKS) if task == "both" else [task]
    if any(t not in mem.TASKS for t in tasks):
        raise c.fail(f"--task: unknown task {task!r}; use recall, agreement or both")
    kinds = parse_encoders(encoder)
    dists = parse_ints(distances, "--distances")
    dev = resolve_device(device.value)
    results = []
    total = len(tasks) * len(kinds) * len(dists)
    for t in tasks:
        for kind in kinds:
            for d in dists:
                r = mem.train_and_score(
                    kind, t, d, steps=steps, batch=batch, hidden=hidden, layers=layers, lr=lr, seed=seed, device=dev
                )
                results.append(r)
                c.info(
                    f"[{len(results)}/{total}] {t} {kind} distance {d}: accuracy {r.accuracy:.3f} ({r.seconds:.1f} s)",
                    quiet,
                )
    if plot:
        series = {
            f"{t} {k}": (dists, [r.accuracy for r in results if r.task == t and r.encoder == k])
            for t in tasks
            for k in kinds
        }
        line_plot(
            plot,
            series,
            xlabel="distance (steps)",
            ylabel="held-out accuracy",
            title="memory over distance",
            log_y=False,
        )
    if fmt is Format.json:
        print(
            json.dumps(
                {
                    "steps": steps,
                    "batch": batch,
                    "hidden": hidden,
                    "layers": layers,
                    "results": [vars(r) for r in results],
                }
            )
        )
        return
    for t in tasks:
        chance = 1 / mem.classes(t)
        rows = [[k] + [f"{r.accuracy:.3f}" for r in results if r.task == t and r.encoder == k] for k in kinds]
        print_table(
            f"{t}: held-out accuracy by distance (chance {chance:.3f}; {steps} steps x {batch})",
            ["encoder"] + [str(d) for d in dists],
            rows,
        )


# ----- speed ----------------------------------------------------------------------------------


@app.command()
def speed(
    encoder: EncodersOpt = ALL_ENCODERS,
    lengths: Annotated[str, typer.Option("--lengths", help="Comma list of sequence lengths.")] = "16,64,256,1024",
    batch: Annotated[int, typer.Option("--batch", min=1, help="Sequences per batch.")] = 16,
    hidden: Annotated[int, typer.Option("--hidden", min=4, help="Encoder width.")] = 256,
    layers: Annotated[int, typer.Option("--layers", min=1, help="Encoder layers.")] = 2,
    repeats: Annotated[int, typer.Option("--repeats", min=1, help="Timed repetitions (after one warm-up).")] = 3,
    fmt: FormatOpt = Format.table,
    plot: PlotOpt = None,
    device: c.DeviceOpt = c.Device.auto,
    quiet: c.QuietOpt = False,
    threads_n: c.ThreadsOpt = 0,
) -> None:
    """Training and inference tokens/s of each encoder against sequence length."""
    threads.apply(threads_n)
    from nlpkit.device import resolve_device
    from nlpkit.diagnostics import speed as sp

    kinds = parse_encoders(encoder)
    lens = parse_ints(lengths, "--lengths")
    dev = resolve_device(device.value)
    results = []
    for kind in kinds:
        for length in lens:
            r = sp.measure(kind, length, batch=batch, hidden=hidden, layers=layers, repeats=repeats, device=dev)
            results.append(r)
            c.info(
                f"{kind} length {length}: train {r.train_tokens_per_s:,.0f} tokens/s, inference {r.infer_tokens_per_s:,.0f}",
                quiet,
            )
    if plot:
        series = {}
        for kind in kinds:
            series[f"{kind} train"] = (lens, [r.train_tokens_per_s for r in results if r.encoder == kind])
            series[f"{kind} inference"] = (lens, [r.infer_tokens_per_s for r in results if r.encoder == kind])
        line_plot(plot, series, xlabel="sequence length", ylabel="tokens/s", title=f"speed on {dev}", log_y=True)
    if fmt is Format.json:
        print(
            json.dumps(
                {
                    "device": str(dev),
                    "batch": batch,
                    "hidden": hidden,
                    "layers": layers,
                    "results": [vars(r) for r in results],
                }
            )
        )
        return
    for what, key in (("training", "train_tokens_per_s"), ("inference", "infer_tokens_per_s")):
        rows = [[k] + [f"{getattr(r, key):,.0f}" for r in results if r.encoder == k] for k in kinds]
        print_table(
            f"{what} tokens/s on {dev} (batch {batch}, width {hidden}, {layers} layers)",
            ["encoder"] + [str(n) for n in lens],
            rows,
        )
