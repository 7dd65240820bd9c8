import pytest
import torch

import nlpkit as api
from nlpkit import device as dev
from tests.conftest import ROOT, TINY_API

CPU = torch.device("cpu")


@pytest.mark.parametrize(
    ("precision", "dtype"), [("auto", torch.float32), ("fp32", torch.float32), ("bf16", torch.bfloat16)]
)
def test_autocast_on_the_cpu_only_when_bf16_is_asked_for(precision, dtype):
    layer = torch.nn.Linear(4, 3)
    with dev.autocast(CPU, precision):
        out = layer(torch.randn(2, 4))
    assert out.dtype == dtype and layer.weight.dtype == torch.float32


def test_bf16_on_a_cpu_that_emulates_it_is_warned_about(monkeypatch):
    monkeypatch.setattr(dev, "cpu_has_bf16", lambda: False)
    assert "precision bf16: this CPU has no native bf16" in dev.precision_warning(CPU, "bf16")
    assert dev.precision_warning(CPU, "auto") is None and dev.precision_warning(CPU, "fp32") is None
    monkeypatch.setattr(dev, "cpu_has_bf16", lambda: True)
    assert dev.precision_warning(CPU, "bf16") is None
    monkeypatch.setattr(dev, "cpu_has_bf16", lambda: None)  # flags unreadable: say nothing rather than guess
    assert dev.precision_warning(CPU, "bf16") is None


def test_cpu_flags_are_read_once_and_answer_a_bool_or_none():
    assert dev.cpu_has_bf16() in (True, False, None)
    assert dev.cpu_has_bf16.cache_info().currsize == 1


def test_every_task_trains_under_bf16_and_keeps_float32_weights(tmp_path):
    data = ROOT / "data"
    runs = {
        "lm": dict(train=data / "sample.txt", valid=str(data / "sample.valid.txt"), context=16, batch_size=8),
        "ner": dict(train=data / "ner.train.conll", valid=data / "ner.valid.conll", crf=True, embed=16, char_size=8),
        "sentiment": dict(train=data / "sentiment.train.tsv", valid=data / "sentiment.valid.tsv", tokenizer="word"),
        "translate": dict(
            src=data / "translate.train.en", tgt=data / "translate.train.fr", encoder="gru", tokenizer="word",
            vocab="separate", batch_tokens=512,
        ),
    }  # fmt: skip
    for task, given in runs.items():
        model = api.train(task, out=tmp_path / f"{task}.nlpk", max_steps=6, precision="bf16", **TINY_API, **given)
        assert model.meta["recipe"]["precision"] == "bf16"
        assert all(p.dtype == torch.float32 for p in model.model.parameters())
        assert all(torch.isfinite(p).all() for p in model.model.parameters())


def test_a_run_may_resume_in_another_precision(tmp_path):
    common = dict(
        train=ROOT / "data" / "sample.valid.txt", out=tmp_path / "r.nlpk", context=16, batch_size=4, **TINY_API
    )
    api.train("lm", max_steps=2, precision="bf16", **common)
    model = api.train("lm", max_steps=4, resume=True, precision="fp32", **common)
    assert model.result.steps == 4 and model.meta["recipe"]["precision"] == "fp32"


def test_bf16_applies_on_cuda_unless_turned_off_and_on_the_cpu_only_when_asked():
    cuda = torch.device("cuda")
    assert dev.uses_bf16(cuda, "auto") and dev.uses_bf16(cuda, "bf16") and not dev.uses_bf16(cuda, "fp32")
    assert not dev.uses_bf16(CPU, "auto") and dev.uses_bf16(CPU, "bf16") and not dev.uses_bf16(CPU, "fp32")
