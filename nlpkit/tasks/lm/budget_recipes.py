"""The language model's measured recipes for a time budget (nlpkit.budget_recipes chooses)."""

from nlpkit.budget_recipes import BudgetRecipe

# found by `nlpkit tune` (bench/tune_ptb.py), rounded: lr 25.2, dropout 0.072
TUNED_WORD_MODEL = {"encoder": "lstm", "layers": 1, "hidden": 200, "context": 20, "batch_size": 32, "optimizer": "sgd",
                    "lr": 25.2, "schedule": "linear", "clip": 0.25, "dropout": 0.072, "adaptive_softmax": "2000,6000"}  # fmt: skip

# found by `nlpkit tune` at 10 minutes (bench/tune_ptb.py --final 10m): the 5-minute model with the AWD-LSTM
# dropouts in place of its plain dropout; it scored better than the same model without them and than two layers
TUNED_WORD_MODEL_10M = {**TUNED_WORD_MODEL, "dropout": 0.0, "input_dropout": 0.1, "output_dropout": 0.15,
                        "embedding_dropout": 0.05, "weight_drop": 0.1}  # fmt: skip

# two layers with the AWD-LSTM dropouts (not their AR/TAR, variable BPTT or averaged SGD): what keeps
# improving for 40 epochs of PTB in 30 minutes, where the one-layer recipes overfit
WORD_MODEL_30M = {"encoder": "lstm", "layers": 2, "hidden": 200, "context": 35, "batch_size": 20, "optimizer": "sgd",
                  "lr": 20.0, "clip": 0.25, "dropout": 0.0, "input_dropout": 0.2, "layer_dropout": 0.1,
                  "output_dropout": 0.25, "embedding_dropout": 0.05, "weight_drop": 0.15,
                  "adaptive_softmax": "2000,6000"}  # fmt: skip

RECIPES = (
    BudgetRecipe(
        "lm-char-5m",
        300,
        # found by `nlpkit tune` (bench/tune.py), rounded: nanoGPT's CPU model one layer shorter, with tied
        # embeddings, batches of 32 and a rate six times higher: more text per second, bigger steps
        {
            "encoder": "transformer",
            "layers": 3,
            "hidden": 128,
            "heads": 4,
            "positions": "learned",
            "dropout": 0.0,
            "context": 64,
            "batch_size": 32,
            "lr": 6e-3,
            "weight_decay": 0.01,
            "clip": 1.0,
            "warmup": 100,
            "tie_weights": True,
        },
        "Tiny Shakespeare, 5 min: valid loss 1.560 nats/char (the tuned run 1.556), the plain defaults 1.728 "
        "(bench/results/tune-shakespeare-char.md); at 10 min 1.511, the plain defaults 1.607 "
        "(bench/results/budget-defaults-shakespeare-10m.md); not used from 30 min: there 1.558 against the plain "
        "defaults' 1.460 (bench/results/budget-defaults-30m.md)",
        level="char",
        shorter=True,  # a small model taking many cheap steps; the plain defaults' 2x256 LSTM takes fewer
        # without dropout the small model overfits in 30 minutes (train loss 1.15, validation flat at 1.56 from
        # a third of the run), while the plain defaults' LSTM was still improving
        until_s=1800,
    ),  # fmt: skip
    BudgetRecipe(
        "lm-word-5m",
        300,
        # one 200-unit LSTM layer, short windows, larger batches, little dropout and a linear decay take more
        # steps in five minutes than the hand recipe's two layers
        TUNED_WORD_MODEL,
        "PTB, 5 min: test perplexity 107.2 (the tuned run 106.5), the plain defaults 640.8 (bench/results/tune-ptb-word.md)",
        level="word",
        min_mb=2.0,  # a vocabulary past the cutoffs
        shorter=True,  # at 276 s: test perplexity 132.9 for a recipe of this kind, 643 for the plain defaults
    ),  # fmt: skip
    BudgetRecipe(
        "lm-word-10m",
        600,
        # at 10 minutes the 5-minute recipe overfits (test perplexity 115.1); locked dropouts and DropConnect pay
        TUNED_WORD_MODEL_10M,
        "PTB, 10 min: test perplexity 99.3 (the tuned run 99.7), the plain defaults 369.6 (bench/results/tune-ptb-word-10m.md)",
        level="word",
        min_mb=2.0,
    ),  # fmt: skip
    BudgetRecipe(
        "lm-word-30m",
        1800,
        # past 10 minutes the one-layer recipe overfits (lm-word-10m at 30 min: 111.5, worse than at 10); two
        # layers keep improving for 40 epochs, and the AWD-LSTM dropouts beat a plain dropout of 0.25 there
        # (AR/TAR, variable BPTT and averaged SGD, which halve the throughput, are left out)
        WORD_MODEL_30M,
        "PTB, 30 min: test perplexity 87.7, the same model with a plain dropout of 0.25 89.9 "
        "(bench/results/budget-defaults-ptb-30m-awd-pair.md), where lm-word-10m scored 111.5 "
        "(bench/results/budget-defaults-ptb-30m.md)",
        level="word",
        min_mb=2.0,
    ),  # fmt: skip
    BudgetRecipe(
        "lm-subword-5m",
        300,
        # the word recipe's model with a full softmax: a subword vocabulary is small, and may be smaller
        # than the word recipe's adaptive cutoffs
        {k: v for k, v in TUNED_WORD_MODEL.items() if k != "adaptive_softmax"},
        "PTB with bpe:8000, 5 min: test perplexity per subword 49.1, the plain defaults 259.7 "
        "(bench/results/budget-defaults-subword.md); at 10 min 40.4, the plain defaults 125.3 "
        "(bench/results/budget-defaults-subword-10m.md); at 30 min 43.6, the plain defaults 54.1 "
        "(bench/results/budget-defaults-30m-b.md), where lm-subword-30m takes over",
        level="subword",
        min_mb=2.0,
        shorter=True,  # the word recipe's model, which serves shorter budgets there
    ),  # fmt: skip
    BudgetRecipe(
        "lm-subword-30m",
        1800,
        # lm-subword-5m memorises the text in 30 minutes (training loss 2.89 against 3.91 nats on validation);
        # the 30-minute word model with a full softmax does not (3.53 against 3.73)
        {k: v for k, v in WORD_MODEL_30M.items() if k != "adaptive_softmax"},
        "PTB with bpe:8000, 30 min: test perplexity per subword 36.5, lm-subword-5m 43.1 "
        "(bench/results/budget-defaults-ptb-bpe-30m-awd-pair.md)",
        level="subword",
        min_mb=2.0,
    ),  # fmt: skip
)
