"""CTranslate2 exports (nlpkit.export.ct2, ct2_runtime): a Transformer translation model or language
model exported to a directory translates and generates exactly as its .nlpk does, through the API
and the CLI, and every export or directory CTranslate2 cannot run well is refused in one line."""

import json
import shutil
from pathlib import Path

import pytest

import nlpkit
from nlpkit.errors import NlpkitError

from ..conftest import ROOT
from ..conftest import nlpkit as run

pytestmark = pytest.mark.extras  # CI runs these again with the extras blocked (.ci/run)

SOURCES = (ROOT / "data" / "translate.valid.en").read_text(encoding="utf-8").splitlines()[:24] + ["", "zzz qqq"]
TINY = dict(device="cpu", quiet=True, seed=0, max_steps=25)


@pytest.fixture(scope="module")
def translator(tmp_path_factory):
    """A tiny Transformer translator whose embedding is narrower than its width (the projections
    are folded into CTranslate2's tables), and its export."""
    pytest.importorskip("ctranslate2")
    folder = tmp_path_factory.mktemp("ct2")
    out = folder / "t.nlpk"
    nlpkit.train(
        "translate", src=ROOT / "data" / "translate.train.en", tgt=ROOT / "data" / "translate.train.fr", out=out,
        encoder="transformer", layers=2, hidden=32, embed=24, heads=4, ff_size=48, tokenizer="bpe:300",
        batch_tokens=512, **TINY,
    )  # fmt: skip
    from nlpkit.export.ct2 import export_file

    target, _ = export_file(out, folder / "t-ct2")
    return out, target


@pytest.fixture(scope="module")
def language_model(tmp_path_factory):
    """A tiny Transformer LM, learned positions, tied output through a projection."""
    pytest.importorskip("ctranslate2")
    folder = tmp_path_factory.mktemp("ct2lm")
    out = folder / "lm.nlpk"
    nlpkit.train(
        "lm", train=ROOT / "data" / "sample.txt", out=out, encoder="transformer", layers=2, hidden=32, embed=16,
        heads=2, context=24, positions="learned", tie_weights=True, batch_size=8, **TINY,
    )  # fmt: skip
    from nlpkit.export.ct2 import export_file

    target, _ = export_file(out, folder / "lm-ct2")
    return out, target


@pytest.mark.parametrize("beam, n_best", [(1, 1), (4, 3)])
def test_translations_and_scores_are_those_of_the_nlpk(translator, beam, n_best):
    torch_model, ct2_model = nlpkit.load(translator[0], device="cpu", runtime="torch"), nlpkit.load(translator[1])
    want = list(torch_model.predict(SOURCES, beam=beam, n_best=n_best))
    have = list(ct2_model.predict(SOURCES, beam=beam, n_best=n_best))
    assert [h["translations"][k]["text"] for h in have for k in range(len(h["translations"]))] == [
        w["translations"][k]["text"] for w in want for k in range(len(w["translations"]))
    ]
    for h, w in zip(have, want, strict=True):
        for a, b in zip(h["translations"], w["translations"], strict=True):
            assert abs(a["score"] - b["score"]) < 1e-3


def test_alignments_and_unknown_replacement_agree(translator):
    torch_model, ct2_model = nlpkit.load(translator[0], device="cpu", runtime="torch"), nlpkit.load(translator[1])
    want = list(torch_model.predict(SOURCES[:6], alignments=True, replace_unk=True))
    have = list(ct2_model.predict(SOURCES[:6], alignments=True, replace_unk=True))
    for h, w in zip(have, want, strict=True):
        assert h["translation"] == w["translation"]
        assert h["alignment"]["pairs"] == w["alignment"]["pairs"]
        for row_h, row_w in zip(h["alignment"]["attention"], w["alignment"]["attention"], strict=True):
            assert max(abs(a - b) for a, b in zip(row_h, row_w, strict=True)) < 1e-3


def test_int8_export_translates_close_to_float(translator, tmp_path):
    from nlpkit.export.ct2 import export_file

    target, wrote = export_file(translator[0], tmp_path / "int8", int8=True)
    assert wrote["int8"] and (target / "model.bin").stat().st_size < (translator[1] / "model.bin").stat().st_size
    float_model, int8_model = nlpkit.load(translator[1]), nlpkit.load(target)
    found = list(int8_model.predict(SOURCES))
    assert len(found) == len(SOURCES)
    # the float model's translations scored by both engines: int8 moves log-probabilities a little
    pairs = [
        (s, r["translation"])
        for s, r in zip(SOURCES, float_model.predict(SOURCES), strict=True)
        if s and r["translation"]
    ]
    src = [[str(i) for i in float_model.tokenizer.src.encode(s)] + ["3"] for s, _ in pairs]
    tgt = [[str(i) for i in float_model.tokenizer.tgt.encode(t)] for _, t in pairs]
    per_token = []
    for a, b in zip(
        float_model.model.engine.score_batch(src, tgt), int8_model.model.engine.score_batch(src, tgt), strict=True
    ):
        per_token += [abs(x - y) for x, y in zip(a.log_probs, b.log_probs, strict=True)]
    assert sum(per_token) / len(per_token) < 0.05


def test_generation_is_that_of_the_nlpk_across_context_slides(language_model):
    torch_model, ct2_model = (
        nlpkit.load(language_model[0], device="cpu", runtime="torch"),
        nlpkit.load(language_model[1]),
    )
    for options in (
        dict(max_new_tokens=60, temperature=0),  # slides twice past the 24-token context
        dict(max_new_tokens=30, temperature=0, num_samples=3),
        dict(max_new_tokens=80, temperature=0, stop=["e"]),
    ):
        for prompt in ("The ", "", "x" * 40):  # a prompt longer than the context is cut the same way
            assert ct2_model.generate(prompt, **options) == torch_model.generate(prompt, **options), (options, prompt)


def test_scores_and_perplexity_are_those_of_the_nlpk(language_model):
    torch_model, ct2_model = (
        nlpkit.load(language_model[0], device="cpu", runtime="torch"),
        nlpkit.load(language_model[1]),
    )
    lines = ["The harbour was quiet.", "", "x" * 60]  # the last one is longer than the context
    for want, have in zip(torch_model.predict(lines), ct2_model.predict(lines), strict=True):
        assert have["tokens"] == want["tokens"] and abs(have["loglik"] - want["loglik"]) < 1e-3
    text = ROOT / "data" / "sample.valid.txt"
    want, have = torch_model.evaluate(text, batch_size=4), ct2_model.evaluate(text, batch_size=4)
    assert have["tokens"] == want["tokens"] and abs(have["loss"] - want["loss"]) < 1e-4


def test_seeded_sampling_repeats(language_model):
    model = nlpkit.load(language_model[1])
    first = model.generate("The", max_new_tokens=20, temperature=0.9, top_k=8, top_p=0.9, seed=7, num_samples=2)
    again = model.generate("The", max_new_tokens=20, temperature=0.9, top_k=8, top_p=0.9, seed=7, num_samples=2)
    assert first == again and len(first) == 2


def test_options_ctranslate2_would_honour_otherwise_are_refused(translator, language_model):
    translate, lm = nlpkit.load(translator[1]), nlpkit.load(language_model[1])
    with pytest.raises(NlpkitError, match="coverage_penalty"):
        list(translate.predict(["a dog"], beam=3, coverage_penalty=0.2))
    with pytest.raises(NlpkitError, match="repetition_penalty"):
        lm.generate("The", repetition_penalty=1.3, max_new_tokens=5)
    with pytest.raises(NlpkitError, match="use_cache"):
        lm.generate("The", use_cache=False, max_new_tokens=5)
    with pytest.raises(NlpkitError, match="no_repeat_ngram"):
        lm.generate("The", no_repeat_ngram=2, max_new_tokens=10)


def test_what_ctranslate2_cannot_run_is_refused_in_one_line(tmp_path, lm_model, sentiment_model):
    pytest.importorskip("ctranslate2")
    from nlpkit.export.ct2 import export_file

    for path, what in ((lm_model[0], "lstm"), (sentiment_model[0], "sentiment")):
        with pytest.raises(NlpkitError, match=f"CTranslate2 runs Transformer.*{what}"):
            export_file(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def _damaged(source: Path, tmp_path: Path, name: str, change) -> Path:
    copy = tmp_path / name
    shutil.copytree(source, copy)
    change(copy)
    return copy


def test_damaged_incomplete_foreign_or_newer_directories_are_refused(translator, tmp_path):
    from nlpkit.export.ct2 import MODEL_FILE

    def newer(d):
        from nlpkit.modelfile import load, save

        saved = load(d / MODEL_FILE)
        saved.meta["ctranslate2"]["export_version"] = 99
        save(d / MODEL_FILE, saved)

    cases = {
        "incomplete": (lambda d: (d / "model.bin").unlink(), "incomplete.*model.bin"),
        "bin": (lambda d: (d / "model.bin").write_bytes(b"\0" * 64), "CTranslate2 cannot read the model"),
        "config": (lambda d: (d / "config.json").write_text("{oops"), "config.json is unreadable"),
        "tokens": (lambda d: (d / "config.json").write_text(json.dumps({"eos_token": "</s>"})), "special tokens"),
        "vocab": (
            lambda d: (d / "shared_vocabulary.json").write_text(json.dumps(["a", "b"])),
            "does not hold the model's",
        ),
        "newer": (newer, "newer nlpkit"),
        "modelfile": (lambda d: (d / MODEL_FILE).write_bytes(b"not a model"), MODEL_FILE),
    }
    for name, (change, message) in cases.items():
        damaged = _damaged(translator[1], tmp_path, name, change)
        with pytest.raises(NlpkitError, match=message):
            nlpkit.load(damaged)
    (tmp_path / "empty").mkdir()
    with pytest.raises(NlpkitError, match="not a model exported"):
        nlpkit.load(tmp_path / "empty")
    with pytest.raises(NlpkitError, match="not for 'nlpkit lm'"):
        nlpkit.load(translator[1], task="lm")


def test_export_targets_that_are_not_ours_are_refused(translator, tmp_path):
    from nlpkit.export.ct2 import export_file

    (tmp_path / "file").write_text("x")
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "notes.txt").write_text("keep me")
    with pytest.raises(NlpkitError, match="not a directory"):
        export_file(translator[0], tmp_path / "file")
    with pytest.raises(NlpkitError, match="not an nlpkit CTranslate2 export"):
        export_file(translator[0], tmp_path / "theirs")
    assert (tmp_path / "theirs" / "notes.txt").read_text() == "keep me"
    with pytest.raises(NlpkitError, match="already exported"):
        export_file(translator[1], tmp_path / "again")
    again, _ = export_file(translator[0], translator[1])  # an earlier export is replaced whole
    assert sorted(p.name for p in again.iterdir()) == sorted(p.name for p in translator[1].iterdir())


def test_the_commands_run_an_export_like_the_nlpk(translator, language_model, tmp_path):
    model, _ = translator
    out = tmp_path / "cli-ct2"
    proc = run("export", model, "--format", "ctranslate2", "--out", out, check=True)
    assert "CTranslate2 model" in proc.stderr
    text = "\n".join(SOURCES) + "\n"
    want = run("translate", "predict", model, "--beam", "3", input=text, check=True).stdout
    have = run("translate", "predict", out, "--beam", "3", input=text, check=True).stdout
    assert have == want and len(have.splitlines()) == len(SOURCES)
    src, ref = tmp_path / "src.txt", tmp_path / "ref.txt"
    src.write_text("\n".join(SOURCES[:10]) + "\n")
    ref.write_text("\n".join((ROOT / "data" / "translate.valid.fr").read_text().splitlines()[:10]) + "\n")
    scores = json.loads(
        run("translate", "eval", out, "--src", src, "--ref", ref, "--format", "json", check=True).stdout
    )
    assert "bleu" in scores
    lm, lm_dir = language_model
    for path in (lm, lm_dir):
        proc = run("generate", path, "--prompt", "The ", "-t", "0", "-n", "40", check=True)
        assert proc.stdout.startswith("The ")
    assert (
        run("generate", lm_dir, "-p", "The ", "-t", "0", "-n", "40").stdout
        == run("generate", lm, "-p", "The ", "-t", "0", "-n", "40").stdout
    )
    info = json.loads(run("info", out, "--format", "json", check=True).stdout)
    assert info["ctranslate2"]["export_version"] == 1 and info["task"] == "translation"


def test_the_commands_refuse_in_one_line(translator, lm_model, tmp_path):
    lstm, _ = lm_model
    proc = run("export", lstm, "--format", "ctranslate2", "--out", tmp_path / "x")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "CTranslate2 runs Transformer" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    proc = run("translate", "predict", translator[1], "--coverage-penalty", "0.2", input="a dog\n")
    assert proc.returncode != 0 and "coverage" in proc.stderr and "Traceback" not in proc.stderr
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "model.bin").write_bytes(b"x")
    proc = run("translate", "predict", tmp_path / "half", input="a dog\n")
    assert proc.returncode != 0 and "incomplete" in proc.stderr and "Traceback" not in proc.stderr


def test_without_ctranslate2_export_names_the_extra(monkeypatch, tmp_path, translate_model):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ctranslate2" else real(name, *a))
    from nlpkit.export.ct2 import export_file

    with pytest.raises(NlpkitError, match=r"nlpkit\[ct2\]"):
        export_file(translate_model[0], tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_without_ctranslate2_an_export_names_the_extra(monkeypatch, translator):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ctranslate2" else real(name, *a))
    with pytest.raises(NlpkitError, match=r"nlpkit\[ct2\]"):
        nlpkit.load(translator[1])


def test_separate_vocabularies_scaled_embeddings_and_learned_positions_export_exactly(tmp_path):
    pytest.importorskip("ctranslate2")
    from nlpkit.export.ct2 import export_file

    out = tmp_path / "sep.nlpk"
    nlpkit.train(
        "translate", src=ROOT / "data" / "translate.train.en", tgt=ROOT / "data" / "translate.train.fr", out=out,
        encoder="transformer", layers=1, hidden=16, heads=2, ff_size=32, tokenizer="word", vocab="separate",
        scale_embeddings=True, positions="learned", batch_tokens=512, **TINY,
    )  # fmt: skip
    target, wrote = export_file(out, tmp_path / "sep-ct2")
    assert {"source_vocabulary.json", "target_vocabulary.json"} <= set(wrote["files"])
    assert wrote["difference"] < 1e-4  # checked on export: random sequences through both runtimes
    torch_model, ct2_model = nlpkit.load(out, runtime="torch"), nlpkit.load(target)
    for beam in (1, 3):
        want = [r["translation"] for r in torch_model.predict(SOURCES, beam=beam)]
        assert [r["translation"] for r in ct2_model.predict(SOURCES, beam=beam)] == want


def test_an_export_that_disagrees_with_pytorch_is_not_kept(translator, tmp_path, monkeypatch):
    from nlpkit.export import ct2

    good = tmp_path / "good"
    ct2.export_file(translator[0], good)
    before = {p.name: p.read_bytes() for p in good.iterdir()}
    monkeypatch.setattr(ct2, "check_export", lambda task, target: 0.5)
    for target in (tmp_path / "bad", good):  # a new name stays absent; an earlier export stays as it was
        with pytest.raises(NlpkitError, match="disagree by 0.5; nothing was written"):
            ct2.export_file(translator[0], target)
    assert not (tmp_path / "bad").exists()
    assert {p.name: p.read_bytes() for p in good.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good"]  # no staging folder left behind
