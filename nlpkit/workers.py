"""Running a model over a large collection on many workers, with an existing engine: a callable
that loads the model once per worker and predicts a batch of rows at a time.

    import ray
    from nlpkit.workers import Predictor

    ray.data.DataContext.get_current().execution_options.preserve_order = True
    texts = ray.data.read_text("reviews/", drop_empty_lines=False)  # one row per line, column "text"
    labels = texts.map_batches(
        Predictor, fn_constructor_kwargs={"model": "sentiment.nlpk"}, concurrency=4, batch_size=512
    )
    labels.write_json("labels/")

Ray Data builds one Predictor per worker (an actor) and calls it with each batch as a dict of
columns; any other engine that hands out column batches (Dask, a pandas loop) can do the same.
The rows come back with the prediction's fields as new columns, one row per input row.
"""

from __future__ import annotations

from nlpkit.errors import NlpkitError


class Predictor:
    """`model`: a model file (any task); `column`: the input column; `threads`: CPU threads per
    worker (1 suits one worker per core); other keywords go to the task's predict()."""

    def __init__(self, model: str, column: str = "text", device: str = "cpu", threads: int = 1, **options):
        import nlpkit

        self.model = nlpkit.load(model, device=device, threads=threads)
        self.column, self.options = column, options

    def __call__(self, batch: dict) -> dict:
        if self.column not in batch:
            raise NlpkitError(f"the batch has no column {self.column!r} (columns: {', '.join(batch)}); set column=")
        inputs = [str(value) for value in batch[self.column]]
        results = list(self.model.predict(inputs, **self.options))
        out = dict(batch)
        for key in results[0] if results else ():
            values = [r[key] for r in results]
            if values == inputs:  # the input echoed back (text, source)
                continue
            out[key if key not in batch else f"predicted_{key}"] = values
        return out
