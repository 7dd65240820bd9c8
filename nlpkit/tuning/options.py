"""The options of `nlpkit tune TASK` and nlpkit.tune(), declared once (flags are generated from
these). Torch- and optuna-free: the CLI builds its flags from them at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from nlpkit.errors import option
from nlpkit.options import Options, TableOutput, opt, reuse


@dataclass
class TuneOptions(Options):
    """How a search runs: its budgets, its space, where its study lives."""

    trial_budget: str = opt(
        "2m", "Each trial's training time (the time budget the recipe found is for), e.g. 90s, 2m.", panel="Tuning"
    )
    budget: str = opt("1h", "The search's wall clock: trials start while a whole trial budget is left.", panel="Tuning")
    trials: int = opt(
        0, "At most this many trials in the study, all workers together (0: no limit).", panel="Tuning", min=0
    )
    space: str | None = opt(
        None,
        "A TOML file that narrows or widens the search space: [option] tables of low/high (log = true) or "
        "choices (docs/tuning.md).",
        panel="Tuning",
        metavar="SPACE.toml",
    )
    start_from: list[str] = opt(
        list,
        "Recipe files (TOML, e.g. from `nlpkit info MODEL --recipe`) whose values of the searched options are "
        "the study's first trials, so the search starts from what is known to work.",
        panel="Tuning",
        metavar="RECIPE.toml",
    )
    prune_after: float = opt(
        0.2,
        "No trial is pruned before it has spent this share of its budget; later, one worse than the median of the "
        "earlier trials at the same share is stopped. A schedule that anneals to the budget ranks trials late: "
        "raise it (0.5) when in doubt; 1 never prunes.",
        panel="Tuning",
        min=0.0,
        max=1.0,
    )
    storage: str = opt(
        "",
        "Where the study lives: a journal file (default: OUT with .journal), sqlite:///FILE.db, or a "
        "PostgreSQL/MySQL URL shared by several machines.",
        panel="Tuning",
        metavar="URL",
    )
    study: str = opt("", "The study's name (default: nlpkit-TASK); an existing study goes on.", panel="Tuning")
    workers: int = opt(
        1, "Trial processes on this machine; the cores are divided between them.", panel="Tuning", min=1, max=64
    )
    sampler_seed: int = opt(
        0, "The sampler's seed (a trial's own training seed is `seed`).", panel="Tuning", min=0, max=2**32 - 1
    )
    out: str = opt("best.toml", "The best trial's recipe, for `train --config`.", flags=("--out", "-o"), writes="file")
    best_model: str | None = opt(
        None,
        "Also keep the best trial's model here: it trained with the recipe at the trial budget already, so a "
        "search at the final budget needs no second training. Kept when the trial ran on this machine.",
        panel="Tuning",
        metavar="MODEL.nlpk",
        writes="file",
    )
    show: bool = opt(
        False, "Print the study's trials and stop (nothing is trained).", flags=("--show",), panel="Tuning"
    )
    format: str = reuse(TableOutput, "format")
    plot: str | None = opt(
        None,
        "Also draw the study's cost curve (each trial's value when it ended, the best so far) to this figure "
        "(.png, .svg or .pdf; needs matplotlib), after the search or with --show.",
        panel="Tuning",
        metavar="FILE.png",
        writes="file",
    )

    def check(self) -> None:
        super().check()  # in a task's tune options, the task's own checks come next
        from nlpkit.option_parsing import parse_duration
        from nlpkit.plots import check_suffix

        if self.plot:
            check_suffix(self.plot, option("plot"))

        for name in ("trial_budget", "budget"):
            try:
                if parse_duration(getattr(self, name)) <= 0:
                    raise ValueError("a duration above 0")
            except ValueError as exc:
                raise ValueError(f"{option(name)}: {exc}") from None
        if parse_duration(self.trial_budget) > parse_duration(self.budget):
            raise ValueError(
                f"{option('trial_budget')} {self.trial_budget} is longer than {option('budget')} {self.budget}: "
                "no trial would fit"
            )


# Training options a search sets itself (each trial's budget, its own output) or has no use for.
NOT_FOR_TRIALS = ("time_budget", "resume", "metrics_out", "tensorboard", "mlflow", "log_every", "log_format")


def tune_options(train_options):
    """The options of `nlpkit tune TASK`: the search's (TuneOptions, which take `out`) and the
    task's training options, which fix a trial's options where given."""
    import dataclasses

    made = _MADE.get(train_options)
    if made is None:
        made = dataclasses.make_dataclass(f"Tune{train_options.__name__}", [], bases=(TuneOptions, train_options))
        made.HIDDEN = (*train_options.HIDDEN, *NOT_FOR_TRIALS)
        _MADE[train_options] = made
    return made


_MADE: dict = {}
