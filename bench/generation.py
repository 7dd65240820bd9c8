"""Generation speed: new tokens per second for a 6-layer d=384 Transformer and a 2x512 LSTM,
at batch 1 and 16, with and without the cache (the KV cache; the carried recurrent state).

Weights are random: speed does not depend on them. Greedy decoding, 64-character vocabulary,
a 32-token prompt and 256 new tokens (the Transformer's context is 256, so the uncached run
re-reads up to 256 tokens a step).

    python bench/generation.py
"""

import time

import torch
from common import machine, write

from nlpkit.decoding import SamplingConfig
from nlpkit.encoders import EncoderConfig
from nlpkit.tasks.lm import model as lm
from nlpkit.text.tokenizers import VocabTokenizer

MODELS = {
    "transformer 6x384": EncoderConfig(kind="transformer", hidden_size=384, layers=6, heads=6),
    "lstm 2x512": EncoderConfig(kind="lstm", hidden_size=512, layers=2),
}


def main() -> None:
    torch.manual_seed(0)
    tok = VocabTokenizer("char", ["<pad>", "<unk>", "<bos>", "<eos>", "\n", *[chr(c) for c in range(65, 65 + 59)]])
    prompt = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcde"
    new = 256
    rows, results = [], []
    for name, enc in MODELS.items():
        model = lm.build_model(
            lm.LMConfig(vocab_size=tok.vocab_size, embed_size=enc.hidden_size, encoder=enc, context=256)
        ).eval()
        for batch in (1, 16):
            for cache in (True, False):
                sampling = SamplingConfig(max_new_tokens=new, temperature=0)
                lm.generate(
                    model,
                    tok,
                    prompt,
                    SamplingConfig(max_new_tokens=8, temperature=0),
                    num_samples=batch,
                    use_cache=cache,
                )  # warm-up
                t0 = time.perf_counter()
                lm.generate(model, tok, prompt, sampling, num_samples=batch, use_cache=cache)
                dt = time.perf_counter() - t0
                tps = batch * new / dt
                results.append(
                    {
                        "model": name,
                        "batch": batch,
                        "cache": cache,
                        "seconds": round(dt, 3),
                        "tokens_per_s": round(tps, 1),
                    }
                )
                rows.append(f"| {name} | {batch} | {'yes' if cache else 'no'} | {tps:,.0f} | {dt:.2f} |")
                print(rows[-1], flush=True)
    m = machine()
    md = f"""# Generation speed (random weights, greedy, 32-token prompt, 256 new tokens)

Measured {m["date"]} on {m["cpu"]}, {m["cores"]} cores, torch {m["torch"]}. Command: `python bench/generation.py`.
"Cache no" re-reads the whole prefix (Transformer: the last 256 tokens at most) for every new token.

| model | batch | cache | new tokens/s (all rows) | seconds |
|---|---:|---|---:|---:|
""" + "\n".join(rows)
    write("generation", {"benchmark": "generation", "machine": m, "results": results}, md)


if __name__ == "__main__":
    main()
