"""Combining trained sentiment models into one ensemble model (`nlpkit sentiment ensemble`,
`nlpkit.ensemble`): the checks that make members compatible, and the record each leaves.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from nlpkit.errors import NlpkitError
from nlpkit.tasks.sentiment.config import MAX_MEMBERS, EnsembleConfig
from nlpkit.tasks.sentiment.ensemble_model import ClassifierEnsemble
from nlpkit.tasks.sentiment.task import SentimentTask


def combine(models: list, names: list[str]):
    """One SentimentTask averaging the classifiers `models` (SentimentTasks; an ensemble among
    them brings its members). `names` say where each came from, for messages and the file's
    record. Refused in one line: fewer than two, another task, an exported graph, a quantized
    model, labels or tokenizers that differ."""
    if len(models) < 2:
        raise NlpkitError("an ensemble needs at least two sentiment models")
    first, first_name = models[0], names[0]
    classifiers, records = [], []
    for model, name in zip(models, names, strict=True):
        if not isinstance(model, SentimentTask):
            raise NlpkitError(
                f"{name}: a {getattr(model, 'name', type(model).__name__)} model; ensembles are of sentiment models"
            )
        if not model.in_torch():  # a .nlpk that `runtime="auto"` runs elsewhere is run in PyTorch here
            raise NlpkitError(f"{name}: an exported ONNX graph; give the .nlpk model it came from")
        if model.quantized:
            raise NlpkitError(f"{name}: loaded quantized for inference; load it with quantize='none'")
        if model.labels != first.labels:
            raise NlpkitError(f"{name}: labels {model.labels} differ from {first_name}'s {first.labels}")
        if not same_tokenizer(model.tokenizer, first.tokenizer):
            raise NlpkitError(
                f"{name}: its tokenizer differs from {first_name}'s; train the members on the same data "
                "with the same --tokenizer and --min-freq (and vectors file, if any) so that they share one"
            )
        parts = list(model.model.members) if isinstance(model.model, ClassifierEnsemble) else [model.model]
        classifiers += [copy.deepcopy(p).cpu() for p in parts]  # the caller's models stay as they are
        records += model.meta["ensemble"] if "ensemble" in model.meta else [member_record(model, name)]
    if len(classifiers) > MAX_MEMBERS:
        raise NlpkitError(f"an ensemble has at most {MAX_MEMBERS} members; these models hold {len(classifiers)}")
    ensemble = ClassifierEnsemble(EnsembleConfig([c.config for c in classifiers]))
    ensemble.members = nn.ModuleList(classifiers)
    meta = {"ensemble": records}
    data = {r.get("data", {}).get("sha256") for r in records}
    if len(data) == 1 and None not in data:  # all trained on the same data: the file says so as a single model would
        meta["data"] = records[0]["data"]
    return SentimentTask(ensemble.eval(), first.tokenizer, meta, torch.device("cpu"))


def same_tokenizer(a, b) -> bool:
    from nlpkit.text.tokenizers import tokenizer_to_file

    (meta_a, blob_a), (meta_b, blob_b) = tokenizer_to_file(a), tokenizer_to_file(b)
    return (
        meta_a == meta_b and blob_a.keys() == blob_b.keys() and all(torch.equal(blob_a[k], blob_b[k]) for k in blob_a)
    )


def member_record(model, name: str) -> dict:
    """What the ensemble's file keeps of a member: where it came from, its data, its recipe and
    its validation scores."""
    metrics = model.meta.get("metrics", {})
    record = {"source": name, "data": model.meta.get("data", {}), "recipe": model.meta.get("recipe", {})}
    best = metrics.get("train", {}).get("best") if isinstance(metrics.get("train"), dict) else None
    if best:
        record["valid"] = best
    return record
