"""The options of `nlpkit vectors train` and nlpkit.vectors.train.train_vectors, declared once
(flags are generated from these). Torch- and gensim-free: the CLI builds its flags at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from nlpkit.options import Options, opt


@dataclass
class VectorsOptions(Options):
    """`nlpkit vectors train` and train_vectors()."""

    algorithm: str = opt(
        "word2vec", "word2vec, or fasttext (subword n-grams help rare words).", choices=("word2vec", "fasttext")
    )
    architecture: str = opt(
        "skipgram", "skipgram (better for rare words) or cbow (faster).", choices=("skipgram", "cbow")
    )
    dim: int = opt(300, "Vector size.", min=1, max=4096)
    window: int = opt(5, "Context words on each side.", min=1)
    min_count: int = opt(5, "Leave out words seen fewer times.", min=1)
    epochs: int = opt(5, "Passes over the corpus.", min=1)
    negative: int = opt(5, "Negative samples per word.", min=1)
    lowercase: bool = opt(False, "Lower-case the text first.")
    max_vocab: int = opt(0, "Keep at most this many words, the commonest (0: all).", min=0)
    threads: int = opt(0, "Worker threads (0: every core).", min=0, max=4096)
    seed: int = opt(1, "Random seed (runs repeat exactly only with --threads 1).", min=0, max=2**32 - 1)
