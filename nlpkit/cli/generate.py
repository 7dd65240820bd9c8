"""`nlpkit generate MODEL`: sample text from a language model (nlpkit.tasks.lm)."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from nlpkit.cli import common as c
from nlpkit.options import InputOptions, LoadOptions, ReadOptions, opt
from nlpkit.tasks.lm.options import GenerateOptions


@dataclass
class GenerateCommand(ReadOptions, GenerateOptions, LoadOptions):
    model: str = opt("", "A language model file (.nlpk).", argument=1, metavar="MODEL")
    prompt: str | None = opt(
        None, "The prompt; without it, one prompt per stdin line (or none on a terminal).", flags=("--prompt", "-p")
    )
    format: str = opt("text", "text: prompt and completion | jsonl: one record per prompt.", choices=("text", "jsonl"))


def generate(o: GenerateCommand) -> None:
    """Generate text from a language model: one completion (or --num-samples) per prompt."""
    import torch

    from nlpkit.data import inputs

    model = c.load(o, "lm")
    generator = torch.Generator(device=model.device)
    generator.manual_seed(o.seed if o.seed is not None else torch.seed())
    if o.prompt is not None:
        prompts = iter([o.prompt])
    elif sys.stdin.isatty():
        prompts = iter([""])
    else:
        prompts = inputs.records(InputOptions(encoding_errors=o.encoding_errors))
    stream = o.format == "text" and o.num_samples == 1  # to terminals and pipes alike (`| head -1` ends it)
    warned = False
    for text in prompts:
        read, cut = model.prompt_cut(text)
        if cut and not warned:
            c.warn(
                f"prompt of {read + cut} tokens is longer than the model's context of "
                f"{model.model.config.context}: only its last {read} tokens are read"
            )
            warned = True
        on_token = TextStream(model.tokenizer, text, sys.stdout, o.stop) if stream else None
        completions = model.generate(text, **o.pick(GenerateOptions), generator=generator, on_token=on_token)
        if stream:
            on_token.finish(completions[0])
        elif o.format == "jsonl":
            sys.stdout.write(c.json_line({"prompt": text, "completions": completions}) + "\n")
        else:
            for completion in completions:
                sys.stdout.write(text + completion + "\n")
        sys.stdout.flush()


class TextStream:
    """Writes one completion to a text stream token by token as it is generated (the
    `on_token` of LanguageModelTask.generate); finish() writes what was held back. Nothing is
    written before the first token (a refused option prints nothing), and the last characters
    are held back while a stop string may still be forming there, so none of it is printed."""

    def __init__(self, tokenizer, prompt: str, out, stop=()):
        self.tokenizer, self.out, self.prompt = tokenizer, out, prompt
        self.tokens: list[int] = []
        self.shown = 0
        # a stop string of n characters may have begun in the last n - 1; a few more for
        # tokenizers whose decoded tail changes as tokens follow
        self.hold = max(8, max((len(s) for s in stop), default=0))

    def _write(self, text: str) -> None:
        if self.prompt is not None:
            text, self.prompt = self.prompt + text, None
        self.out.write(text)
        self.out.flush()

    def __call__(self, token) -> None:
        self.tokens.append(int(token[0]))
        text = self.tokenizer.decode(self.tokens)
        safe = max(self.shown, len(text) - self.hold)
        self._write(text[self.shown : safe])
        self.shown = safe

    def finish(self, completion: str) -> None:
        self._write(completion[self.shown :] + "\n")
