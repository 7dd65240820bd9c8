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


def report(task: str, recipe, given: dict) -> None:
    """Run nlpkit.tune with what the user gave and print its result (or, with --show, the trials)."""
    import nlpkit

    found = nlpkit.tune(task, recipe=recipe, **given)
    if given.get("format") == "json":
        c.print_json(found if "best" in found else found["trials"], indent=2)  # a search's result, or --show's trials
    elif "best" not in found:  # --show
        rows, names = found["trials"], sorted({k for r in found["trials"] for k in r["params"]})
        cells = [[_cell(r[k]) for k in ("trial", "state", "value", "seconds", "at", "best")]
                 + [_cell(r["params"].get(n)) for n in names] for r in rows]  # fmt: skip
        c.table(f"study {found['study']}", ["trial", "state", "value", "seconds", "at s", "best so far", *names], cells)
        if given.get("plot"):
            c.info(f"{given['plot']}: the cost curve of {len(rows)} trial(s)")
    else:
        trials = f"{found['trials']} ({found['pruned']} pruned, {found['failed']} failed)"
        rows = [["best " + found["metric"], _cell(found["value"])], ["recipe", found["out"]], ["trials", trials],
                ["wall clock", f"{found['seconds']:,.0f} s"], ["study", found["study"]]]  # fmt: skip
        if found.get("model"):
            rows.insert(2, ["model", found["model"]])
        if given.get("plot"):
            rows.append(["cost curve", given["plot"]])
        c.table(f"nlpkit tune {task}", None, rows)


def _cell(value) -> str:
    return "" if value is None else (f"{value:.4g}" if isinstance(value, float) else str(value))


def _runner(task: str):
    return lambda recipe, **given: report(task, recipe, given)


for _task, _options in (("lm", LMOptions), ("sentiment", SentimentOptions), ("ner", NEROptions),
                        ("translate", TranslateOptions)):  # fmt: skip
    recipe_command(app, _task, tune_options(_options), HELP.format(task=_task), _runner(_task))
