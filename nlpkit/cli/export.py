"""`nlpkit export MODEL --format onnx|ctranslate2`: the model as an ONNX graph or a CTranslate2 model."""

from __future__ import annotations

from dataclasses import dataclass

from nlpkit.options import Options, RunOptions, opt, reuse


@dataclass
class ExportCommand(Options):
    model: str = opt("", "A sentiment, ner, lm or translate model file (.nlpk).", argument=1, metavar="MODEL")
    format: str = opt(
        "onnx",
        "onnx: a graph for onnxruntime (sentiment, ner, lm, translate) | ctranslate2: a model directory for "
        "CTranslate2 (Transformer translation and language models; needs nlpkit[ct2]).",
        choices=("onnx", "ctranslate2"),
    )
    out: str = opt(
        "", "Where to write: the .onnx graph (default MODEL with .onnx) or the CTranslate2 directory "
        "(default MODEL less .nlpk, plus -ct2).", flags=("--out", "-o"),
    )  # fmt: skip
    int8: bool = opt(
        False,
        "Weights in int8: onnxruntime dynamic quantization per channel (matrices and LSTM weights), or "
        "CTranslate2's int8; about a quarter of the size (speed and scores: docs/benchmarks.md).",
        flags=("--int8",),
    )
    quiet: bool = reuse(RunOptions, "quiet")


def export(o: ExportCommand) -> None:
    """Write MODEL as an ONNX graph with free batch size and length, checked against PyTorch on a
    batch of another shape. Sentiment: tokens, lengths -> logits; ner: words, chars, lengths ->
    emissions; lm: tokens, lengths -> log_probs; translate: the encoder and one decoder step
    (beam search stays in nlpkit). The file keeps the tokenizer and labels, so `nlpkit sentiment
    predict m.onnx`, `nlpkit ner tag m.onnx` and `nlpkit translate predict m.onnx` run it in
    onnxruntime. Needs nlpkit[onnx]. With --format ctranslate2, a Transformer translation model or
    language model becomes a CTranslate2 directory that `translate predict|eval DIR`, `generate
    DIR` and nlpkit.load(DIR) run with the same options and output. Needs nlpkit[ct2]."""
    from nlpkit.console import info

    if o.format == "ctranslate2":
        from nlpkit.export.ct2 import export_dir

        target, wrote = export_dir(o.model, o.out, int8=o.int8)
        size = sum(f.stat().st_size for f in target.iterdir())
        kind = "int8" if o.int8 else "float32"
        info(f"{target}: {size / 1e6:,.2f} MB CTranslate2 model ({kind}; {', '.join(wrote['files'])})", o.quiet)
        return
    from nlpkit.export.graphs import export_file

    target, checked = export_file(o.model, o.out, int8=o.int8)
    size = target.stat().st_size
    agreement = f"agrees with PyTorch within {checked['max_difference']:.1g}"
    if o.int8:
        agreement = f"int8; the float graph {agreement}, the int8 one within {checked['int8_difference']:.2g}"
    graph = f"{', '.join(checked['inputs'])} -> {', '.join(checked['outputs'])}"
    info(f"{target}: {size / 1e6:,.2f} MB ONNX graph ({graph}), {agreement}", o.quiet)
