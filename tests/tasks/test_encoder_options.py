"""One rule builds every task's encoder from its options (EncoderConfig.from_options): dropout
inside every Transformer block and between recurrent layers, none for a single recurrent layer
(nothing lies between), bidirectional only where a recurrent task asks for it."""

import pytest

import nlpkit
from tests.conftest import ROOT

DATA = ROOT / "data"
TASKS = {
    "lm": dict(train=DATA / "sample.valid.txt", context=16, batch_size=4),
    "sentiment": dict(train=DATA / "sentiment.valid.tsv", tokenizer="word", batch_size=4),
    "ner": dict(train=DATA / "ner.valid.conll", batch_size=4),
    "translate": dict(
        src=DATA / "translate.valid.en", tgt=DATA / "translate.valid.fr", tokenizer="word", batch_tokens=64
    ),
}


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize(
    ("encoder", "layers", "kept"), [("transformer", 1, True), ("lstm", 1, False), ("gru", 2, True)]
)
def test_every_task_builds_its_encoder_by_one_rule(task, encoder, layers, kept, tmp_path):
    model = nlpkit.train(
        task, **TASKS[task], encoder=encoder, layers=layers, hidden=8, heads=2, dropout=0.3, max_steps=1,
        out=tmp_path / "m.nlpk", quiet=True, device="cpu",
    )  # fmt: skip
    enc = model.model.config.encoder
    assert (enc.kind, enc.layers, enc.dropout) == (encoder, layers, 0.3 if kept else 0.0)
    assert enc.causal == (task == "lm")
    assert enc.bidirectional == (encoder != "transformer" and task != "lm")  # ner and sentiment: on by default
