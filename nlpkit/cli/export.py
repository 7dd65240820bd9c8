"""`nlpkit export MODEL --format onnx`: the model's forward pass as an ONNX graph."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer


class ExportFormat(str, Enum):
    onnx = "onnx"


def export(
    model_path: Annotated[
        str, typer.Argument(metavar="MODEL", help="A sentiment, ner, lm or translate model file (.nlpk).")
    ],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="onnx (the only format so far).")] = ExportFormat.onnx,
    out: Annotated[str, typer.Option("--out", "-o", help="The graph to write (.onnx); default MODEL with .onnx.")] = "",
    int8: Annotated[
        bool,
        typer.Option(
            "--int8",
            help="Matrices and LSTM weights in int8 (onnxruntime dynamic quantization, per channel): "
            "about a quarter of the size; the difference from PyTorch is reported (speed and F1: docs/benchmarks.md).",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Nothing on stderr but errors.")] = False,
) -> None:
    """Write MODEL as an ONNX graph with free batch size and length, checked against PyTorch on a
    batch of another shape. Sentiment: tokens, lengths -> logits; ner: words, chars, lengths ->
    emissions; lm: tokens, lengths -> log_probs; translate: the encoder and one decoder step
    (beam search stays in nlpkit). The file keeps the tokenizer and labels, so `nlpkit sentiment
    predict m.onnx`, `nlpkit ner tag m.onnx` and `nlpkit translate predict m.onnx` run it in
    onnxruntime. Needs nlpkit[onnx]."""
    import importlib.util
    from pathlib import Path

    import nlpkit
    from nlpkit.console import info
    from nlpkit.errors import NlpkitError

    target = Path(out or Path(model_path).with_suffix(".onnx"))
    if target.suffix != ".onnx":
        raise NlpkitError(f"{target}: an ONNX graph is written to a .onnx file (that is how nlpkit tells it apart)")
    if str(model_path).endswith(".onnx"):
        raise NlpkitError(f"{model_path}: already an ONNX graph; export the .nlpk file it came from")
    missing = [name for name in ("onnx", "onnxruntime") if importlib.util.find_spec(name) is None]
    if missing:
        raise NlpkitError(f"export needs {' and '.join(missing)}: pip install 'nlpkit[onnx]'")
    from nlpkit.export.graphs import export_onnx

    model = nlpkit.load(model_path, device="cpu", threads=0, quantize="none")
    checked = export_onnx(model, target, int8=int8)
    size = target.stat().st_size
    agreement = f"agrees with PyTorch within {checked['max_difference']:.1g}"
    if int8:
        agreement = f"int8; the float graph {agreement}, the int8 one within {checked['int8_difference']:.2g}"
    info(
        f"{target}: {size / 1e6:,.2f} MB ONNX graph ({', '.join(checked['inputs'])} -> {', '.join(checked['outputs'])}), "
        f"{agreement}",
        quiet,
    )
