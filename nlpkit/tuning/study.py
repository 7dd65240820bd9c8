"""A search with Optuna: the study (in a storage several processes or machines share), each
trial an ordinary training with the trial's options and the trial budget, its validations
handed to Optuna's pruner, and the best trial's recipe written for `train --config`."""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from nlpkit.console import info
from nlpkit.errors import NlpkitError, option
from nlpkit.option_parsing import parse_duration, to_toml

STOP_AFTER_FAILURES = 3  # trials failing in a row that end a search (bad data fails every one)
STARTUP_TRIALS = 4  # random trials (besides the ones started from recipes) before TPE takes over
TENTHS = 10  # a trial reports its validations at tenths of its budget (the pruner's steps)
PER_TRIAL = ("train", "valid", "time_budget", "out", "quiet", "threads")  # a search sets these for every trial


def require():
    try:
        import optuna
    except ImportError:
        raise NlpkitError("nlpkit tune needs optuna: pip install 'nlpkit[tune]'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # nlpkit says what happens, in its own lines
    return optuna


def storage_for(url: str, out: str):
    """An Optuna storage: a journal file (a path, the default beside `out`), or a database URL."""
    optuna = require()
    url = url or str(Path(out).with_suffix(".journal"))
    try:
        if "://" in url:
            return optuna.storages.RDBStorage(url)
        from optuna.storages.journal import JournalFileBackend

        Path(url).parent.mkdir(parents=True, exist_ok=True)
        return optuna.storages.JournalStorage(JournalFileBackend(url))
    except Exception as exc:  # a driver that is missing, a server that does not answer, a file that cannot be made
        raise NlpkitError(f"{option('storage')} {url}: cannot open the study's storage ({_first_line(exc)})") from None


def open_study(storage, name: str, task: str, lower_is_better: bool, seed: int, prune_after: float = 0.2):
    """The study `name` in `storage`, made if new; refused if it belongs to another task."""
    optuna = require()
    study = optuna.create_study(
        storage=storage,
        study_name=name,
        direction="minimize" if lower_is_better else "maximize",
        load_if_exists=True,
        # a few random trials, then TPE: a budgeted search rarely affords Optuna's default ten
        sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=STARTUP_TRIALS),
        pruner=pruner(prune_after),
    )
    owner = study.user_attrs.get("task")
    if owner is None:
        study.set_user_attr("task", task)
    elif owner != task:
        raise NlpkitError(f"{option('study')} {name}: a study of '{owner}' models, not '{task}'; give another name")
    return study


def pruner(prune_after: float):
    """The median pruner, which compares a trial with the earlier ones at the same share of their
    budget (tenths, see Reporter), from `prune_after` of the budget on; none at 1."""
    import math

    optuna = require()
    if prune_after >= 1.0:
        return optuna.pruners.NopPruner()
    return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=math.ceil(round(TENTHS * prune_after, 6)))


class Reporter:
    """A training run's log sink that hands each validation to the trial: the metric at the share
    of the trial budget spent (tenths), and ends the run when the pruner says it is hopeless."""

    def __init__(self, trial, metric: str, budget: float):
        self.trial, self.metric, self.budget = trial, metric, budget
        self.reported: set[int] = set()

    def write(self, record: dict) -> None:
        if record.get("event") != "eval" or not isinstance(record.get(self.metric), int | float):
            return
        step = min(TENTHS, int(TENTHS * record.get("elapsed", 0.0) / self.budget))
        if step in self.reported:
            return
        self.reported.add(step)
        self.trial.report(float(record[self.metric]), step)
        # at the budget's end the trial has cost all it will: it completes with its value, however poor
        if step < TENTHS and self.trial.should_prune():
            raise Pruned(step)

    def close(self, model_path) -> None:
        pass


class Pruned(BaseException):
    """Ends a trial's training from inside its log (not an Exception: the log keeps those)."""


def run(task_name: str, fixed: dict, space: dict, o, threads: int, worker: int = 0) -> dict:
    """Run trials of the study until the budget, the trial count or Ctrl-C ends the search;
    returns the counts of this process's trials."""
    import nlpkit
    from nlpkit.tracking import also

    optuna = require()
    metric, higher = nlpkit.tasks.get(task_name).Options.SELECTED_BY
    study = open_study(storage_for(o.storage, o.out), o.study or f"nlpkit-{task_name}", task_name, not higher,
                       o.sampler_seed + worker, o.prune_after)  # fmt: skip
    if worker == 0:
        start_from(study, o.start_from, space, nlpkit.tasks.get(task_name).Options, fixed)
    trial_budget, deadline = parse_duration(o.trial_budget), time.monotonic() + parse_duration(o.budget)
    counts = {"trials": 0, "pruned": 0, "failed": 0}
    failures, last_error = 0, ""
    folder = Path(o.out).resolve().parent
    # the first trial always fits (the budget is at least a trial's); later ones need a whole trial budget left
    while (not counts["trials"] or time.monotonic() + trial_budget <= deadline) and not _enough(study, o.trials):
        trial = study.ask()
        options = {**fixed, **{n: d.suggest(trial) for n, d in space.items()}}
        shown = ", ".join(f"{n} {_short(v)}" for n, v in options.items() if n in space)
        info(f"trial {trial.number} started ({o.trial_budget}): {shown or 'the fixed options'}")
        counts["trials"] += 1
        with tempfile.TemporaryDirectory(prefix=f".{Path(o.out).name}.trial-", dir=folder) as scratch:
            values = {**options, "time_budget": o.trial_budget, "out": str(Path(scratch) / "m.nlpk"), "quiet": True,
                      "threads": threads}  # fmt: skip
            try:
                with also(Reporter(trial, metric, trial_budget)):
                    model = nlpkit.train(task_name, **values)
            except Pruned as at:
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                counts["pruned"] += 1
                info(f"trial {trial.number} pruned at {100 * at.args[0] // TENTHS}% of its budget")
                failures = 0
                continue
            except KeyboardInterrupt:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                raise
            except (NlpkitError, RuntimeError, MemoryError) as exc:  # bad options, out of memory: the study goes on
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                counts["failed"] += 1
                failures, last_error = failures + 1, _first_line(exc)
                info(f"trial {trial.number} failed: {last_error}")
                if failures >= STOP_AFTER_FAILURES:
                    raise NlpkitError(f"{failures} trials in a row failed; the last: {last_error}") from None
                continue
            if model.result.interrupted:  # Ctrl-C stopped the training: the trial does not count
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                raise KeyboardInterrupt
            value = (model.meta["metrics"].get("valid") or {}).get(metric)
            if value is None:
                raise NlpkitError(f"a trial needs validation data: give {option('valid')} (or a validation share)")
            trial.set_user_attr("recipe", model.meta["recipe"])
            with _keeping(o.best_model):
                if o.best_model and _beats(study, float(value)):
                    keep(values["out"], o.best_model)
                    trial.set_user_attr("model", _here(o.best_model))
                study.tell(trial, float(value))
        failures = 0
        best = study.best_trial
        info(f"trial {trial.number}: {metric} {value:.4g}; best so far {best.value:.4g} (trial {best.number})")
    return counts


def start_from(study, recipes: list[str], space: dict, options_cls, fixed: dict | None = None) -> None:
    """Queue, as the next trials, each recipe's values of the searched options, and for those it
    does not set their defaults (what training with the recipe would use); a recipe already tried
    is not queued again. A value the recipe sets for an option that is neither searched nor fixed
    is said: the trials use the option's default there, so the queued trial is not the recipe."""
    from dataclasses import MISSING

    from nlpkit.option_parsing import read_recipe

    defaults = {f.name: f.default for f in options_cls.declared() if f.default not in (MISSING, None)}
    fixed = fixed or {}
    for path in recipes:
        own = {str(k).replace("-", "_"): v for k, v in read_recipe(path).items()}
        given = {**defaults, **own}
        params = {name: given[name] for name in space if name in given and space[name].contains(given[name])}
        outside = sorted(name for name in space if name in given and name not in params)
        if outside:
            verb = "lies" if len(outside) == 1 else "lie"
            info(f"{path}: {', '.join(outside)} {verb} outside the search space; that trial samples them")
        left = {
            n: v
            for n, v in own.items()
            if n not in space and n not in PER_TRIAL and n in defaults and v != fixed.get(n, defaults[n])
        }
        if left:
            said = ", ".join(f"{n} {_short(v)} (trials: {_short(fixed.get(n, defaults[n]))})" for n, v in left.items())
            info(f"{path}: {said} neither searched nor fixed; fix them on the command line to try the recipe as it is")
        if params:
            study.enqueue_trial(params, skip_if_exists=True)


@contextmanager
def _keeping(path: str | None):
    """With a kept model, one process at a time judges and tells a finished trial (a lock on the
    model's folder), so that two workers ending together cannot leave the worse model behind."""
    if not path:
        yield
        return
    import fcntl

    folder = Path(path).resolve().parent
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _beats(study, value: float) -> bool:
    """Whether `value` is better than every completed trial's (the study's best so far)."""
    done = [t.value for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if not done:
        return True
    return value < min(done) if study.direction.name == "MINIMIZE" else value > max(done)


def keep(model: str, path: str) -> None:
    """Copy a trial's model file to `path`, whole or not at all (the trial's folder is about to go)."""
    import shutil

    from nlpkit.outputs import atomic_open

    try:
        with open(model, "rb") as src, atomic_open(path, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    except OSError as exc:
        raise NlpkitError(f"{option('best_model')} {path}: cannot write the model ({exc.strerror or exc})") from None


def _here(path: str) -> str:
    """Where a kept model lies, machine and all: several machines may share one study."""
    import socket

    return f"{socket.gethostname()}:{Path(path).resolve()}"


def kept_model(study, path: str) -> str | None:
    """`path` when it holds the study's best trial's model, else None, saying why: the best trial
    ran on another machine (or before --best-model was given); `path` then holds the best model
    trained here, if any."""
    best = study.best_trial
    here = _here(path)
    if best.user_attrs.get("model") == here and Path(path).is_file():
        info(f"{path}: the model of trial {best.number}, the best")
        return path
    if best.user_attrs.get("model") == here:
        why = f"was kept at {path}, which is gone"
    else:
        why = "was not kept here (it ran on another machine, or before --best-model was given)"
    mine = [t for t in study.get_trials(deepcopy=False) if t.user_attrs.get("model") == here]
    held = f"; {path} holds trial {mine[-1].number}'s, the best trained here" if mine and Path(path).is_file() else ""
    info(f"the model of the best trial ({best.number}) {why}{held}: train it with `train --config` and the recipe")
    return None


def _enough(study, limit: int) -> bool:
    """Whether the study holds `limit` trials begun (queued ones, not begun yet, do not count)."""
    begun = [t for t in study.trials if t.state.name != "WAITING"]
    return bool(limit) and len(begun) >= limit


def write_best(study, out: str) -> dict | None:
    """The best trial's recipe as TOML at `out` (written whole); None when no trial completed."""
    from nlpkit.outputs import write_atomically

    done = [t for t in study.trials if t.state.name == "COMPLETE" and "recipe" in t.user_attrs]
    if not done:
        return None
    best = study.best_trial
    recipe = best.user_attrs["recipe"]
    header = (
        f"# nlpkit tune: study {study.study_name}, trial {best.number} of {len(study.trials)}, value {best.value:.6g}\n"
    )
    write_atomically(out, (header + to_toml(recipe)).encode("utf-8"))
    return recipe


def trial_rows(study) -> list[dict]:
    """Every trial of the study: number, state, value, seconds, the searched options, and the cost
    curve: `at` (seconds from the study's first trial to this one's end) and `best` (the best value
    of the trials completed by then; a pruned trial's value is its last report, before the cut)."""
    started = [t.datetime_start for t in study.trials if t.datetime_start]
    origin = min(started) if started else None
    lower = study.direction.name == "MINIMIZE"
    ends = sorted((t.datetime_complete, t.value) for t in study.trials if t.state.name == "COMPLETE")
    rows = []
    for t in study.trials:
        seconds = (t.datetime_complete - t.datetime_start).total_seconds() if t.datetime_complete else None
        done = [v for end, v in ends if t.datetime_complete and end <= t.datetime_complete]
        best = (min(done) if lower else max(done)) if done else None
        at = (t.datetime_complete - origin).total_seconds() if t.datetime_complete and origin else None
        rows.append({"trial": t.number, "state": t.state.name.lower(), "value": t.value,
                     "seconds": round(seconds, 1) if seconds is not None else None,
                     "at": round(at, 1) if at is not None else None, "best": best, "params": t.params})  # fmt: skip
    return rows


def load_existing(storage_url: str, out: str, name: str):
    """A study that must exist already (for --show)."""
    optuna = require()
    journal = storage_url or str(Path(out).with_suffix(".journal"))
    if "://" not in journal and not Path(journal).is_file():  # opening it would make an empty one
        raise NlpkitError(f"{option('storage')} {journal}: no study has been stored there")
    storage = storage_for(storage_url, out)
    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        raise NlpkitError(f"{option('study')} {name}: no such study in the storage") from None


def _short(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]


def divided_threads(workers: int) -> int:
    """The CPU threads of each of `workers` trial processes on this machine."""
    from nlpkit import threads

    return max(1, (threads.cores() or os.cpu_count() or 1) // workers)
