"""`nlpkit export MODEL --format onnx`: the model's forward pass as an ONNX graph."""

from __future__ import annotations

from dataclasses import dataclass

from nlpkit.options import Options, RunOptions, opt, reuse


@dataclass
class ExportCommand(Options):
    model: str = opt("", "A sentiment, ner, lm or translate model file (.nlpk).", argument=1, metavar="MODEL")
    format: str = opt("onnx", "onnx (the only format so far).", choices=("onnx",))
    out: str = opt("", "The graph to write (.onnx); default MODEL with .onnx.", flags=("--out", "-o"))
    int8: bool = opt(
        False,
        "Matrices and LSTM weights in int8 (onnxruntime dynamic quantization, per channel): about a quarter of "
        "the size; the difference from PyTorch is reported (speed and F1: docs/benchmarks.md).",
        flags=("--int8",),
    )
    quiet: bool = reuse(RunOptions, "quiet")


def export(o: ExportCommand) -> None:
    """Write MODEL as an ONNX graph with free batch size and length, checked against PyTorch on a
    batch of another shape. Sentiment: tokens, lengths -> logits; ner: words, chars, lengths ->
    emissions; lm: tokens, lengths -> log_probs; translate: the encoder and one decoder step
    (beam search stays in nlpkit). The file keeps the tokenizer and labels, so `nlpkit sentiment
    predict m.onnx`, `nlpkit ner tag m.onnx` and `nlpkit translate predict m.onnx` run it in
    onnxruntime. Needs nlpkit[onnx]."""
    from nlpkit.console import info
    from nlpkit.export.graphs import export_file

    target, checked = export_file(o.model, o.out, int8=o.int8)
    size = target.stat().st_size
    agreement = f"agrees with PyTorch within {checked['max_difference']:.1g}"
    if o.int8:
        agreement = f"int8; the float graph {agreement}, the int8 one within {checked['int8_difference']:.2g}"
    graph = f"{', '.join(checked['inputs'])} -> {', '.join(checked['outputs'])}"
    info(f"{target}: {size / 1e6:,.2f} MB ONNX graph ({graph}), {agreement}", o.quiet)
