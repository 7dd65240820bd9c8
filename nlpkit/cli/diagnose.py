"""`nlpkit diagnose gradients|memory|speed|context`: measure the recurrent trade-offs on this machine."""

from __future__ import annotations

import json

import typer

from nlpkit import threads
from nlpkit.cli import common as c
from nlpkit.cli.options import command
from nlpkit.diagnostics.options import ContextOptions, GradientOptions, MemoryOptions, SpeedOptions
from nlpkit.diagnostics.summary import finite_or_none, gradient_table
from nlpkit.option_parsing import comma_numbers
from nlpkit.plots import line_plot

app = typer.Typer(
    help="Measure gradient flow through time, memory over distance, speed against length and a trained LM's use of context.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


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
        series = {n: (list(range(len(r["norms"]))), r["norms"]) for n, r in results.items()}
        line_plot(o.plot, series, xlabel="steps back from the loss", ylabel="|dL/dx_t|", title=f"gradient flow, length {length}", log_y=True)  # fmt: skip
    if o.format == "json":
        print(json.dumps(finite_or_none({"length": length, "batch": batch, "text": text, "results": results})))
        return
    c.table(*gradient_table(results, length, batch, clip))


# ----- memory ---------------------------------------------------------------------------------


@command(app, MemoryOptions)
def memory(o: MemoryOptions) -> None:
    """Train each encoder for the same budget on synthetic long-range tasks at each distance and
    print held-out accuracy against distance."""
    threads.apply(o.threads)
    from nlpkit.diagnostics import memory as mem

    found = mem.sweep(o)
    dists = comma_numbers(o.distances, "distances")
    curves = {(t, k): [r["accuracy"] for r in found["results"] if (r["task"], r["encoder"]) == (t, k)]
              for t in dict.fromkeys(r["task"] for r in found["results"]) for k in o.encoders}  # fmt: skip
    if o.plot:
        series = {f"{t} {k}": (dists, accuracy) for (t, k), accuracy in curves.items()}
        line_plot(o.plot, series, xlabel="distance (steps)", ylabel="held-out accuracy", title="memory over distance", log_y=False)  # fmt: skip
    if o.format == "json":
        print(json.dumps(found))
        return
    for task in dict.fromkeys(t for t, _ in curves):
        rows = [[k] + [f"{a:.3f}" for a in accuracy] for (t, k), accuracy in curves.items() if t == task]
        title = (
            f"{task}: held-out accuracy by distance (chance {1 / mem.classes(task):.3f}; {o.steps} steps x {o.batch})"
        )
        c.table(title, ["encoder"] + [str(d) for d in dists], rows)


# ----- speed ----------------------------------------------------------------------------------


@command(app, SpeedOptions)
def speed(o: SpeedOptions) -> None:
    """Training and inference tokens/s of each encoder against sequence length."""
    threads.apply(o.threads)
    from nlpkit.diagnostics import speed as sp

    found = sp.sweep(o)
    lens = comma_numbers(o.lengths, "lengths")
    rate = {(k, key): [r[key] for r in found["results"] if r["encoder"] == k]
            for k in o.encoders for key in ("train_tokens_per_s", "infer_tokens_per_s")}  # fmt: skip
    if o.plot:
        series = {f"{k} {'train' if key.startswith('train') else 'inference'}": (lens, v) for (k, key), v in rate.items()}  # fmt: skip
        line_plot(o.plot, series, xlabel="sequence length", ylabel="tokens/s", title=f"speed on {found['device']}", log_y=True)  # fmt: skip
    if o.format == "json":
        print(json.dumps(found))
        return
    for what, key in (("training", "train_tokens_per_s"), ("inference", "infer_tokens_per_s")):
        rows = [[k] + [f"{v:,.0f}" for v in rate[k, key]] for k in o.encoders]
        title = f"{what} tokens/s on {found['device']} (batch {o.batch}, width {o.hidden}, {o.layers} layers)"
        c.table(title, ["encoder"] + [str(n) for n in lens], rows)


@command(app, ContextOptions)
def context(o: ContextOptions) -> None:
    """Loss of trained language models at the same positions of a text when each may read only
    its last k tokens: how much of the history a model uses."""
    threads.apply(o.threads)
    from nlpkit.diagnostics import context as cx

    found = cx.sweep(o)
    if o.plot:
        line_plot(o.plot, cx.curves(found), xlabel="context k (tokens)", ylabel="loss (nats/token)", title="loss against context", log_y=False)  # fmt: skip
    if o.format == "json":
        print(json.dumps(found))
        return
    c.table(*cx.table(found))
