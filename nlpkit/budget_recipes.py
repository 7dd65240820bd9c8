"""Defaults chosen for the budget. Trained for a few minutes, the plain defaults are far from
what the same engine reaches with a recipe measured for that budget (PTB, 5 minutes: test
perplexity 643 against 133). So when `train` gets a time budget and no model-size option, it
starts from the recipe of its task's table (nlpkit/tasks/TASK/budget_recipes.py) measured for
the tokenizer level, the data size and the budget; the options the user gives override its
values, and `budget_recipe` names one, or turns the choice off.

A recipe is used for the budget it was measured at and longer ones (the longest such one wins)
up to a budget where it was measured worse than the plain defaults (`until_s`),
for shorter ones only when the table has none shorter and the recipe says it serves them
(`shorter`: a small model that takes many cheap steps does; a 10-minute sentiment or NER recipe,
measured at 5 minutes, lost to the plain defaults there); for data at least as large as it asks.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field

from nlpkit.errors import NlpkitError, option

SHAPE = ("encoder", "layers", "hidden", "embed", "heads", "init_from")  # a user who sets one chose the model
AUTO, OFF = "auto", "off"


@dataclass(frozen=True)
class BudgetRecipe:
    name: str
    budget_s: float  # the final budget it was measured at
    values: dict
    measured: str  # what it scored against the plain defaults at that budget, and where that is written
    level: str | None = None  # tokenizer level: char | word | subword; None: any
    min_mb: float = 0.0  # training text it needs, in MB (a word model's adaptive softmax needs a vocabulary)
    shorter: bool = False  # also used for shorter budgets when the table has no shorter recipe
    until_s: float | None = None  # not used for budgets this long or longer (it lost there); None: no limit
    notes: dict = field(default_factory=dict)


def table(task_name: str) -> tuple[BudgetRecipe, ...]:
    """The task's measured recipes (none for a task without a table)."""
    try:
        module = importlib.import_module(f"nlpkit.tasks.{task_name}.budget_recipes")
    except ModuleNotFoundError:
        return ()
    return tuple(module.RECIPES)


def named(task_name: str, name: str) -> BudgetRecipe:
    for recipe in table(task_name):
        if recipe.name == name:
            return recipe
    known = ", ".join(r.name for r in table(task_name)) or "none for this task"
    raise NlpkitError(f"{option('budget_recipe')}: no recipe {name!r} (auto, off, or one of: {known})")


def tokenizer_level(spec: str) -> str:
    kind = str(spec).split(":", 1)[0]
    return {"bpe": "subword", "unigram": "subword"}.get(kind, kind)


def data_mb(train) -> float | None:
    """The size of the training files in MB; None when it cannot be known before reading (stdin,
    a `datasets` source)."""
    files = [train] if isinstance(train, str) else list(train or [])
    if not files or "-" in files:
        return None
    try:
        return sum(os.path.getsize(f) for f in files) / 1e6
    except (OSError, TypeError, ValueError):
        return None  # reading the data names the problem


def choose(task_name: str, level: str, budget_s: float, mb: float | None) -> BudgetRecipe | None:
    """The recipe for this tokenizer level, data size (None: unknown) and budget, if any."""
    fits = [
        r
        for r in table(task_name)
        if r.level in (None, level) and r.min_mb <= (mb or 0.0) and (r.until_s is None or budget_s < r.until_s)
    ]
    if not fits:
        return None
    within = [r for r in fits if r.budget_s <= budget_s]
    if within:
        return max(within, key=lambda r: (r.budget_s, r.min_mb, r.level is not None))
    below = [r for r in fits if r.shorter]
    return min(below, key=lambda r: (r.budget_s, -r.min_mb)) if below else None


def resolve(task_cls, values: dict) -> tuple[dict, BudgetRecipe | None]:
    """`values` (the recipe file's and the user's options) over the budget recipe they call for,
    with `budget_recipe` set to the one applied (off: none), so that the model's recorded recipe
    repeats the run exactly."""
    from nlpkit.option_parsing import parse_duration

    wanted = str(values.get("budget_recipe", AUTO))
    recipe = None
    if wanted == AUTO and values.get("resume"):
        recipe = _resumed(task_cls, values)
    elif wanted == AUTO and values.get("time_budget") and not any(k in values for k in SHAPE):
        try:
            budget = parse_duration(str(values["time_budget"]))
        except ValueError:
            budget = None  # the option check names it
        default_tokenizer = getattr(task_cls.Options, "tokenizer", "word")
        level = tokenizer_level(values.get("tokenizer", default_tokenizer))
        if budget:
            recipe = choose(task_cls.name, level, budget, data_mb(values.get("train")))
    elif wanted not in (AUTO, OFF):
        recipe = named(task_cls.name, wanted)
    if recipe is None:
        return {**values, "budget_recipe": OFF}, None
    base = {
        k: v for k, v in recipe.values.items() if not (k == "embed" and values.get("embeddings"))
    }  # vectors size it
    return {**base, **values, "budget_recipe": recipe.name}, recipe


def _resumed(task_cls, values: dict) -> BudgetRecipe | None:
    """A resumed run goes on with the recipe its checkpoint started from, whatever budget it has now."""
    from nlpkit.checkpoints import path_for
    from nlpkit.modelfile import read_header

    out = values.get("out") or task_cls.Options.__dataclass_fields__["out"].default
    try:
        recorded = (read_header(str(path_for(str(out)))).get("recipe") or {}).get("budget_recipe")
    except (NlpkitError, OSError, AttributeError):
        return None  # no checkpoint, or not a readable one: training names the problem
    if not recorded or recorded in (AUTO, OFF):
        return None
    return next((r for r in table(task_cls.name) if r.name == recorded), None)


def describe(recipe: BudgetRecipe) -> str:
    """The start-up line's words for a recipe (`nlpkit info MODEL --recipe` prints its values)."""
    return (
        f"starting from the budget recipe {recipe.name} ({recipe.measured}); the options you give override it, "
        f"{option('budget_recipe')} off trains the plain defaults"
    )
