"""The options of `nlpkit diagnose gradients|memory|speed|context`, declared once (flags are generated
from these). Torch-free: the CLI builds its flags from these at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass

from nlpkit.encoders.config import ENCODER_KINDS
from nlpkit.errors import option
from nlpkit.option_parsing import comma_numbers
from nlpkit.options import RunOptions, TableOutput, opt, reuse


@dataclass
class DiagnoseOptions(RunOptions):
    """What the three measurements share."""

    encoder: str = opt(",".join(ENCODER_KINDS), f"Comma list of encoders: {', '.join(ENCODER_KINDS)}.")
    format: str = reuse(TableOutput, "format")
    plot: str | None = opt(None, "Also draw the curves (needs matplotlib).", metavar="FILE.png", writes="file")

    @property
    def encoders(self) -> list[str]:
        return [k.strip() for k in self.encoder.split(",") if k.strip()]

    def check(self) -> None:
        if self.plot:  # refused before the measuring, not after (nlpkit.outputs checks where it goes)
            from nlpkit.plots import check_suffix

            check_suffix(self.plot, option("plot"))
        bad = [k for k in self.encoders if k not in ENCODER_KINDS]
        if bad or not self.encoders:
            raise ValueError(
                f"{option('encoder')}: unknown encoder {','.join(bad) or '(none)'}; "
                f"use a comma list of {', '.join(ENCODER_KINDS)}"
            )


@dataclass
class GradientOptions(DiagnoseOptions):
    model: list[str] = opt(list, "A language model file: measured trained and re-initialised (repeatable).")
    text: str | None = opt(None, "Read the sequences from this text (default: random tokens).")
    length: int = opt(100, "Steps from the first input to the loss.", min=2)
    batch: int = opt(16, "Sequences averaged over.", min=1)
    hidden: int = opt(128, "Width of the fresh encoders.", min=2)
    layers: int = opt(1, "Layers of the fresh encoders.", min=1)
    scale_recurrent: float = opt(
        3.0,
        "Also measure each fresh recurrent encoder with its hidden-to-hidden weights times this "
        "(the exploding case; 0 = skip).",
        min=0.0,
    )
    clip: float = opt(1.0, "Show what clipping the global gradient norm to this does to the update.", min=0.0)
    seed: int = opt(0, "Random seed.", min=0, max=2**32 - 1)


@dataclass
class MemoryOptions(DiagnoseOptions):
    task: str = opt("both", "recall | agreement | both.", choices=("recall", "agreement", "both"))
    distances: str = opt("5,10,20,50,100,200", "Comma list of distances.")
    steps: int = opt(300, "Training steps per encoder and distance.", min=1)
    batch: int = opt(32, "Sequences per step.", min=1)
    hidden: int = opt(64, "Encoder width.", min=4)
    layers: int = opt(1, "Encoder layers.", min=1)
    lr: float = opt(3e-3, "Peak learning rate (AdamW).", min=0.0)
    seed: int = reuse(GradientOptions, "seed")

    def check(self) -> None:
        super().check()
        comma_numbers(self.distances, "distances")


@dataclass
class SpeedOptions(DiagnoseOptions):
    lengths: str = opt("16,64,256,1024", "Comma list of sequence lengths.")
    batch: int = opt(16, "Sequences per batch.", min=1)
    hidden: int = opt(256, "Encoder width.", min=4)
    layers: int = opt(2, "Encoder layers.", min=1)
    repeats: int = opt(3, "Timed repetitions (after one warm-up).", min=1)

    def check(self) -> None:
        super().check()
        comma_numbers(self.lengths, "lengths")


@dataclass
class ContextOptions(DiagnoseOptions):
    HIDDEN = ("encoder",)

    model: list[str] = opt(list, "Language model files to measure.", argument=1, metavar="MODEL...", required=True)
    text: str = opt("", "The text to read (a held-out text: validation or test).", required=True)
    lengths: str = opt("1,2,5,10,20,50,100,200", "Comma list of context lengths k (tokens).")
    positions: int = opt(1000, "Target positions the loss is averaged over.", min=1)

    def check(self) -> None:
        super().check()
        comma_numbers(self.lengths, "lengths")
