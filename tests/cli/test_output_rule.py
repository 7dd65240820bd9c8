"""The one output rule (nlpkit.outputs), for every writing option of every command.

The table below is generated from the commands themselves: each option declared with `writes`
is probed against every forbidden target (an input of the run under five spellings, another
output, a device, a FIFO, a folder where a file goes, a file where a folder goes, a folder that
holds an input). A new writing option is probed without any change here, and a command with
one that this file cannot invoke fails `test_every_writing_command_has_an_invocation`.
"""

import hashlib
import os
import shutil
import stat
from dataclasses import fields
from pathlib import Path

import pytest

from tests.conftest import ROOT

# How to invoke each command that writes, given the scratch folder's files; the probed option is
# added to these (a positional output last).
INVOCATIONS = {
    "plot": lambda f: ["plot", f["lm"]],
    "quantize": lambda f: ["quantize", f["lm"]],
    "export": lambda f: ["export", f["sentiment"]],
    "export ct2": lambda f: ["export", f["translate"], "--format", "ctranslate2"],
    "demo": lambda f: ["demo", "--time-budget", "1s"],
    "lm train": lambda f: ["lm", "train", f["text"], "--max-steps", "1"],
    "sentiment train": lambda f: ["sentiment", "train", f["reviews"], "--max-steps", "1"],
    "ner train": lambda f: ["ner", "train", f["conll"], "--max-steps", "1"],
    "translate train": lambda f: ["translate", "train", "--src", f["src"], "--tgt", f["tgt"], "--max-steps", "1"],
    "sentiment ensemble": lambda f: ["sentiment", "ensemble", f["sentiment"], f["sentiment2"]],
    "ner eval": lambda f: ["ner", "eval", f["ner"], f["conll"]],
    "translate predict": lambda f: ["translate", "predict", f["translate"], f["src"]],
    "translate eval": lambda f: ["translate", "eval", f["translate"], "--src", f["src"], "--ref", f["tgt"]],
    "diagnose gradients": lambda f: ["diagnose", "gradients", "--model", f["lm"], "--length", "4"],
    "diagnose memory": lambda f: ["diagnose", "memory"],
    "diagnose speed": lambda f: ["diagnose", "speed"],
    "diagnose context": lambda f: ["diagnose", "context", f["lm"], "--text", f["text"]],
    "vectors train": lambda f: ["vectors", "train", f["text"]],
    "tune lm": lambda f: ["tune", "lm", f["text"], "--valid-fraction", "0.2"],
    "tune sentiment": lambda f: ["tune", "sentiment", f["reviews"]],
    "tune ner": lambda f: ["tune", "ner", f["conll"]],
    "tune translate": lambda f: ["tune", "translate", "--src", f["src"], "--tgt", f["tgt"]],
}


def commands():
    """(command name, option set) of every command, walked from the app."""
    from nlpkit.cli.main import app

    def walk(typer_app, prefix=()):
        for c in typer_app.registered_commands:
            yield " ".join((*prefix, c.name or c.callback.__name__)), c.callback.options_cls
        for g in typer_app.registered_groups:
            yield from walk(g.typer_instance, (*prefix, g.name))

    return list(walk(app))


def writing_options():
    """(invocation name, option field, its kind) for every declared output; export twice."""
    found = []
    for name, cls in commands():
        for f in cls.declared():  # what the command offers (a search hides its trials' outputs)
            kind = f.metadata.get("writes")
            if name == "export" and kind:
                found += [("export", f, "file"), ("export ct2", f, "export")]
            elif kind:
                found.append((name, f, kind))
    return found


def flag(f, value) -> list[str]:
    if f.metadata.get("argument"):
        return [str(value)]
    return [(f.metadata.get("flags") or ["--" + f.name.replace("_", "-")])[0], str(value)]


def test_every_writing_command_has_an_invocation():
    names = {name for name, _, _ in writing_options()}
    assert names <= set(INVOCATIONS), f"add an invocation for {sorted(names - set(INVOCATIONS))}"
    assert len(writing_options()) >= 25


def test_every_option_that_names_a_written_path_declares_it():
    """An output declared without `writes` would escape the rule: names and help that say
    'write' must come with it."""
    for name, cls in commands():
        for f in fields(cls):
            meta = f.metadata
            says_write = "write" in meta.get("help", "").lower().split(".")[0] or f.name.endswith("out")
            names_path = meta.get("metavar") in ("FILE", "DIR", "OUT", "FILE.png") or f.name in ("out", "out_dir")
            if says_write and names_path:
                assert meta.get("writes"), f"{name} {f.name}"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory, char_model, sentiment_model, ner_model, translate_model):
    """A folder of a user's files: models of every task, data, and the odd things beside them."""
    folder = tmp_path_factory.mktemp("scratch")
    files = {
        "lm": char_model,
        "sentiment": sentiment_model[0],
        "sentiment2": sentiment_model[0],
        "ner": ner_model[0],
        "translate": translate_model[0],
        "text": ROOT / "data" / "sample.valid.txt",
        "reviews": ROOT / "data" / "sentiment.valid.tsv",
        "conll": ROOT / "data" / "ner.valid.conll",
        "src": ROOT / "data" / "translate.valid.en",
        "tgt": ROOT / "data" / "translate.valid.fr",
    }
    placed = {}
    for key, source in files.items():
        placed[key] = folder / f"{key}{Path(source).suffix}"
        shutil.copyfile(source, placed[key])
    (folder / "sub").mkdir()
    (folder / "taken.png").mkdir()  # a folder where a file is asked for
    os.mkfifo(folder / "fifo.png")
    (folder / "notes.txt").write_text("a file where a folder is asked for\n", encoding="utf-8")
    return folder, placed


def snapshot(folder: Path) -> dict:
    """Every entry under `folder`, dot files included: its kind and, for files, its content hash."""
    seen = {}
    for path in sorted(folder.rglob("*")):
        mode = path.lstat().st_mode
        if stat.S_ISREG(mode):
            seen[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            seen[str(path)] = stat.S_IFMT(mode)
    return seen


def forbidden(folder: Path, inputs: list[Path], kind: str, others: list) -> list[tuple[str, str]]:
    """(what it is, the target) of every path this output must refuse."""
    first = inputs[0] if inputs else None
    targets = [("a device", "/dev/null"), ("a FIFO", str(folder / "fifo.png"))]
    if kind == "file":
        targets += [("a folder", str(folder / "taken.png")), ("a folder name", str(folder / "newdir") + "/")]
    else:
        targets.append(("a file", str(folder / "notes.txt")))
    targets += [("another output", str(o)) for o in others]
    if first is None:
        return targets
    targets += [(f"the input {p.name}", str(p)) for p in inputs]
    targets.append(("./ spelling", "./" + os.path.relpath(first)))
    targets.append(("../ spelling", str(folder / "sub" / ".." / first.name)))
    link = folder / f"link-{first.stem}.png"
    if not link.is_symlink():
        link.symlink_to(first)
    hard = folder / f"hard-{first.stem}.png"
    if not hard.exists():
        hard.hardlink_to(first)
    targets += [("a symlink to an input", str(link)), ("a hardlink to an input", str(hard))]
    if kind != "file":
        targets += [("a folder holding an input", str(folder)), ("it, spelled with ..", str(folder / "sub" / ".."))]
    return targets


def test_every_writing_option_refuses_every_forbidden_target(cli, scratch):
    folder, files = scratch
    probes = 0
    options = writing_options()
    for name, f, kind in options:
        args = INVOCATIONS[name](files)
        inputs = [Path(a) for a in args if isinstance(a, Path)]
        # another file output of the command, given a fresh name: the probed one may not take it
        other = next((g for n, g, k in options if n == name and g.name != f.name and k == "file"), None)
        others = [folder / f"other-{other.name}.json"] if other else []
        base = [str(a) for a in args] + (flag(other, others[0]) if other else [])
        targets = forbidden(folder, inputs, kind, others)  # makes the links first
        before = snapshot(folder)
        for what, target in targets:
            code, out, err = cli(*base, *flag(f, target))
            where = f"nlpkit {name} {f.name} = {what} ({target})"
            assert code == 1, (where, code, err)
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), (where, err)
            assert "Traceback" not in err and out == "", where
            now = snapshot(folder)
            assert now == before, (where, set(now.items()) ^ set(before.items()))
            assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
            probes += 1
    print(f"{probes} probes of {len(options)} writing options")  # quoted in docs/guarantees.md
    assert probes >= 250, probes


@pytest.mark.parametrize("spelling", ["relative", "symlink"])
def test_an_input_is_refused_through_the_api_too(scratch, spelling):
    import nlpkit

    folder, files = scratch
    model = nlpkit.load(files["ner"])
    target = files["ner"] if spelling == "symlink" else Path("./" + os.path.relpath(files["ner"]))
    if spelling == "symlink":
        target = folder / "to-ner.conll"
        if not target.is_symlink():
            target.symlink_to(files["ner"])
    before = files["ner"].read_bytes()
    with pytest.raises(nlpkit.NlpkitError, match="predictions: .* is an input of this run"):
        model.evaluate(str(files["conll"]), predictions=str(target))
    assert files["ner"].read_bytes() == before
