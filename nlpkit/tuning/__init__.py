"""Recipes found by a search (`nlpkit tune TASK`, nlpkit.tune): Optuna trials of ordinary
trainings at the budget the recipe is for. options.py declares the search's options, space.py
reads the space off the option declarations, study.py runs the study."""

from __future__ import annotations

import time
from types import SimpleNamespace

from nlpkit.errors import NlpkitError, option

SEARCH = (
    "storage",
    "out",
    "study",
    "sampler_seed",
    "trial_budget",
    "budget",
    "trials",
    "start_from",
    "prune_after",
    "best_model",
)  # what a worker needs


def tune(task: str, recipe: str | None = None, **options) -> dict:
    """Search recipes for `task` (lm | sentiment | ner | translate): the options of `nlpkit tune
    TASK` as keyword arguments; the task's training options given (here or in `recipe`) are
    fixed, the others in the space are searched. Writes the best trial's recipe to `out` and
    returns {"best", "metric", "value", "trials", "pruned", "failed", "seconds", "study", "out"};
    with show=True, {"study", "trials": [...]} of the study, training nothing. With plot=FILE, the
    study's cost curve is drawn there too (nlpkit.plots.search_curve)."""
    from nlpkit import tasks
    from nlpkit.option_parsing import read_recipe
    from nlpkit.outputs import Output, claim
    from nlpkit.tuning import study as st
    from nlpkit.tuning.options import TuneOptions, tune_options
    from nlpkit.tuning.space import declared_space, read_space

    cls = tasks.get(task)
    command = tune_options(cls.Options)
    values = {str(k).replace("-", "_"): v for k, v in (read_recipe(recipe) if recipe is not None else {}).items()}
    values |= {str(k).replace("-", "_"): v for k, v in options.items()}
    o = command.create(values)
    search = {f.name for f in TuneOptions.declared()}
    fixed = {k: getattr(o, k) for k in values if k not in search}
    fixed.setdefault("budget_recipe", "off")  # the searched options start from the plain defaults, as documented
    name = o.study or f"nlpkit-{cls.name}"
    journal = [] if "://" in o.storage else [Output("storage", o.storage or _journal(o.out))]
    claim(o, inputs=[recipe], outputs=journal)
    if o.plot:
        from nlpkit.plots import pyplot

        pyplot(option("plot"))  # a missing matplotlib fails now, not after an hour of trials
    if o.show:
        rows = st.trial_rows(st.load_existing(o.storage, o.out, name))
        _draw(o.plot, rows, name, cls.Options.SELECTED_BY)
        return {"study": name, "trials": rows}
    st.require()
    space = declared_space(cls.Options, fixed, fixed.get("encoder", o.encoder))
    if o.space:
        space = read_space(o.space, cls.Options, space, fixed)
    plain = SimpleNamespace(**{k: getattr(o, k) for k in SEARCH})
    threads = st.divided_threads(o.workers)
    t0 = time.monotonic()
    counts = _run_workers(cls.name, fixed, space, plain, threads, o.workers)
    study = st.open_study(st.storage_for(o.storage, o.out), name, cls.name, not cls.Options.SELECTED_BY[1], 0)
    best = st.write_best(study, o.out)
    if best is None:
        raise NlpkitError(f"no trial of study {name} completed; nothing was written to {o.out}")
    _draw(o.plot, st.trial_rows(study), name, cls.Options.SELECTED_BY)
    return {
        "best": best, "metric": cls.Options.SELECTED_BY[0], "value": study.best_value, **counts,
        "seconds": round(time.monotonic() - t0, 1), "study": name, "out": o.out,
        "model": st.kept_model(study, o.best_model) if o.best_model else None,
    }  # fmt: skip


def _draw(path: str | None, rows: list[dict], study: str, selected_by: tuple[str, bool]) -> None:
    if path:
        from nlpkit.plots import search_curve

        metric, higher_is_better = selected_by
        search_curve(rows, metric, not higher_is_better, study, path)


def _journal(out: str) -> str:
    from pathlib import Path

    return str(Path(out).with_suffix(".journal"))


def _run_workers(task: str, fixed: dict, space: dict, o, threads: int, workers: int) -> dict:
    """This process and `workers - 1` more run trials of the one study; Ctrl-C stops them all,
    keeping the study. Returns the trial counts of all of them."""
    import multiprocessing

    from nlpkit.tuning import study as st

    others, queue = [], None
    if workers > 1:
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no threads or torch state copied
        queue = context.Queue()
        others = [
            context.Process(target=_worker, args=(task, fixed, space, o, threads, k, queue)) for k in range(1, workers)
        ]
    for p in others:
        p.start()
    counts = {"trials": 0, "pruned": 0, "failed": 0}
    try:
        mine = st.run(task, fixed, space, o, threads)
    except KeyboardInterrupt:
        for p in others:
            p.terminate()
        raise NlpkitError(
            f"interrupted: the study is kept in {o.storage or _journal(o.out)}; the same command goes on with it"
        ) from None
    finally:
        for p in others:
            p.join()
    for part in [mine, *(queue.get() for p in others if p.exitcode == 0)]:
        for key in counts:
            counts[key] += part[key]
    return counts


def _worker(task, fixed, space, o, threads, index, queue) -> None:
    from nlpkit.tuning import study as st

    try:
        queue.put(st.run(task, fixed, space, o, threads, worker=index))
    except (NlpkitError, KeyboardInterrupt) as exc:
        from nlpkit.console import info

        info(f"worker {index}: {exc}")
        queue.put({"trials": 0, "pruned": 0, "failed": 0})


__all__ = ["tune"]
