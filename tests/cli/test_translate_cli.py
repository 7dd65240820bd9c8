"""End-to-end translation through a subprocess, as a user runs it."""

import json

import pytest

from tests.conftest import ROOT, SHARED, nlpkit

DATA = ROOT / "data"
EN, FR = DATA / "translate.train.en", DATA / "translate.train.fr"
VEN, VFR = DATA / "translate.valid.en", DATA / "translate.valid.fr"
SMALL = "--hidden 32 --layers 1 --tokenizer word --batch-tokens 512 --quiet --seed 1 --device cpu".split()


@pytest.fixture(scope="module")
def gru_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("translate") / "g.nlpk"
    nlpkit(
        "translate", "train", "--src", EN, "--tgt", FR, "--valid-src", VEN, "--valid-tgt", VFR, "--out", out,
        "--encoder", "gru", "--attention", "luong-general", "--vocab", "separate", *SMALL,
        "--max-steps", "150", "--lr", "1e-2", "--warmup", "10", "--eval-every", "150", check=True,
    )  # fmt: skip
    return out


def test_trained_gru_translates_the_sample_well(gru_model):
    proc = nlpkit("translate", "eval", gru_model, "--src", VEN, "--ref", VFR, "--format", "json", check=True)
    scores = json.loads(proc.stdout)
    assert scores["bleu"] > 30 and scores["chrf"] > 50 and scores["sentences"] == 200
    assert scores["bleu_signature"].startswith("nrefs:1|case:mixed")
    table = nlpkit("translate", "eval", gru_model, "--src", VEN, "--ref", VFR, "--beam", "1", check=True).stdout
    assert "BLEU signature" in table and "chrF" in table
    sweep = nlpkit("translate", "eval", gru_model, "--src", VEN, "--ref", VFR, "--beam", "2",
                   "--length-penalty-sweep", "0,1", "--format", "json", check=True)  # fmt: skip
    found = json.loads(sweep.stdout)
    assert [r["length_penalty"] for r in found["sweep"]] == [0.0, 1.0] and found["best"] in (0.0, 1.0)
    bad = nlpkit("translate", "eval", gru_model, "--src", VEN, "--ref", VFR, "--length-penalty-sweep", "0,x")
    assert bad.returncode == 1 and "--length-penalty-sweep" in bad.stderr and "Traceback" not in bad.stderr


def test_coverage_penalty_on_eval_and_predict(gru_model):
    covered = nlpkit("translate", "eval", gru_model, "--src", VEN, "--ref", VFR, "--coverage-penalty", "0.2",
                     "--format", "json", check=True)  # fmt: skip
    scores = json.loads(covered.stdout)
    assert scores["coverage_penalty"] == 0.2 and scores["sentences"] == 200 and scores["bleu"] > 30
    lines = "The cat looks at the harbour .\n\nThe dog runs .\n"
    out = nlpkit("translate", "predict", gru_model, "--coverage-penalty", "0.4", input=lines, check=True).stdout
    assert out.count("\n") == 3 and out.split("\n")[1] == ""
    bad = nlpkit("translate", "predict", gru_model, "--coverage-penalty", "-1", input="a\n")
    assert bad.returncode == 2 and "--coverage-penalty" in bad.stderr
    greedy = nlpkit("translate", "predict", gru_model, "--beam", "1", "--coverage-penalty", "0.2", input="a\n")
    assert greedy.returncode == 1 and greedy.stderr.count("\n") == 1 and "--beam 2 or more" in greedy.stderr


def test_predict_one_line_per_input_line_in_order_empty_lines_included(gru_model):
    lines = ["The cat looks at the harbour .", "", "The dog runs to the mill every day .", "   "]
    proc = nlpkit("translate", "predict", gru_model, "--batch-size", "1", input="\n".join(lines) + "\n", check=True)
    rows = proc.stdout.split("\n")
    assert len(rows) == 5 and rows[-1] == ""  # four lines, each ended by a newline
    assert rows[1] == "" and rows[3] == ""
    assert rows[0] and rows[2] and rows[0] != rows[2]
    greedy = nlpkit("translate", "predict", gru_model, "--beam", "1", input=lines[0] + "\n", check=True)
    assert greedy.stdout.count("\n") == 1


def test_predict_n_best_jsonl_with_scores_and_alignments_and_plots(gru_model, tmp_path):
    align, plots = tmp_path / "a.jsonl", tmp_path / "plots"
    text = "The busy clerk waits near the library .\n\n"
    proc = nlpkit(
        "translate", "predict", gru_model, "--format", "jsonl", "--n-best", "3", "--beam", "4",
        "--alignments", align, "--plot", plots, input=text, check=True,
    )  # fmt: skip
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["source"] for r in records] == ["The busy clerk waits near the library .", ""]
    hyps = records[0]["translations"]
    assert len(hyps) == 3 and hyps[0]["score"] >= hyps[1]["score"] >= hyps[2]["score"]
    assert records[1]["translations"] == [{"text": "", "score": 0.0}]  # as text output: one empty line
    aligned = [json.loads(line) for line in align.read_text().splitlines()]
    assert len(aligned) == 2 and aligned[1]["attention"] == []
    first = aligned[0]
    assert len(first["source"]) == 9 and first["source"][-1] == "</s>"  # 8 words and the end token
    assert len(first["attention"]) == len(first["target"])
    assert all(len(row) == 9 and abs(sum(row) - 1) < 1e-3 for row in first["attention"])
    assert [p.name for p in plots.iterdir()] == ["line-000001.png"]


def test_n_best_needs_jsonl(gru_model):
    proc = nlpkit("translate", "predict", gru_model, "--n-best", "2", input="a\n")
    assert proc.returncode == 1 and "--format jsonl" in proc.stderr and "Traceback" not in proc.stderr


def test_long_lines_are_cut_with_a_counted_warning(gru_model):
    long_line = " ".join(["The cat looks at the harbour ."] * 10)
    proc = nlpkit(
        "translate", "predict", gru_model, "--max-src-len", "8", input=f"{long_line}\nThe cat .\n", check=True
    )
    assert proc.stdout.count("\n") == 2
    assert "1 line(s) longer than --max-src-len 8" in proc.stderr


def test_bad_inputs_give_one_line_errors(gru_model, char_model, tmp_path):
    short = tmp_path / "short.fr"
    short.write_text("Le chat .\n", encoding="utf-8")
    cases = [
        (("translate", "train", "--src", EN, "--tgt", short), "has 2,000 lines but"),
        (("translate", "eval", gru_model, "--src", VEN, "--ref", short), "has 200 lines but"),
        (("translate", "predict", char_model), "a model for 'nlpkit lm', not for 'nlpkit translate'"),
        (("translate", "train", "--src", EN), "give both the source and the target"),
        (("translate", "train", "--src", EN, "--tgt", FR, "--encoder", "rnn"), "gru, lstm or transformer"),
        (
            ("translate", "predict", gru_model, "--alignments", f"{tmp_path}/a.jsonl/"),
            "names a folder",
        ),
        (
            ("translate", "predict", gru_model, "--n-best", "3", "--beam", "2", "--format", "jsonl"),
            "cannot exceed --beam",
        ),
    ]
    for args, message in cases:
        proc = nlpkit(*args, input="")
        assert proc.returncode == 1, args
        assert message in proc.stderr and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_transformer_from_tsv_pairs_on_stdin_with_a_joint_subword_vocabulary(tmp_path):
    pairs = "".join(
        f"{e}\t{f}\n" for e, f in zip(EN.read_text().splitlines()[:300], FR.read_text().splitlines()[:300], strict=True)
    )
    out = tmp_path / "t.nlpk"
    nlpkit(
        "translate", "train", "-", "--out", out, "--encoder", "transformer", "--heads", "2", "--hidden", "32",
        "--layers", "1", "--tokenizer", "bpe:200", "--max-steps", "5", "--quiet", "--device", "cpu",
        "--max-src-len", "12", input=pairs, check=True,
    )  # fmt: skip
    info = json.loads(nlpkit("info", out, "--format", "json", check=True).stdout)
    assert info["task"] == "translation" and info["model"]["shared_vocab"] is True
    assert info["data"]["left_out"] > 0  # pairs over 12 source tokens
    assert nlpkit("translate", "predict", out, "--beam", "2", input="The cat .\n", check=True).stdout.count("\n") == 1


def test_bad_tsv_pair_line_names_file_and_line(tmp_path):
    bad = tmp_path / "p.tsv"
    bad.write_text("a\tb\nno tab\n", encoding="utf-8")
    proc = nlpkit("translate", "train", bad, "--quiet")
    assert proc.returncode == 1 and f"{bad}:2: expected 'source<TAB>target'" in proc.stderr


def test_dataset_source_from_local_jsonl_and_resume(tmp_path):
    rows = [
        {"translation": {"en": e, "fr": f}}
        for e, f in zip(EN.read_text().splitlines()[:200], FR.read_text().splitlines()[:200], strict=True)
    ]
    data = tmp_path / "pairs.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "d.nlpk"
    common = ["--dataset", data, "--src-lang", "en", "--tgt-lang", "fr", "--out", out, "--encoder", "gru"]
    common += ["--vocab", "joint", *SMALL]
    nlpkit("translate", "train", *common, "--max-steps", "4", check=True)
    resumed = nlpkit(
        "translate", "train", *common, "--max-steps", "8", "--resume", "--metrics-out", tmp_path / "m.json"
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((tmp_path / "m.json").read_text())["train"]["steps"] == 8


@pytest.mark.skipif(not (SHARED / "multi30k").exists(), reason="needs ../shared/data/multi30k")
def test_multi30k_files_load_as_aligned_pairs():
    from nlpkit.data.parallel import read_aligned

    m = SHARED / "multi30k"
    pairs = read_aligned(str(m / "val.de"), str(m / "val.en"))
    assert len(pairs) == 1014 and all(pairs.src) and all(pairs.tgt)
