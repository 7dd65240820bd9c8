"""Figures drawn with matplotlib (an optional dependency: `pip install nlpkit[plot]`)."""

from __future__ import annotations

from pathlib import Path

from nlpkit.errors import NlpkitError


def pyplot(option: str = "--plot"):
    """matplotlib.pyplot on the file-only Agg backend, or a one-line error naming the option."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise NlpkitError(f"{option} needs matplotlib: pip install matplotlib") from None
    return plt


SUFFIXES = (".png", ".svg", ".pdf")


def check_suffix(path: str, option: str) -> None:
    """Refuse, before anything is measured or drawn, a figure name whose format is not written."""
    if Path(path).suffix.lower() not in SUFFIXES:
        raise NlpkitError(f"{option}: {path}: a figure is written as {', '.join(SUFFIXES)}; name it so")


def save(fig, path: str | Path) -> None:
    """The figure written whole or not at all (nlpkit.outputs.write_atomically), in the format
    its file name says (.png, .svg, .pdf)."""
    import io

    from nlpkit.outputs import write_atomically

    plt = pyplot()
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, dpi=120, format=Path(path).suffix[1:].lower())
        write_atomically(path, buffer.getvalue())
    except ValueError as exc:  # a format matplotlib does not write
        raise NlpkitError(f"{path}: cannot write the plot ({exc})") from None
    except OSError as exc:
        raise NlpkitError(f"{path}: cannot write the plot ({exc.strerror})") from None
    finally:
        plt.close(fig)


def attention_heatmap(weights: list[list[float]], source: list[str], target: list[str], path: str | Path) -> None:
    """Target tokens down, source tokens across, darker = more attention."""
    plt = pyplot()
    rows, cols = len(target), len(source)
    fig, ax = plt.subplots(figsize=(max(3.0, 0.38 * cols + 1.5), max(2.5, 0.32 * rows + 1.2)))
    ax.imshow(weights, cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(cols), source, rotation=90, fontsize=8)
    ax.set_yticks(range(rows), target, fontsize=8)
    ax.set_xlabel("source")
    ax.set_ylabel("translation")
    fig.tight_layout()
    save(fig, path)


def line_plot(
    path: str, series: dict[str, tuple[list, list]], *, xlabel: str, ylabel: str, title: str, log_y: bool
) -> None:
    """One curve per series name: (xs, ys)."""
    plt = pyplot("--plot")
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for name, (xs, ys) in series.items():
        ax.plot(xs, ys, marker="o" if len(xs) < 20 else None, label=name)
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, path)


def search_curve(trials: list[dict], metric: str, lower_is_better: bool, study: str, path: str) -> None:
    """A search's cost: each trial's value at its end (minutes since the study began; a pruned
    trial's last report, hollow) and the best completed value so far, as a step line. `trials`
    are nlpkit.tuning.study.trial_rows; failed and running trials have no point."""
    plt = pyplot("--plot")
    fig, ax = plt.subplots(figsize=(7, 4.2))
    styles = {"complete": {"color": "C0"}, "pruned": {"facecolors": "none", "edgecolors": "C1"}}
    for state, style in styles.items():
        shown = [t for t in trials if t["state"] == state and t["at"] is not None and t["value"] is not None]
        if shown:
            ax.scatter([t["at"] / 60 for t in shown], [t["value"] for t in shown], label=state, **style)
    best = sorted((t["at"] / 60, t["best"]) for t in trials if t["at"] is not None and t["best"] is not None)
    if best:
        ax.step([x for x, _ in best], [y for _, y in best], where="post", color="C2", label="best so far")
    ax.set_xlabel("minutes since the study began")
    ax.set_ylabel(f"{metric} ({'lower' if lower_is_better else 'higher'} is better)")
    ax.set_title(f"study {study}: {len(trials)} trials")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, path)


X_AXES = {"step": "step", "epoch": "epoch", "seconds": "seconds"}


def training_curves(sources: list[str], metric: str, x: str, out: str) -> int:
    """One curve per model or metrics file: `metric` (valid_loss, train_loss, valid_bleu, ...) over
    `x` (step, epoch or seconds) from each run's evaluation history, on one chart written to
    `out` (.png or .svg); an empty metric: the one the first run kept its model by. Returns
    (the metric drawn, the number of points drawn). The caller has checked `out` (nlpkit.outputs)."""
    from pathlib import Path

    from nlpkit.model_info import history, run_metrics, selected_by

    series = {}
    for source in sources:
        metrics = run_metrics(source)
        found = history(source, metrics)
        metric = metric or selected_by(metrics, found)  # by default, what the first run kept its model by
        points = [(h.get(x), h.get(metric)) for h in found]
        points = [(a, b) for a, b in points if isinstance(a, int | float) and isinstance(b, int | float)]
        if not points:
            held = sorted({k for h in found for k in h if k == "train_loss" or k.startswith("valid_")})
            raise NlpkitError(f"{source}: its history holds no {metric} (it holds {', '.join(held) or 'none'})")
        name = Path(source).name if sum(Path(s).name == Path(source).name for s in sources) == 1 else source
        series[name] = ([a for a, _ in points], [b for _, b in points])
    line_plot(out, series, xlabel=X_AXES[x], ylabel=metric, title=f"{metric} by {x}", log_y=False)
    return metric, sum(len(xs) for xs, _ in series.values())
