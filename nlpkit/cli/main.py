"""The `nlpkit` command: one Typer app with a sub-app per task group.

Every module under nlpkit.cli imports only typer, the standard library and the torch-free option
declarations at the top, so that `nlpkit --help` answers in a fraction of a second; torch is
imported when a command runs.
"""

from __future__ import annotations

import errno
import os
import signal
import sys

import typer

from nlpkit import __version__
from nlpkit.cli import (
    demo,
    diagnose,
    export,
    generate,
    info,
    lm,
    ner,
    plot,
    quantize,
    sentiment,
    serve,
    translate,
    tune,
    vectors,
)
from nlpkit.cli.options import command
from nlpkit.errors import NlpkitError, use_flags

app = typer.Typer(
    name="nlpkit",
    help="Train, evaluate and run neural sequence models from the shell.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: rich help formatting costs ~0.25 s of imports per call
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(lm.app, name="lm")
app.add_typer(sentiment.app, name="sentiment")
app.add_typer(ner.app, name="ner")
app.add_typer(translate.app, name="translate")
app.add_typer(diagnose.app, name="diagnose")
app.add_typer(vectors.app, name="vectors")
app.add_typer(tune.app, name="tune")
command(app, generate.GenerateCommand)(generate.generate)
command(app, info.InfoCommand)(info.info)
command(app, plot.PlotCommand)(plot.plot)
command(app, quantize.QuantizeCommand)(quantize.quantize)
command(app, export.ExportCommand)(export.export)
command(app, demo.DemoCommand)(demo.demo)
command(app, serve.ServeOptions)(serve.serve)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"nlpkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Train, evaluate and run neural sequence models from the shell."""


def _quiet_broken_pipe() -> None:
    # The reader went away (`| head`): stop quietly, and keep Python from complaining while it
    # flushes stdout on the way out.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def _interrupted(signum, frame) -> None:
    # The first Ctrl-C stops gracefully (a training run writes its checkpoint); a second one
    # ends the command at once, without running any more Python (no traceback from wherever it
    # landed, no atexit handlers). Files are written by rename, so none is left half-written.
    signal.signal(signal.SIGINT, _interrupted_again)
    raise KeyboardInterrupt


def _interrupted_again(signum, frame) -> None:
    os.write(2, b"\ninterrupted again: stopped at once\n")
    os._exit(130)


def main() -> None:
    use_flags()  # library messages name options as flags: --max-len, not max_len
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupted)
    if hasattr(signal, "SIGPIPE"):
        # like any Unix filter: a reader that goes away (`| head -1`) ends the command at once,
        # quietly, with the conventional status (128 + SIGPIPE = 141 in the shell)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        app()
    except NlpkitError as exc:
        from rich.markup import escape

        from nlpkit.console import console

        console().print(f"[bold red]error:[/bold red] {escape(str(exc))}", soft_wrap=True)
        sys.exit(1)
    except BrokenPipeError:
        _quiet_broken_pipe()
        sys.exit(0)
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO):
            raise
        # stdout (or a file being written) hit a full or failing device: say so once, and keep
        # the interpreter from failing again when it flushes stdout on the way out
        sys.stderr.write(f"error: cannot write the output: {exc.strerror}\n")
        _quiet_broken_pipe()
        sys.exit(1)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)


if __name__ == "__main__":
    main()
