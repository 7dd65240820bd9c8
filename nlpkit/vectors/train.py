"""Training word vectors on the user's own unlabelled text with gensim (`nlpkit vectors train`).

nlpkit ships no vectors; this makes them from any text in the form the task data is in (one text
a line, words split by spaces, as the word tokenizer reads them). gensim's word2vec and fastText
are the standard, well-kept implementations, so this is a thin wrapper: read the corpus (again
for each pass), show progress, write a word2vec-format file that `--embeddings` reads.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

from nlpkit.errors import NlpkitError, option
from nlpkit.outputs import check_output
from nlpkit.vectors.options import VectorsOptions

GENSIM_MAX_WORDS = 10_000  # gensim silently cuts a text after this many words: longer ones go in pieces


class Corpus:
    """The corpus files as word lists, re-readable (gensim makes one pass for the vocabulary and
    one per epoch)."""

    def __init__(self, paths: list[str], lowercase: bool, encoding_errors: str = "strict"):
        from nlpkit.data.readers import check_readable

        for path in paths:
            if path == "-":
                raise NlpkitError("vectors train reads its corpus once per epoch: give files, not stdin")
            check_readable(path)
        self.paths, self.lowercase, self.encoding_errors = paths, lowercase, encoding_errors
        self.lines = self.words = 0

    def __iter__(self) -> Iterator[list[str]]:
        from nlpkit.data.readers import iter_lines

        lines = words = 0
        for path in self.paths:
            for line in iter_lines(path, self.encoding_errors):
                tokens = (line.lower() if self.lowercase else line).split()
                lines += 1
                words += len(tokens)
                for start in range(0, len(tokens), GENSIM_MAX_WORDS):
                    yield tokens[start : start + GENSIM_MAX_WORDS]
        self.lines, self.words = lines, words


def train_vectors(paths: list[str], out: str, options: VectorsOptions | None = None, quiet: bool = False) -> dict:
    """Train vectors on the text files `paths` and write them to `out` (word2vec text format;
    binary for a .bin name; gzipped for a name ending in .gz). Returns a summary."""
    options = VectorsOptions.create(vars(options) if options is not None else {})  # checked, however made
    corpus = Corpus(paths, options.lowercase)  # bad inputs and outputs are named before gensim is needed
    check_output(out, paths)
    try:
        from gensim.models import FastText, Word2Vec
        from gensim.models.callbacks import CallbackAny2Vec
    except ImportError:
        raise NlpkitError("vectors train needs gensim: pip install 'nlpkit[vectors]'") from None
    from nlpkit import threads as nthreads
    from nlpkit.console import console, info

    workers = options.threads or nthreads.cores()
    Model = Word2Vec if options.algorithm == "word2vec" else FastText
    model = Model(
        vector_size=options.dim,
        window=options.window,
        min_count=options.min_count,
        sg=int(options.architecture == "skipgram"),
        negative=options.negative,
        workers=workers,
        seed=options.seed,
        max_final_vocab=options.max_vocab or None,
    )
    started = time.perf_counter()
    info(f"counting words in {', '.join(paths)}", quiet)
    model.build_vocab(corpus)
    if not len(model.wv):
        raise NlpkitError(
            f"{', '.join(paths)}: no word occurs {options.min_count} times or more ({option('min_count')}); "
            "nothing to train"
        )
    info(
        f"training {options.algorithm} {options.architecture} vectors: {len(model.wv):,} words "
        f"(of {corpus.words:,} running words in {corpus.lines:,} lines), dimension {options.dim}, "
        f"{options.epochs} epochs, {workers} threads",
        quiet,
    )

    class Progress(CallbackAny2Vec):
        def __init__(self, task):
            self.task, self.done = task, 0

        def on_epoch_end(self, _model):
            bar.advance(self.task)
            self.done += 1
            if not console().is_terminal:  # a log file gets a line per epoch instead of a bar
                info(f"epoch {self.done}/{options.epochs}: {time.perf_counter() - started:,.0f} s", quiet)

    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    columns = (TextColumn("epochs"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Bar(*columns, console=console(), disable=quiet, transient=True) as bar:
        task = bar.add_task("epochs", total=options.epochs)
        model.train(corpus, total_examples=model.corpus_count, epochs=options.epochs, callbacks=[Progress(task)])
    seconds = time.perf_counter() - started
    # beside the target and ending as it does (gensim gzips by the name's suffix), renamed when whole
    target = os.path.realpath(out)
    partial = os.path.join(os.path.dirname(target), f".partial-{os.getpid()}-{os.path.basename(target)}")
    try:
        model.wv.save_word2vec_format(partial, binary=out.removesuffix(".gz").endswith(".bin"))
        os.replace(partial, target)
    except OSError as exc:
        raise NlpkitError(f"{out}: cannot write ({exc.strerror or exc})") from None
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    summary = {
        "out": out,
        "words": len(model.wv),
        "dim": options.dim,
        "running_words": corpus.words,
        "lines": corpus.lines,
        "seconds": round(seconds, 1),
        "algorithm": options.algorithm,
        "architecture": options.architecture,
    }
    info(f"{out}: {len(model.wv):,} vectors of dimension {options.dim} in {seconds:,.0f} s", quiet)
    return summary
