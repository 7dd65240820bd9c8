"""End-to-end: real pipelines through a subprocess, as a user runs them."""

import json
import signal
import subprocess
import sys
import time
import tomllib

import pytest
import torch

from nlpkit import modelfile
from tests.conftest import ROOT, TINY, TINY_TRANSFORMER, nlpkit


def test_score_prints_one_line_per_input_line_in_order(char_model):
    proc = nlpkit("lm", "score", char_model, input="a\n\nb\n", check=True)
    rows = proc.stdout.splitlines()
    assert len(rows) == 3
    loglik, tokens, ppl = rows[1].split("\t")
    assert int(tokens) == 1 and float(loglik) < 0 and float(ppl) > 1
    assert rows[0].split("\t")[1] == "2"


def test_score_jsonl_matches_tsv(char_model):
    tsv = nlpkit("lm", "score", char_model, input="the harbour\nMara\n", check=True).stdout.splitlines()
    jsonl = nlpkit(
        "lm", "score", char_model, "--format", "jsonl", input="the harbour\nMara\n", check=True
    ).stdout.splitlines()
    for t, j in zip(tsv, jsonl, strict=True):
        record = json.loads(j)
        assert float(t.split("\t")[0]) == pytest.approx(record["loglik"], abs=1e-3)


def test_score_many_lines_keeps_order_across_chunks(char_model, tmp_path):
    lines = [("x" * (i % 13)) for i in range(70)]
    path = tmp_path / "in.txt"
    path.write_text("\n".join(lines) + "\n")
    chunked = nlpkit("lm", "score", char_model, path, "--chunk-lines", "16", "--batch-tokens", "64", check=True)
    whole = nlpkit("lm", "score", char_model, path, check=True)
    assert len(chunked.stdout.splitlines()) == 70
    counts = [int(r.split("\t")[1]) for r in chunked.stdout.splitlines()]
    assert counts == [len(line) + 1 for line in lines]
    a = [float(r.split("\t")[0]) for r in chunked.stdout.splitlines()]
    b = [float(r.split("\t")[0]) for r in whole.stdout.splitlines()]
    assert a == pytest.approx(b, abs=1e-3)


def test_eval_reports_perplexity_and_bits_per_char(char_model, corpus):
    out = json.loads(nlpkit("lm", "eval", char_model, corpus, "--format", "json", check=True).stdout)
    assert out["perplexity"] > 1 and out["bits_per_char"] == pytest.approx(out["loss"] / 0.693147, rel=1e-3)


def test_generate_from_prompts_on_stdin_one_record_each(char_model):
    proc = nlpkit(
        "generate",
        char_model,
        "-n",
        "12",
        "--format",
        "jsonl",
        "--seed",
        "3",
        "--num-samples",
        "2",
        input="At dawn\n\nMara\n",
        check=True,
    )
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["prompt"] for r in records] == ["At dawn", "", "Mara"]
    assert all(len(r["completions"]) == 2 for r in records)


def test_generate_is_repeatable_with_seed_and_greedy_with_temperature_zero(char_model):
    a = nlpkit("generate", char_model, "-p", "The ", "-n", "20", "--seed", "5", check=True).stdout
    b = nlpkit("generate", char_model, "-p", "The ", "-n", "20", "--seed", "5", check=True).stdout
    assert a == b and a.startswith("The ")
    g1 = nlpkit("generate", char_model, "-p", "The ", "-n", "20", "-t", "0", "--seed", "1", check=True).stdout
    g2 = nlpkit("generate", char_model, "-p", "The ", "-n", "20", "-t", "0", "--seed", "2", check=True).stdout
    assert g1 == g2


def test_info_shows_task_config_data_and_metrics(char_model):
    meta = json.loads(nlpkit("info", char_model, "--format", "json", check=True).stdout)
    assert meta["task"] == "lm" and meta["model"]["encoder"]["kind"] == "lstm"
    assert meta["data"]["lines"] == 300 and len(meta["data"]["sha256"]) == 64
    assert meta["metrics"]["train"]["steps"] == 30
    assert {"nlpkit", "torch", "python"} <= set(meta["versions"])
    table = nlpkit("info", char_model, check=True).stdout
    assert "tokenizer.kind" in table


def test_training_from_stdin_word_level_transformer_with_validation_split(tmp_path, corpus):
    out = tmp_path / "w.nlpk"
    metrics = tmp_path / "m.json"
    nlpkit(
        "lm",
        "train",
        "-",
        "--tokenizer",
        "word",
        *TINY_TRANSFORMER,
        "--max-steps",
        "10",
        "--valid-fraction",
        "0.1",
        "--metrics-out",
        metrics,
        "--out",
        out,
        "--quiet",
        input=corpus.read_text(),
        check=True,
    )
    m = json.loads(metrics.read_text())
    assert m["train"]["steps"] == 10 and "valid_ppl" in m["valid"]
    assert json.loads(nlpkit("info", out, "--format", "json").stdout)["tokenizer"]["kind"] == "word"


def test_training_from_a_datasets_source_and_jsonl(tmp_path, corpus):
    lines = corpus.read_text().splitlines()
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps({"body": line}) + "\n" for line in lines))
    for source in (["--dataset", data], [data]):
        out = tmp_path / "d.nlpk"
        nlpkit("lm", "train", *source, "--text-field", "body", "--out", out, *TINY, "--max-steps", "3", check=True)
        meta = json.loads(nlpkit("info", out, "--format", "json").stdout)
        assert meta["data"]["lines"] == len(lines)


def test_subword_model_trains_and_scores(tmp_path, corpus):
    out = tmp_path / "bpe.nlpk"
    nlpkit("lm", "train", corpus, "--tokenizer", "bpe:200", "--out", out, *TINY, "--max-steps", "5", check=True)
    meta = json.loads(nlpkit("info", out, "--format", "json").stdout)
    assert meta["tokenizer"]["kind"] == "bpe" and meta["model"]["vocab_size"] == 200
    (row,) = nlpkit("lm", "score", out, input="the harbour\n", check=True).stdout.splitlines()
    loglik, tokens, _ = row.split("\t")
    assert float(loglik) < 0 and 1 < int(tokens) < len("the harbour") + 1  # subwords: fewer than characters
    text = nlpkit("generate", out, "-p", "The", "-n", "5", "--seed", "1", check=True).stdout
    assert text.startswith("The") and len(text) > len("The\n")


def test_resume_continues_from_the_checkpoint(tmp_path, corpus):
    out, flat = tmp_path / "r.nlpk", ["--schedule", "constant"]  # the rate must not depend on the planned length
    nlpkit("lm", "train", corpus, "--out", out, *TINY, *flat, "--max-steps", "10", check=True)
    assert (tmp_path / "r.nlpk.ckpt").exists()
    nlpkit("lm", "train", corpus, "--out", out, *TINY, *flat, "--max-steps", "20", "--resume", check=True)
    meta = json.loads(nlpkit("info", out, "--format", "json").stdout)
    assert meta["metrics"]["train"]["steps"] == 20 and meta["recipe"]["max_steps"] == 20
    straight = tmp_path / "s.nlpk"  # the same 20 steps in one run: resuming goes on exactly
    nlpkit("lm", "train", corpus, "--out", straight, *TINY, *flat, "--max-steps", "20", check=True)
    resumed, whole = modelfile.load(out).tensors, modelfile.load(straight).tensors
    assert resumed.keys() == whole.keys() and all(torch.equal(resumed[k], whole[k]) for k in whole)


def test_ctrl_c_writes_a_checkpoint_and_exits_zero(tmp_path, corpus):
    out = tmp_path / "i.nlpk"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nlpkit",
            "lm",
            "train",
            str(corpus),
            "--out",
            str(out),
            "--encoder",
            "lstm",
            "--hidden",
            "64",
            "--context",
            "32",
            "--max-steps",
            "100000",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell starts background jobs with SIGINT ignored, and Python keeps an inherited
        # "ignore": give the child the default disposition, as a terminal's Ctrl-C would find it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    ckpt = tmp_path / "i.nlpk.ckpt"
    deadline = time.time() + 240  # generous: a loaded CI machine imports torch slowly
    while time.time() < deadline:  # wait until training has really started (the first epoch's checkpoint)
        if ckpt.exists():
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"no exit within 300 s of Ctrl-C; stderr tail: {err[-2000:]}") from None
    assert proc.returncode == 0, err
    assert "interrupted" in err and "--resume" in err
    assert out.exists() and ckpt.exists()


def test_pipe_closed_early_exits_quietly(char_model, tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("the harbour at dawn\n" * 20000)
    proc = subprocess.run(
        f"{sys.executable} -m nlpkit lm score {char_model} < {big} | head -1",
        shell=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=180,
    )
    assert len(proc.stdout.splitlines()) == 1
    assert "Traceback" not in proc.stderr and proc.stderr.strip() == ""


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "no text to train on"),
        (b"\n  \n\t\n", "no text to train on"),
        (b"ok\nbad \xfe\n", "invalid UTF-8 at byte offset 7"),
    ],
)
def test_bad_training_input_is_one_line_exit_1(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    proc = nlpkit("lm", "train", path, "--out", tmp_path / "x.nlpk", *TINY)
    assert proc.returncode == 1
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_invalid_utf8_can_be_replaced(tmp_path, corpus):
    path = tmp_path / "mixed.txt"
    path.write_bytes(corpus.read_bytes() + b"bad \xfe byte\n")
    proc = nlpkit(
        "lm", "train", path, "--out", tmp_path / "x.nlpk", *TINY, "--max-steps", "2", "--encoding-errors", "replace"
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    "args,message",
    [
        (["lm", "train", "missing.txt"], "missing.txt: no such file"),
        (["lm", "train", "data"], "data: is a directory"),
        (["lm", "score", "missing.nlpk"], "no such model file"),
        (["lm", "eval", "README.md", "data/sample.txt"], "not an nlpkit model file"),
        (["generate", "data/sample.txt"], "not an nlpkit model file"),
        (["lm", "train", "data/sample.txt", "--encoder", "cnn"], "unknown encoder"),
        (["lm", "train", "data/sample.txt", "--tokenizer", "bpe"], "needs a vocabulary size"),
        (["lm", "train", "data/sample.txt", "--time-budget", "soon"], "--time-budget"),
        (["lm", "train"], "give training text files"),
        (["lm", "train", "data/sample.txt", "--valid", "/dev/null"], "validation text has 0 tokens"),
    ],
)
def test_user_errors_are_one_line_exit_1(args, message):
    proc = nlpkit(*args)
    assert proc.returncode == 1, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_truncated_model_file(char_model, tmp_path):
    cut = tmp_path / "cut.nlpk"
    cut.write_bytes(char_model.read_bytes()[:-100])
    proc = nlpkit("lm", "score", cut, input="a\n")
    assert proc.returncode == 1 and "truncated" in proc.stderr


def test_model_of_another_task_is_refused(char_model, tmp_path):
    from nlpkit import modelfile

    other = tmp_path / "ner.nlpk"
    saved = modelfile.load(char_model)
    modelfile.save(other, modelfile.ModelFile("ner", saved.meta, saved.tensors))
    proc = nlpkit("generate", other, "-p", "x")
    assert proc.returncode == 1 and "a model for 'nlpkit ner', not for 'nlpkit lm'" in proc.stderr


def test_usage_errors_exit_2():
    assert nlpkit("lm", "train", "--no-such-option").returncode == 2


def test_every_help_works_without_torch():
    code = (
        "import sys; from nlpkit.cli.main import app\n"
        "for args in [['--help'], ['lm', '--help'], ['lm', 'train', '--help'], ['lm', 'score', '--help'],"
        " ['lm', 'eval', '--help'], ['generate', '--help'], ['info', '--help'], ['demo', '--help'],"
        " ['sentiment', '--help'], ['sentiment', 'train', '--help'], ['sentiment', 'predict', '--help'],"
        " ['sentiment', 'eval', '--help'], ['ner', 'tag', '--help'], ['translate', 'train', '--help'],"
        " ['translate', 'predict', '--help'], ['translate', 'eval', '--help']]:\n"
        "    try: app(args)\n"
        "    except SystemExit as e: assert e.code == 0, args\n"
        "assert 'torch' not in sys.modules and 'datasets' not in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "--time-budget" in proc.stdout


def test_long_prompt_warns_and_is_read_from_its_end(tmp_path, corpus):
    out = tmp_path / "t.nlpk"
    nlpkit(
        "lm",
        "train",
        corpus,
        *TINY_TRANSFORMER,
        "--max-steps",
        "2",
        "--quiet",
        "--out",
        out,
        check=True,
    )
    proc = nlpkit("generate", out, "-p", "a prompt much longer than eight characters", "-n", "3", check=True)
    assert "longer than the model's context of 8" in proc.stderr
    assert proc.stdout.startswith("a prompt much longer")


@pytest.mark.skipif(not (ROOT.parent / "shared" / "data" / "ptb").exists(), reason="../shared/data is absent")
def test_real_corpus_ptb_word_level(tmp_path):
    ptb = ROOT.parent / "shared" / "data" / "ptb"
    small = tmp_path / "ptb.small.txt"
    small.write_text("".join((ptb / "ptb.train.txt").read_text().splitlines(keepends=True)[:2000]))
    out = tmp_path / "ptb.nlpk"
    nlpkit("lm", "train", small, "--tokenizer", "word", "--tie-weights", "--out", out, *TINY, check=True)
    result = json.loads(nlpkit("lm", "eval", out, ptb / "ptb.valid.txt", "--format", "json", check=True).stdout)
    assert result["tokens"] > 70_000 and result["perplexity"] > 1


def test_unseen_characters_are_scored_as_unk(char_model):
    proc = nlpkit("lm", "score", char_model, input="Ω∑ unseen ✓\n", check=True)
    loglik, tokens, _ = proc.stdout.split("\t")
    assert int(tokens) == len("Ω∑ unseen ✓") + 1 and float(loglik) < 0


def test_generation_streams_to_a_terminal(char_model):
    import os
    import pty

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "nlpkit", "generate", str(char_model), "-p", "At dawn", "-n", "40", "--seed", "2"],
        cwd=ROOT,
        stdout=follower,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 1024)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(leader)
    text = b"".join(chunks).decode().replace("\r\n", "\n")
    piped = nlpkit("generate", char_model, "-p", "At dawn", "-n", "40", "--seed", "2", check=True).stdout
    assert proc.returncode == 0
    assert text == piped  # streamed token by token, same text as the piped (non-streaming) path


def test_demo_trains_evaluates_and_generates(tmp_path):
    # a new interpreter, as the README's first command runs it (other tests run the CLI in a fork)
    proc = nlpkit("demo", "--time-budget", "3s", "--out-dir", tmp_path, "--device", "cpu", check=True, fresh=True)
    out = proc.stdout.splitlines()
    assert "language model evaluation" in proc.stdout and "perplexity" in proc.stdout  # lm eval's table
    assert any(line.startswith("At dawn, ") for line in out)
    assert (tmp_path / "sample-lm.nlpk").exists() and (tmp_path / "sample-sentiment.nlpk").exists()
    assert "accuracy" in proc.stdout and "confusion matrix" in proc.stdout
    labels = [row.split("\t")[0] for row in out if "\t" in row]  # sentiment predict's rows
    assert len(labels) == 3 and all(label in ("pos", "neg") for label in labels)
    assert (tmp_path / "sample-ner.nlpk").exists() and "micro avg" in proc.stdout
    tagged = [row for row in out if row.startswith(("[PER ", "The [ORG "))]
    assert len(tagged) == 2  # the sample's people and organisations, tagged inline
    assert (tmp_path / "sample-translate.nlpk").exists() and "BLEU signature" in proc.stdout
    assert out[-3] and out[-2] == "" and out[-1]  # two translations around the kept empty line
    assert (tmp_path / "alignments.jsonl").read_text().count("\n") == 3
    assert "12/12" in proc.stderr and "classifier training" in proc.stderr and "tagger training" in proc.stderr


def test_backward_direction_end_to_end(tmp_path, corpus):
    out = tmp_path / "bwd.nlpk"
    nlpkit("lm", "train", corpus, "--out", out, "--direction", "backward", *TINY, check=True)
    meta = json.loads(nlpkit("info", out, "--format", "json", check=True).stdout)
    assert meta["direction"] == "backward" and meta["recipe"]["direction"] == "backward"
    scored = nlpkit("lm", "score", out, input="ab\n\nba\n", check=True).stdout.splitlines()
    assert len(scored) == 3
    proc = nlpkit("generate", out, "--prompt", "a", "--max-new-tokens", "3")
    assert proc.returncode == 1 and "predicts what comes before" in proc.stderr and "Traceback" not in proc.stderr


def test_bf16_training_from_the_cli_is_recorded_and_a_bad_precision_is_one_line(tmp_path, corpus):
    out = tmp_path / "bf16.nlpk"
    nlpkit("lm", "train", corpus, "--out", out, *TINY, "--max-steps", "5", "--precision", "bf16", check=True)
    recipe = tomllib.loads(nlpkit("info", out, "--recipe", check=True).stdout)
    assert recipe["precision"] == "bf16"  # and --config repeats it
    (row,) = nlpkit("lm", "score", out, input="the harbour\n", check=True).stdout.splitlines()
    assert float(row.split("\t")[0]) < 0
    bad = nlpkit("lm", "train", corpus, "--out", tmp_path / "x.nlpk", *TINY, "--precision", "half")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and "half" in bad.stderr
    assert not (tmp_path / "x.nlpk").exists()
