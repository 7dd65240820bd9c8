"""The language model's measured recipes for a time budget (nlpkit.budget_recipes chooses)."""

from nlpkit.budget_recipes import BudgetRecipe

RECIPES = (
    BudgetRecipe(
        "lm-char-5m",
        300,
        # nanoGPT's CPU model in nlpkit: a small Transformer that takes many steps in a short budget
        {
            "encoder": "transformer",
            "layers": 4,
            "hidden": 128,
            "heads": 4,
            "positions": "learned",
            "dropout": 0.0,
            "context": 64,
            "batch_size": 12,
            "lr": 1e-3,
            "weight_decay": 0.1,
            "clip": 1.0,
            "warmup": 100,
        },
        "Tiny Shakespeare, 5 min: valid loss 1.600 nats/char, the plain defaults 1.716 "
        "(bench/results/tune-shakespeare-char.md)",
        level="char",
    ),  # fmt: skip
    BudgetRecipe(
        "lm-word-5m",
        300,
        # a 2x200 LSTM with SGD and an adaptive softmax: ten times the tokens/s of the default model
        {
            "encoder": "lstm",
            "layers": 2,
            "hidden": 200,
            "context": 35,
            "batch_size": 20,
            "optimizer": "sgd",
            "lr": 20.0,
            "clip": 0.25,
            "dropout": 0.25,
            "adaptive_softmax": "2000,6000",
        },
        "PTB, 5 min: test perplexity 132.9, the plain defaults 643 (bench/results/budget-defaults.md)",
        level="word",
        min_mb=2.0,  # a vocabulary past the cutoffs
    ),  # fmt: skip
)
