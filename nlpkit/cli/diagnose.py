"""`nlpkit diagnose gradients|memory|speed`: measure the recurrent trade-offs on this machine."""

from __future__ import annotations

import json
import math

import typer

from nlpkit import threads
from nlpkit.cli import common as c
from nlpkit.cli.options import command
from nlpkit.diagnostics.options import GradientOptions, MemoryOptions, SpeedOptions, comma_ints
from nlpkit.diagnostics.summary import finite_or_none, sparkline
from nlpkit.plots import line_plot

app = typer.Typer(
    help="Measure gradient flow through time, memory over distance and speed against length.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


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


@command(app, GradientOptions)
def gradients(o: GradientOptions) -> None:
    """Norm of the gradient of the last step's loss with respect to each earlier input."""
    threads.apply(o.threads)
    from nlpkit import console
    from nlpkit.device import resolve_device
    from nlpkit.diagnostics import gradients as gr

    console.silence(o.quiet)
    length, text, clip = o.length, o.text, o.clip
    results, batch = gr.measure(
        models=o.model, encoders=None if o.model else o.encoders, text=text, length=length, batch=o.batch,
        hidden=o.hidden, layers=o.layers, scale_recurrent=o.scale_recurrent, clip=clip, seed=o.seed,
        device=resolve_device(o.device),
    )  # fmt: skip
    if o.plot:
        line_plot(
            o.plot,
            {n: (list(range(len(r["norms"]))), r["norms"]) for n, r in results.items()},
            xlabel="steps back from the loss",
            ylabel="|dL/dx_t|",
            title=f"gradient flow, length {length}",
            log_y=True,
        )
    if o.format == "json":
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


@command(app, MemoryOptions)
def memory(o: MemoryOptions) -> None:
    """Train each encoder for the same budget on synthetic long-range tasks at each distance and
    print held-out accuracy against distance."""
    threads.apply(o.threads)
    from nlpkit.device import resolve_device
    from nlpkit.diagnostics import memory as mem

    tasks = list(mem.TASKS) if o.task == "both" else [o.task]
    kinds, dists, dev, quiet = o.encoders, comma_ints(o.distances, "distances"), resolve_device(o.device), o.quiet
    steps, batch, hidden, layers = o.steps, o.batch, o.hidden, o.layers
    results = []
    total = len(tasks) * len(kinds) * len(dists)
    for t in tasks:
        for kind in kinds:
            for d in dists:
                r = mem.train_and_score(
                    kind, t, d, steps=steps, batch=batch, hidden=hidden, layers=layers, lr=o.lr, seed=o.seed, device=dev
                )
                results.append(r)
                c.info(
                    f"[{len(results)}/{total}] {t} {kind} distance {d}: accuracy {r.accuracy:.3f} ({r.seconds:.1f} s)",
                    quiet,
                )
    if o.plot:
        series = {
            f"{t} {k}": (dists, [r.accuracy for r in results if r.task == t and r.encoder == k])
            for t in tasks
            for k in kinds
        }
        line_plot(
            o.plot,
            series,
            xlabel="distance (steps)",
            ylabel="held-out accuracy",
            title="memory over distance",
            log_y=False,
        )
    if o.format == "json":
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


@command(app, SpeedOptions)
def speed(o: SpeedOptions) -> None:
    """Training and inference tokens/s of each encoder against sequence length."""
    threads.apply(o.threads)
    from nlpkit.device import resolve_device
    from nlpkit.diagnostics import speed as sp

    kinds, lens, dev, quiet = o.encoders, comma_ints(o.lengths, "lengths"), resolve_device(o.device), o.quiet
    batch, hidden, layers = o.batch, o.hidden, o.layers
    results = []
    for kind in kinds:
        for length in lens:
            r = sp.measure(kind, length, batch=batch, hidden=hidden, layers=layers, repeats=o.repeats, device=dev)
            results.append(r)
            c.info(
                f"{kind} length {length}: train {r.train_tokens_per_s:,.0f} tokens/s, inference {r.infer_tokens_per_s:,.0f}",
                quiet,
            )
    if o.plot:
        series = {}
        for kind in kinds:
            series[f"{kind} train"] = (lens, [r.train_tokens_per_s for r in results if r.encoder == kind])
            series[f"{kind} inference"] = (lens, [r.infer_tokens_per_s for r in results if r.encoder == kind])
        line_plot(o.plot, series, xlabel="sequence length", ylabel="tokens/s", title=f"speed on {dev}", log_y=True)
    if o.format == "json":
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
