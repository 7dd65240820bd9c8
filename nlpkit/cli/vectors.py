"""`nlpkit vectors train CORPUS... --out FILE`: word vectors from your own text (gensim)."""

from __future__ import annotations

from dataclasses import dataclass

import typer

from nlpkit.cli.options import command
from nlpkit.options import RunOptions, opt, reuse
from nlpkit.vectors.options import VectorsOptions

app = typer.Typer(help="Word vectors from unlabelled text, for --embeddings (needs: pip install 'nlpkit[vectors]').")


@dataclass
class VectorsCommand(VectorsOptions):
    corpus: list[str] = opt(
        list, "Text files (.gz too): one text a line, words split by spaces.", argument=1, required=True,
        metavar="CORPUS...",
    )  # fmt: skip
    out: str = opt(
        "vectors.txt",
        "Vectors file: word2vec text; binary if it ends in .bin; gzipped if in .gz.",
        flags=("--out", "-o"),
        writes="file",
    )
    quiet: bool = reuse(RunOptions, "quiet")


@command(app, VectorsCommand, "train")
def train(o: VectorsCommand) -> None:
    """Train word2vec or fastText vectors on unlabelled text and write a file that every train
    command reads with --embeddings. Give the text the way the task data is written (same
    tokenization and case), e.g. IMDB reviews for a movie-review classifier."""
    from nlpkit.vectors.train import train_vectors

    train_vectors(o.corpus, o.out, VectorsOptions(**o.pick(VectorsOptions)), quiet=o.quiet)
