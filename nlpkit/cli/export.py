"""`nlpkit export MODEL --format onnx|ctranslate2`: the model as an ONNX graph or a CTranslate2 model."""

from __future__ import annotations

from dataclasses import dataclass

from nlpkit.options import Options, RunOptions, opt, reuse


@dataclass
class ExportCommand(Options):
    model: str = opt("", "A sentiment, ner, lm or translate model file (.nlpk).", argument=1, metavar="MODEL")
    format: str = opt(
        "onnx", "onnx: a graph for onnxruntime (sentiment, ner, lm, translate) | ctranslate2: a directory for "
        "CTranslate2 (Transformer translation and language models; needs nlpkit[ct2]).", choices=("onnx", "ctranslate2"),
    )  # fmt: skip
    out: str = opt(
        "", "Where to write: the .onnx graph (default MODEL with .onnx) or the CTranslate2 directory "
        "(default MODEL less .nlpk, plus -ct2).", flags=("--out", "-o"),
        writes=lambda o: "export" if o.format == "ctranslate2" else "file",
    )  # fmt: skip
    int8: bool = opt(
        False, "Weights in int8: onnxruntime's dynamic quantization per channel, or CTranslate2's int8; about a "
        "quarter of the size (speed and scores: docs/fast-decoding.md).", flags=("--int8",),
    )  # fmt: skip
    quiet: bool = reuse(RunOptions, "quiet")


def export(o: ExportCommand) -> None:
    """Write MODEL as an ONNX graph (free batch size and length, checked against PyTorch; needs
    nlpkit[onnx]) or, with --format ctranslate2, a Transformer translation model or language model
    as a CTranslate2 directory (needs nlpkit[ct2]). The predict commands and nlpkit.load run
    either like the .nlpk: docs/model-files.md, docs/fast-decoding.md."""
    from nlpkit.console import info
    from nlpkit.export import ct2, graphs

    module = ct2 if o.format == "ctranslate2" else graphs
    target, result = module.export_file(o.model, o.out, int8=o.int8)
    info(module.summary(target, result), o.quiet)
