"""`nlpkit generate MODEL`: sample text from a language model (nlpkit.tasks.lm)."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated

import typer

from nlpkit.cli import common as c


class GenFormat(str, Enum):
    text = "text"
    jsonl = "jsonl"


def generate(
    model_path: Annotated[str, typer.Argument(metavar="MODEL", help="A language model file (.nlpk).")],
    prompt: Annotated[
        str | None,
        typer.Option(
            "--prompt", "-p", help="The prompt; without it, one prompt per stdin line (or none on a terminal)."
        ),
    ] = None,
    max_new_tokens: Annotated[
        int, typer.Option("--max-new-tokens", "-n", min=0, help="Tokens to generate per completion.")
    ] = 200,
    temperature: Annotated[float, typer.Option("--temperature", "-t", min=0.0, help="0 = greedy.")] = 1.0,
    top_k: Annotated[int, typer.Option("--top-k", min=0, help="Sample among the k likeliest tokens (0 = all).")] = 0,
    top_p: Annotated[
        float,
        typer.Option("--top-p", min=0.0, max=1.0, help="Nucleus sampling mass (1 = off, 0 = likeliest token only)."),
    ] = 1.0,
    repetition_penalty: Annotated[
        float, typer.Option("--repetition-penalty", help="Above 0; > 1 discourages tokens already present (1 = off).")
    ] = 1.0,
    no_repeat_ngram: Annotated[
        int, typer.Option("--no-repeat-ngram", min=0, help="Never repeat an n-gram of this size (0 = off).")
    ] = 0,
    stop: Annotated[
        list[str] | None,
        typer.Option("--stop", help="Stop a completion at this string (repeatable); it is not printed."),
    ] = None,
    num_samples: Annotated[int, typer.Option("--num-samples", min=1, help="Completions per prompt.")] = 1,
    fmt: Annotated[
        GenFormat, typer.Option("--format", help="text: prompt and completion | jsonl: one record per prompt.")
    ] = GenFormat.text,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Re-read the whole prefix every step (slow; for comparison).")
    ] = False,
    seed: Annotated[int | None, typer.Option("--seed", min=0, max=2**63 - 1, help="Random seed for sampling.")] = None,
    encoding_errors: c.EncodingErrorsOpt = c.EncodingErrors.strict,
    device: c.DeviceOpt = c.Device.auto,
    threads: c.ThreadsOpt = 0,
    quantize: c.QuantizeOpt = c.Quantize.auto,
    quiet: c.QuietOpt = False,
) -> None:
    """Generate text from a language model: one completion (or --num-samples) per prompt."""
    import torch

    sampling = dict(
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        repetition_penalty=repetition_penalty,
        no_repeat_ngram=no_repeat_ngram,
    )
    from nlpkit.tasks.lm import TextStream, sampling_config

    sampling_config(**sampling)  # bad sampling options fail before the model is read
    model = c.load(model_path, "lm", device, threads, quiet, quantize)
    generator = torch.Generator(device=model.device)
    generator.manual_seed(seed if seed is not None else torch.seed())
    if prompt is not None:
        prompts = iter([prompt])
    elif sys.stdin.isatty():
        prompts = iter([""])
    else:
        prompts = c.input_lines(None, encoding_errors)
    stream = fmt is GenFormat.text and num_samples == 1  # to terminals and pipes alike (`| head -1` ends it)
    warned = False
    for text in prompts:
        read, cut = model.prompt_cut(text)
        if cut and not warned:
            c.warn(
                f"prompt of {read + cut} tokens is longer than the model's context of "
                f"{model.model.config.context}: only its last {read} tokens are read"
            )
            warned = True
        on_token = TextStream(model.tokenizer, text, sys.stdout) if stream else None
        completions = model.generate(
            text,
            **sampling,
            num_samples=num_samples,
            use_cache=not no_cache,
            stop=tuple(stop or ()),
            generator=generator,
            on_token=on_token,
        )
        if stream:
            on_token.finish(completions[0])
        elif fmt is GenFormat.jsonl:
            sys.stdout.write(c.json_line({"prompt": text, "completions": completions}) + "\n")
        else:
            for completion in completions:
                sys.stdout.write(text + completion + "\n")
        sys.stdout.flush()
