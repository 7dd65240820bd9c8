"""`nlpkit vectors train CORPUS... --out FILE`: word vectors from your own text (gensim)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

app = typer.Typer(help="Word vectors from unlabelled text, for --embeddings (needs: pip install 'nlpkit[vectors]').")


class Algorithm(str, Enum):
    word2vec = "word2vec"
    fasttext = "fasttext"


class Architecture(str, Enum):
    skipgram = "skipgram"
    cbow = "cbow"


@app.command("train")
def train(
    corpus: Annotated[
        list[str],
        typer.Argument(metavar="CORPUS...", help="Text files (.gz too): one text a line, words split by spaces."),
    ],
    out: Annotated[
        str,
        typer.Option("--out", "-o", help="Vectors file: word2vec text; binary if it ends in .bin; gzipped if in .gz."),
    ] = "vectors.txt",
    algorithm: Annotated[
        Algorithm, typer.Option(help="word2vec, or fasttext (subword n-grams help rare words).")
    ] = Algorithm.word2vec,
    architecture: Annotated[
        Architecture, typer.Option(help="skipgram (better for rare words) or cbow (faster).")
    ] = Architecture.skipgram,
    dim: Annotated[int, typer.Option(min=1, max=4096, help="Vector size.")] = 300,
    window: Annotated[int, typer.Option(min=1, help="Context words on each side.")] = 5,
    min_count: Annotated[int, typer.Option(min=1, help="Leave out words seen fewer times.")] = 5,
    epochs: Annotated[int, typer.Option(min=1, help="Passes over the corpus.")] = 5,
    negative: Annotated[int, typer.Option(min=1, help="Negative samples per word.")] = 5,
    lowercase: Annotated[bool, typer.Option(help="Lower-case the text first.")] = False,
    max_vocab: Annotated[int, typer.Option(min=0, help="Keep at most this many words, the commonest (0: all).")] = 0,
    threads: Annotated[int, typer.Option(min=0, help="Worker threads (0: every core).")] = 0,
    seed: Annotated[int, typer.Option(help="Random seed (runs repeat exactly only with --threads 1).")] = 1,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Nothing on stderr but errors.")] = False,
) -> None:
    """Train word2vec or fastText vectors on unlabelled text and write a file that every train
    command reads with --embeddings. Give the text the way the task data is written (same
    tokenization and case), e.g. IMDB reviews for a movie-review classifier."""
    from nlpkit.vectors.train import VectorsOptions, train_vectors

    options = VectorsOptions(
        algorithm=algorithm.value,
        architecture=architecture.value,
        dim=dim,
        window=window,
        min_count=min_count,
        epochs=epochs,
        negative=negative,
        lowercase=lowercase,
        max_vocab=max_vocab,
        threads=threads,
        seed=seed,
    )
    train_vectors(corpus, out, options, quiet=quiet)
