"""`nlpkit plot RUN... --out curves.png`: the training curves of one or more runs on one chart."""

from __future__ import annotations

from dataclasses import dataclass

from nlpkit.errors import option
from nlpkit.options import Options, RunOptions, opt, reuse


@dataclass
class PlotCommand(Options):
    runs: list[str] = opt(
        list, "Model files (.nlpk, .onnx) or metrics files (--metrics-out, .json).", argument=1, required=True,
        metavar="RUN...",
    )  # fmt: skip
    metric: str = opt(
        "",
        "The history's metric: valid_loss, train_loss, valid_bleu, valid_accuracy, ... (default: the one the "
        "first run kept its model by).",
    )
    x: str = opt("step", "step | epoch | seconds.", choices=("step", "epoch", "seconds"))
    out: str = opt("curves.png", "The chart to write (.png, .svg or .pdf).", flags=("--out", "-o"), writes="file")
    quiet: bool = reuse(RunOptions, "quiet")

    def check(self) -> None:
        from nlpkit.plots import check_suffix

        check_suffix(self.out, option("out"))


def plot(o: PlotCommand) -> None:
    """Draw the evaluation history that model files (or --metrics-out files) record, one curve a
    run on one chart, so that two recipes compare at a glance. Needs matplotlib (nlpkit[plot])."""
    from nlpkit.console import info
    from nlpkit.plots import training_curves

    metric, points = training_curves(o.runs, o.metric, o.x, o.out)
    info(f"{o.out}: {metric} by {o.x} of {len(o.runs)} run(s), {points} points", o.quiet)
