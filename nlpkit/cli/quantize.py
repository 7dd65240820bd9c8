"""`nlpkit quantize MODEL OUT`: a smaller model file with int8 weight matrices."""

from __future__ import annotations

from typing import Annotated

import typer


def quantize(
    model_path: Annotated[str, typer.Argument(metavar="MODEL", help="A model file (.nlpk) of any task.")],
    out: Annotated[str, typer.Argument(metavar="OUT", help="The quantized model file to write.")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Nothing on stderr but errors.")] = False,
) -> None:
    """Write MODEL with the weight matrices of its linear and recurrent layers as int8 rows with a
    scale each: about a quarter of their float size. Commands run it in int8 on the CPU
    (--quantize auto) and in float32 elsewhere; nlpkit info shows it is quantized."""
    from pathlib import Path

    import nlpkit
    from nlpkit.console import info
    from nlpkit.errors import NlpkitError

    model = nlpkit.load(model_path, device="cpu", threads=0, quantize="none")  # a bad MODEL fails here first
    target = Path(out)
    if target.exists() and (not target.is_file() or target.samefile(model_path)):
        raise NlpkitError(f"{out}: not a regular file, or the input itself; give a new path")
    model.save(out, int8=True)
    before, after = Path(model_path).stat().st_size, target.stat().st_size
    info(f"{out}: {after / 1e6:,.2f} MB ({after / before:.0%} of {before / 1e6:,.2f} MB), int8 weight matrices", quiet)
