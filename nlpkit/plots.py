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


def save(fig, path: str | Path) -> None:
    plt = pyplot()
    try:
        fig.savefig(path, dpi=120)
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
