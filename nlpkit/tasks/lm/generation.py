"""Generating text from a language model: the prompt as token ids, and the sampling loop
(nlpkit.decoding.sample) with stop strings and a token stream."""

from __future__ import annotations

import torch

from nlpkit.tasks.lm.model import LanguageModel
from nlpkit.text.tokenizers import BOS_ID, EOS_ID, PAD_ID


def prompt_ids(model: LanguageModel, tokenizer, prompt: str) -> tuple[list[int], int]:
    """The prompt as the model reads it (after a line end), and how many tokens were cut from
    its left to fit a Transformer's context (0 when it fits)."""
    ids = [tokenizer.eos_id, *tokenizer.encode(prompt)]
    if model.is_recurrent or len(ids) <= model.config.context:
        return ids, 0
    cut = len(ids) - model.config.context
    return ids[cut:], cut


PROMPT_PIECE = 4096  # prompt tokens a recurrent model reads at a time


@torch.inference_mode()
def generate(
    model: LanguageModel,
    tokenizer,
    prompt: str,
    sampling,
    *,
    num_samples: int = 1,
    use_cache: bool = True,
    stop: tuple[str, ...] = (),
    generator=None,
    on_token=None,
) -> list[str]:
    """Complete `prompt` num_samples times. Recurrent models carry their state (constant work
    per token); the Transformer keeps a KV cache, rebuilt from the last half context when full.
    With use_cache=False every step re-reads the prefix (the slow baseline, for benchmarks)."""
    from nlpkit.decoding import sample
    from nlpkit.encoders import initial_cache
    from nlpkit.encoders.state import select_state

    device = next(model.parameters()).device
    ids, _ = prompt_ids(model, tokenizer, prompt)
    limit = model.config.context
    history = torch.tensor([ids], device=device).repeat(num_samples, 1)
    # The Transformer reads the tokens from `start` on; when that would pass its context, start
    # jumps so the last half context remains. Cached and uncached runs follow the same windows,
    # so they produce the same tokens. The tokens are kept as pieces, joined only when a window
    # is read again (not one concatenation a step).
    trail = {"pieces": [history], "length": history.size(1), "start": 0}

    def read_window():
        tokens = torch.cat(trail["pieces"], dim=1)
        trail["pieces"] = [tokens]
        return model(tokens[:, trail["start"] :], initial_cache(model.encoder) if use_cache else None)

    if use_cache:
        if model.is_recurrent:  # a long prompt is read in pieces, carrying the state: flat memory
            state = None
            for piece in history[:1].split(PROMPT_PIECE, dim=1):
                logits, state = model(piece, state)
        else:
            logits, state = model(history[:1], initial_cache(model.encoder))
        state = select_state(state, torch.zeros(num_samples, dtype=torch.long, device=device))
        logits = logits[:, -1].expand(num_samples, -1)
    else:
        logits, state = read_window()
        logits = logits[:, -1]

    def step(token, state):
        trail["pieces"].append(token)
        trail["length"] += 1
        rebuild = not model.is_recurrent and trail["length"] - trail["start"] > limit
        if rebuild:
            trail["start"] = trail["length"] - limit // 2
        if not use_cache or rebuild:
            out, state = read_window()
            return out[:, -1], state
        out, state = model(token, state)
        return out[:, -1], state

    finished = None
    if stop:

        def finished(row, new):
            return any(s in tokenizer.decode(new) for s in stop)

    # Padding and sequence-start symbols are never text; a character model ends lines with
    # "\n", so its unused <eos> symbol is suppressed too.
    suppress = [PAD_ID, BOS_ID] + ([EOS_ID] if tokenizer.eos_id != EOS_ID else [])
    new = sample(step, state, logits, history, sampling, generator, finished, on_token, suppress)
    texts = []
    for tokens in new:
        text = tokenizer.decode(tokens)
        cuts = [text.find(s) for s in stop if s in text]
        texts.append(text[: min(cuts)] if cuts else text)
    return texts
