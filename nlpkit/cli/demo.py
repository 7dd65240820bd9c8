"""`nlpkit demo`: the main job on the bundled sample, end to end, in about a minute."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nlpkit.cli import common as c


def sample_dir() -> Path:
    """data/ of the source checkout (the README installs nlpkit editable), else ./data."""
    for candidate in (Path(__file__).resolve().parents[2] / "data", Path.cwd() / "data"):
        if (candidate / "sample.txt").is_file():
            return candidate
    raise c.fail("cannot find data/sample.txt: run the demo from the nlpkit checkout")


def demo(
    out_dir: Annotated[str, typer.Option("--out-dir", help="Where the demo writes its model files.")] = "runs/demo",
    time_budget: Annotated[str, typer.Option("--time-budget", help="Training time for the language model.")] = "60s",
    device: c.DeviceOpt = c.Device.auto,
    quiet: c.QuietOpt = False,
) -> None:
    """Train a small character-level LSTM language model on data/sample.txt, evaluate it and
    generate from it."""
    from nlpkit.cli import generate as gen
    from nlpkit.cli import lm

    data = sample_dir()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = str(out / "sample-lm.nlpk")
    c.info(f"[bold]1/3[/bold] training a character LSTM on {data / 'sample.txt'} for {time_budget}", quiet)
    lm.train(
        inputs=[str(data / "sample.txt")],
        out=model,
        valid=[str(data / "sample.valid.txt")],
        valid_fraction=0.0,
        dataset=None,
        dataset_config=None,
        split="train",
        valid_split=None,
        text_field="text",
        input_format=lm.InputFormat.auto,
        encoding_errors=c.EncodingErrors.strict,
        tokenizer="char",
        min_freq=1,
        encoder="lstm",
        layers=2,
        hidden=256,
        embed=64,
        dropout=0.1,
        heads=4,
        positions="learned",
        tie_weights=False,
        adaptive_softmax="",
        context=96,
        epochs=0,
        max_steps=0,
        time_budget=time_budget,
        batch_size=32,
        lr=3e-3,
        optimizer="adamw",
        schedule="cosine",
        warmup=20,
        weight_decay=0.01,
        clip=1.0,
        eval_every=100,
        patience=0,
        seed=0,
        device=device,
        resume=False,
        metrics_out=None,
        quiet=quiet,
    )
    c.info(f"[bold]2/3[/bold] perplexity on {data / 'sample.valid.txt'}", quiet)
    lm.evaluate(
        model_path=model,
        inputs=[str(data / "sample.valid.txt")],
        batch_size=10,
        text_field="text",
        input_format=lm.InputFormat.auto,
        encoding_errors=c.EncodingErrors.strict,
        fmt=lm.ScoreFormat.tsv,
        device=device,
    )
    c.info("[bold]3/3[/bold] generating from the prompt 'At dawn, '", quiet)
    gen.generate(
        model_path=model,
        prompt="At dawn, ",
        max_new_tokens=300,
        temperature=0.7,
        top_k=0,
        top_p=0.95,
        repetition_penalty=1.0,
        no_repeat_ngram=0,
        stop=None,
        num_samples=1,
        fmt=gen.GenFormat.text,
        no_cache=False,
        seed=0,
        encoding_errors=c.EncodingErrors.strict,
        device=device,
    )
    c.info(f"model written to {model}; try: nlpkit info {model}", quiet)
