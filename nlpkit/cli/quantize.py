"""`nlpkit quantize MODEL OUT`: a smaller model file with int8 weight matrices."""

from __future__ import annotations

from dataclasses import dataclass

from nlpkit.options import Options, RunOptions, opt, reuse


@dataclass
class QuantizeCommand(Options):
    model: str = opt("", "A model file (.nlpk) of any task.", argument=1, metavar="MODEL")
    out: str = opt("", "The quantized model file to write.", argument=2, metavar="OUT", writes="file")
    quiet: bool = reuse(RunOptions, "quiet")


def quantize(o: QuantizeCommand) -> None:
    """Write MODEL with the weight matrices of its linear and recurrent layers as int8 rows with a
    scale each: about a quarter of their float size. Commands run it in int8 on the CPU
    (--quantize auto) and in float32 elsewhere; nlpkit info shows it is quantized."""
    from pathlib import Path

    import nlpkit
    from nlpkit.console import info

    model = nlpkit.load(
        o.model, device="cpu", threads=0, quantize="none", runtime="torch"
    )  # OUT was checked before (outputs.claim)
    target = Path(o.out)
    model.save(o.out, int8=True)
    before, after = Path(o.model).stat().st_size / 1e6, target.stat().st_size / 1e6
    info(f"{o.out}: {after:,.2f} MB ({after / before:.0%} of {before:,.2f} MB), int8 weight matrices", o.quiet)
