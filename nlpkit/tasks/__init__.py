"""The tasks, and the one registry that maps their names to their classes.

Each task is a package (lm/, sentiment/, ner/, translate/) holding its options (options.py,
torch-free: the CLI builds its flags from them), its task class (task.py, implementing
nlpkit.tasks.contract.Task) and its model modules (model.py and what the task needs beside).
What tasks share sits here: the contract, the training lifecycle, model-file glue (files.py) and
the language models other tasks start from (transfer.py). Adding a task means a package, a thin
CLI module and a line here.
"""

from __future__ import annotations

import importlib

from nlpkit.errors import NlpkitError

# task name -> "module:Class"; the model-file task names ("classifier", ...) map here too.
REGISTRY = {
    "lm": "nlpkit.tasks.lm.task:LanguageModelTask",
    "sentiment": "nlpkit.tasks.sentiment.task:SentimentTask",
    "ner": "nlpkit.tasks.ner.task:NERTask",
    "translate": "nlpkit.tasks.translate.task:TranslationTask",
}
FILE_TASKS = {"lm": "lm", "classifier": "sentiment", "tagger": "ner", "translation": "translate"}


def get(name: str):
    """The Task class of a task name ("ner") or of a model file's task ("tagger")."""
    if not isinstance(name, str):
        raise NlpkitError(f"expected a task name ({', '.join(REGISTRY)}), got {name!r}")
    key = FILE_TASKS.get(name, name)
    if key not in REGISTRY:
        raise NlpkitError(f"unknown task {name!r}; the tasks are {', '.join(REGISTRY)}")
    module, cls = REGISTRY[key].split(":")
    return getattr(importlib.import_module(module), cls)
