"""What a training run reports while it runs, beyond the progress bar a terminal shows: plain or
JSON lines on stderr for batch jobs (`nohup ... > log`), TensorBoard scalars and an MLflow run.

The Trainer hands every record to one RunLog, which passes it to each sink. Records are plain
dicts with stable keys (docs/training-logs.md):

    event         "start" | "progress" | "eval" | "end"
    step, epoch   optimizer steps so far, and epochs (fractional)
    elapsed       seconds of the run (evaluation included; a resumed run counts its earlier part)
    tokens_per_s  training throughput of this process since it started (evaluation excluded)
    train_loss    mean training loss of the last 50 steps
    lr            the learning rate of the last step
    eta           seconds left by the run's budget (steps, epochs or time), None when unknown
    valid_*       the validation metrics ("eval" records)
    best          {"metric", "value", "step"} of the kept model so far ("eval" records)

A tracker that fails mid-run (a server gone, a full disk) is a warning and is dropped: the run
and its model file never depend on it. Kept free of torch at import.
"""

from __future__ import annotations

import json
import math
import time
from contextlib import contextmanager

from nlpkit.errors import NlpkitError, option


class RunLog:
    """The sinks of one run; `due(now)` says when the next progress record is wanted."""

    def __init__(self, sinks: list, every: float):
        self.sinks, self.every = list(sinks), every
        self._last = time.monotonic()

    @property
    def lines(self) -> bool:
        """Whether records go to stderr as lines (then no progress bar is drawn beside them)."""
        return any(isinstance(sink, Lines) for sink in self.sinks)

    def due(self) -> bool:
        return bool(self.sinks) and self.every > 0 and time.monotonic() - self._last >= self.every

    def emit(self, record: dict) -> None:
        if record["event"] in ("progress", "eval"):
            self._last = time.monotonic()
        for sink in list(self.sinks):
            try:
                sink.write(record)
            except Exception as exc:  # a tracker's own failure, whatever its class: never the run's
                from nlpkit.console import warn

                warn(f"{sink.name}: stopped recording this run ({_first_line(exc)})")
                self.sinks.remove(sink)

    def close(self, model_path: str | None = None) -> None:
        for sink in self.sinks:
            try:
                sink.close(model_path)
            except Exception as exc:
                from nlpkit.console import warn

                warn(f"{sink.name}: could not finish recording this run ({_first_line(exc)})")


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]


def clean(value):
    """The record with non-finite numbers as None (JSON has no NaN or Infinity) and floats
    rounded, at every depth (the start record holds the recipe: `clip` may be inf)."""
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: clean(v) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


class Lines:
    """One line per record on stderr: readable text, or one JSON object a line (`log_format json`)."""

    name = "log"

    def __init__(self, fmt: str):
        self.fmt = fmt

    def write(self, record: dict) -> None:
        import sys

        if self.fmt == "json":
            line = json.dumps(clean(record), ensure_ascii=False, allow_nan=False)
        else:
            line = self.text(record)
        if line:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

    @staticmethod
    def text(r: dict) -> str:
        if r["event"] == "start":  # the start-up line says it already
            return ""
        if r["event"] == "end":
            return f"end: {r.get('steps', 0):,} steps in {duration(r.get('elapsed'))}, model file {r.get('model')}"
        parts = [f"step {r['step']:,}", f"epoch {r['epoch']:.2f}", duration(r["elapsed"])]
        parts.append(f"{r['tokens_per_s']:,.0f} tok/s")
        if r.get("train_loss") is not None and math.isfinite(r["train_loss"]):
            parts.append(f"loss {r['train_loss']:.4f}")
        if r["event"] == "progress":
            parts.append(f"lr {r['lr']:.3g}")
        parts += [f"{k} {v:.4g}" for k, v in r.items() if k.startswith("valid_") and isinstance(v, int | float)]
        best = r.get("best")
        if best:
            parts.append(f"best {best['metric']} {best['value']:.4g} (step {best['step']:,})")
        parts.append(f"eta {duration(r.get('eta'))}")
        return ("eval: " if r["event"] == "eval" else "") + "  ".join(parts)

    def close(self, model_path: str | None) -> None:
        pass


class TensorBoard:
    """Scalars per logging interval (train/*) and per evaluation (valid/*), the recipe as text,
    through torch.utils.tensorboard (needs the tensorboard package: nlpkit[tensorboard])."""

    name = "tensorboard"

    def __init__(self, folder: str, recipe: dict):
        from nlpkit.option_parsing import to_toml

        self.writer = tensorboard_writer(folder)
        _quiet_writer_threads()
        self.writer.add_text("recipe", "```\n" + to_toml(recipe) + "```", 0)

    def write(self, record: dict) -> None:
        step = record.get("step", 0)
        if record["event"] == "progress":
            for key in ("train_loss", "lr", "tokens_per_s"):
                if isinstance(record.get(key), int | float) and math.isfinite(record[key]):
                    self.writer.add_scalar(f"train/{key}", record[key], step)
        elif record["event"] == "eval":
            for key, value in record.items():
                if (key.startswith("valid_") or key == "train_loss") and isinstance(value, int | float):
                    if math.isfinite(value):
                        self.writer.add_scalar(f"{'valid' if key.startswith('valid_') else 'train'}/{key}", value, step)
        self.writer.flush()

    def close(self, model_path: str | None) -> None:
        self.writer.close()


def _quiet_writer_threads() -> None:
    """TensorBoard writes from a thread of its own, which re-raises a failed write (a full disk)
    after handing it to the writer; the writer's next call raises it here and the run warns once
    (RunLog.emit). The thread's own traceback would only repeat it, so it is not printed."""
    import threading

    previous = threading.excepthook
    if getattr(previous, "nlpkit_tensorboard", False):
        return

    def hook(args) -> None:
        if type(args.thread).__name__ != "_AsyncWriterThread":
            previous(args)

    hook.nlpkit_tensorboard = True
    threading.excepthook = hook


def tensorboard_writer(folder: str):
    """A SummaryWriter on `folder`, or a one-line error before training starts."""
    try:
        import tensorboard  # noqa: F401 - torch.utils.tensorboard needs it
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise NlpkitError(f"{option('tensorboard')} needs tensorboard: pip install 'nlpkit[tensorboard]'") from None
    from pathlib import Path

    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise NlpkitError(f"{option('tensorboard')}: {folder} exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".nlpkit-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise NlpkitError(f"{option('tensorboard')}: cannot write to {folder} ({exc.strerror})") from None
    return SummaryWriter(log_dir=str(path))


class MLflow:
    """An MLflow run: the recipe as params, metrics per logging interval and evaluation, the
    model file as an artifact; to $MLFLOW_TRACKING_URI, else a local ./mlruns folder."""

    name = "mlflow"

    def __init__(self, recipe: dict, run_name: str):
        try:
            import mlflow
        except ImportError:
            raise NlpkitError(f"{option('mlflow')} needs mlflow: pip install 'nlpkit[mlflow]'") from None
        self.mlflow = mlflow
        tracking_uri(mlflow)
        try:
            # inside a run the caller started (a notebook), this one nests under it
            self.run = mlflow.start_run(run_name=run_name, nested=mlflow.active_run() is not None)
            mlflow.log_params({k: json.dumps(v) if isinstance(v, list) else v for k, v in recipe.items()})
        except Exception as exc:  # an unreachable server, a bad URI: before any training
            raise NlpkitError(f"{option('mlflow')}: cannot start an MLflow run ({_first_line(exc)})") from None

    def write(self, record: dict) -> None:
        keys = ("train_loss", "lr", "tokens_per_s") if record["event"] == "progress" else ()
        if record["event"] == "eval":
            keys = tuple(k for k in record if k.startswith("valid_")) + ("train_loss",)
        metrics = {k: float(record[k]) for k in keys if isinstance(record.get(k), int | float)}
        metrics = {k: v for k, v in metrics.items() if math.isfinite(v)}
        if metrics:
            self.mlflow.log_metrics(metrics, step=record.get("step", 0))

    def close(self, model_path: str | None) -> None:
        try:
            if model_path:
                self.mlflow.log_artifact(model_path)
        finally:
            self.mlflow.end_run()


def tracking_uri(mlflow) -> str:
    """$MLFLOW_TRACKING_URI, else a ./mlruns folder. Recent MLflow refuses its file store unless
    told otherwise; a folder of runs is what a user without a server asked for, so it is allowed
    (the database stores need the full mlflow package: MLFLOW_TRACKING_URI=sqlite:///mlflow.db)."""
    import os
    from pathlib import Path

    uri = os.environ.get("MLFLOW_TRACKING_URI") or Path("mlruns").resolve().as_uri()
    if uri.startswith("file:") or "://" not in uri:
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    # MLflow's own defaults (120 s a request, 7 retries with backoff) leave an unreachable server
    # unreported for minutes; a run fails within seconds instead, unless the user set them
    for key, value in (("TIMEOUT", "10"), ("MAX_RETRIES", "2"), ("BACKOFF_FACTOR", "1")):
        os.environ.setdefault(f"MLFLOW_HTTP_REQUEST_{key}", value)
    mlflow.set_tracking_uri(uri)
    return uri


_ALSO: list = []  # sinks every run started inside also() reports to as well (nlpkit.tune's reporter)


@contextmanager
def also(sink):
    """Within the block, every training run's log also goes to `sink` (an object with
    write(record) and close(model_path)); an exception it raises that is not an Exception
    (a BaseException) ends the run."""
    _ALSO.append(sink)
    try:
        yield sink
    finally:
        _ALSO.remove(sink)


def run_log(options, recipe: dict, quiet: bool, terminal: bool, main: bool) -> RunLog | None:
    """The RunLog of a training run: lines on stderr when it is not a terminal (or in JSON),
    and the trackers the options name; None when nothing would be recorded. Only rank 0 (main)
    writes. Trackers that cannot start are one-line errors here, before any training."""
    if not main:
        return None
    from nlpkit.option_parsing import every_seconds

    every = every_seconds(options.log_every)
    sinks: list = []
    if not quiet and (options.log_format == "json" or not terminal):
        sinks.append(Lines(options.log_format))
    if options.tensorboard:
        sinks.append(TensorBoard(options.tensorboard, recipe))
    if options.mlflow:
        from pathlib import Path

        sinks.append(MLflow(recipe, Path(options.out).stem))
    sinks += _ALSO
    return RunLog(sinks, every) if sinks else None


def follow(chunks, every: float, quiet: bool = False, what: str = "lines"):
    """The chunks of a long predict or eval run, passed through; when stderr is not a terminal,
    a line every `every` seconds says how many records went through and how fast (a batch job's
    log shows the run while it runs). A terminal, quiet or every=0 adds nothing."""
    from nlpkit.console import console, info

    if quiet or every <= 0 or console().is_terminal:
        yield from chunks
        return
    start = last = time.monotonic()
    done = 0
    for chunk in chunks:
        yield chunk
        done += len(chunk)
        now = time.monotonic()
        if now - last >= every:
            last = now
            info(f"{done:,} {what} done, {done / max(now - start, 1e-9):,.0f} {what}/s, {duration(now - start)}")
    if last != start:  # said something before: say where it ended
        elapsed = time.monotonic() - start
        info(f"{done:,} {what} done in {duration(elapsed)} ({done / max(elapsed, 1e-9):,.0f} {what}/s)")


def progress_bar(console):
    """The bar a training run draws on a terminal (rich): step, loss, metric, lr, tokens/s, ETA."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
        console=console,
        transient=False,
        refresh_per_second=4,
    )


def show_progress(step: int, loss: float, metric: str, last: dict, lr: float, tokens_per_s: float) -> str:
    """The text beside the bar: step, loss, the last validation metric, lr, tokens/s."""
    shown = f" {metric} {last[metric]:.4g}" if metric in last else ""
    return f"step {step}  loss {loss:.4f}{shown}  lr {lr:.3g}  {tokens_per_s:,.0f} tok/s"
