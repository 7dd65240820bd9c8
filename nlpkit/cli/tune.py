"""`nlpkit tune TASK DATA...`: search a task's recipe for a budget with Optuna (nlpkit.tune)."""

from __future__ import annotations

import typer

from nlpkit.cli import common as c
from nlpkit.cli.options import recipe_command
from nlpkit.tasks.lm.options import LMOptions
from nlpkit.tasks.ner.options import NEROptions
from nlpkit.tasks.sentiment.options import SentimentOptions
from nlpkit.tasks.translate.options import TranslateOptions
from nlpkit.tuning.options import tune_options

app = typer.Typer(
    help="Search a task's training recipe for a time budget (Optuna; needs: pip install 'nlpkit[tune]').",
    no_args_is_help=True,
    rich_markup_mode=None,
)

HELP = (
    "Search {task}'s recipe: each trial trains with its options for --trial-budget, Optuna chooses the next "
    "and prunes hopeless ones; the best trial's recipe goes to --out for `nlpkit {task} train --config`. "
    "Training options given here (or in --config) are fixed; the others with a declared range are searched "
    "(narrow or widen them with --space). The study lives in --storage and goes on where it stopped."
)


def report(recipe, **given) -> None:
    """Run nlpkit.tune with what the user gave and print its result (or, with --show, the trials)."""
    import nlpkit

    task = given.pop("_task")
    found = nlpkit.tune(task, recipe=recipe, **given)
    fmt = given.get("format", "table")
    if "best" not in found:  # --show
        rows = found["trials"]
        if fmt == "json":
            c.print_json(rows, indent=2)
            return
        names = sorted({k for r in rows for k in r["params"]})
        cells = [[str(r["trial"]), r["state"], "" if r["value"] is None else f"{r['value']:.4g}",
                  "" if r["seconds"] is None else f"{r['seconds']:.0f}",
                  *(_cell(r["params"].get(n)) for n in names)] for r in rows]  # fmt: skip
        c.table(f"study {found['study']}", ["trial", "state", "value", "seconds", *names], cells)
        return
    if fmt == "json":
        c.print_json(found, indent=2)
        return
    rows = [["best " + found["metric"], f"{found['value']:.4g}"], ["recipe", found["out"]],
            ["trials", f"{found['trials']} ({found['pruned']} pruned, {found['failed']} failed)"],
            ["wall clock", f"{found['seconds']:,.0f} s"], ["study", found["study"]]]  # fmt: skip
    c.table(f"nlpkit tune {task}", None, rows)


def _cell(value) -> str:
    return "" if value is None else (f"{value:.3g}" if isinstance(value, float) else str(value))


for _task, _options in (("lm", LMOptions), ("sentiment", SentimentOptions), ("ner", NEROptions),
                        ("translate", TranslateOptions)):  # fmt: skip
    recipe_command(
        app, _task, tune_options(_options), HELP.format(task=_task),
        lambda recipe, _task=_task, **given: report(recipe, _task=_task, **given),
    )  # fmt: skip
