"""nlpkit tune / nlpkit.tune on the bundled sample: trials are ordinary trainings at the trial
budget, the best recipe repeats with `train --config`, a study goes on where it stopped and is
shared by processes, and bad input is one line."""

import importlib.util
import json
import tomllib

import pytest

import nlpkit
from tests.conftest import ROOT
from tests.conftest import nlpkit as cli_run

pytestmark = pytest.mark.extras  # needs optuna (nlpkit[tune]); CI runs these again with it blocked

DATA = ROOT / "data"
SMALL = dict(train=str(DATA / "sample.valid.txt"), valid_fraction=0.2, context=16, layers=1, quiet=True)


@pytest.fixture(autouse=True)
def optuna():
    return pytest.importorskip("optuna")


def test_a_search_writes_the_recipe_that_train_repeats(tmp_path):
    out = tmp_path / "best.toml"
    found = nlpkit.tune("lm", **SMALL, hidden=16, trial_budget="2s", budget="10m", trials=2, out=str(out))
    assert found["trials"] == 2 and found["metric"] == "valid_loss" and found["value"] > 0
    recipe = tomllib.loads(out.read_text(encoding="utf-8"))
    assert recipe == found["best"] and recipe["time_budget"] == "2s"  # the recipe is for the budget it ran at
    assert recipe["hidden"] == 16 and recipe["context"] == 16  # fixed options are not searched
    assert 1e-4 <= recipe["lr"] <= 1e-2 and recipe["batch_size"] in (16, 32, 64)
    model = nlpkit.train("lm", recipe=str(out), out=str(tmp_path / "m.nlpk"), quiet=True)
    assert model.meta["recipe"] == recipe
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.journal", "best.toml", "m.nlpk", "m.nlpk.ckpt"]


def test_a_study_goes_on_where_it_stopped_and_is_shared_by_processes(tmp_path):
    out, storage = str(tmp_path / "best.toml"), f"sqlite:///{tmp_path / 'study.db'}"
    first = nlpkit.tune("lm", **SMALL, hidden=16, trial_budget="1s", budget="10m", trials=1, out=out, storage=storage)
    both = nlpkit.tune(
        "lm", **SMALL, hidden=16, trial_budget="1s", budget="10m", trials=5, out=out, storage=storage, workers=2
    )
    shown = nlpkit.tune("lm", show=True, out=out, storage=storage)["trials"]
    assert first["trials"] == 1 and both["trials"] == 4 and len(shown) == 5
    assert {t["state"] for t in shown} <= {"complete", "pruned"} and [t["trial"] for t in shown] == list(range(5))
    # the cost curve: each trial's end since the study began, and the best value completed by then
    done = sorted((t for t in shown if t["state"] == "complete"), key=lambda t: t["at"])  # in the order they ended
    assert done and all(t["at"] >= t["seconds"] > 0 for t in done)
    assert [t["best"] for t in done] == [min(t["value"] for t in done[: k + 1]) for k in range(len(done))]


def test_the_best_trials_model_is_kept_when_asked(tmp_path):
    out, kept = str(tmp_path / "best.toml"), tmp_path / "models" / "best.nlpk"
    first = nlpkit.tune("lm", **SMALL, trial_budget="1s", budget="10m", trials=3, out=out, best_model=str(kept))
    # two workers ending trials together: the lock leaves the model of the study's best behind
    both = nlpkit.tune("lm", **SMALL, trial_budget="1s", budget="10m", trials=6, out=out, best_model=str(kept),
                       workers=2)  # fmt: skip
    for found in (first, both):
        assert found["model"] == str(kept)
    model = nlpkit.load(str(kept))
    assert model.meta["metrics"]["valid"]["valid_loss"] == both["value"] and model.meta["recipe"] == both["best"]
    assert sorted(p.name for p in kept.parent.iterdir()) == ["best.nlpk"]  # no trial's scratch left behind


def test_a_budget_of_one_trial_budget_runs_one_trial(tmp_path):
    found = nlpkit.tune("lm", **SMALL, trial_budget="2s", budget="2s", out=str(tmp_path / "best.toml"))
    assert found["trials"] == 1


def test_a_best_trial_trained_elsewhere_is_said_not_kept(optuna, tmp_path, capsys):
    from nlpkit.tuning.study import _here, kept_model

    kept = tmp_path / "best.nlpk"
    study = optuna.create_study(direction="minimize")
    for value, where in ((1.0, "another-machine:/models/best.nlpk"), (2.0, _here(str(kept)))):
        trial = study.ask()
        trial.set_user_attr("model", where)
        study.tell(trial, value)
    kept.write_bytes(b"trial 1's model")
    assert kept_model(study, str(kept)) is None
    said = capsys.readouterr().err
    assert "the model of the best trial (0) was not kept here" in said and "best.nlpk holds trial 1's" in said
    kept.unlink()  # the best trained here, deleted since: said so, not mistaken for another machine's
    study.tell(study.ask(), 3.0)
    mine = study.ask()
    mine.set_user_attr("model", _here(str(kept)))
    study.tell(mine, 0.5)
    assert kept_model(study, str(kept)) is None
    assert "the model of the best trial (3) was kept at" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "message"),
    [(dict(trial_budget="10m", budget="5m"), "trial_budget 10m is longer than budget 5m"),
     (dict(time_budget="1m"), "unknown option 'time_budget'"),
     (dict(storage="postgresql://nobody@127.0.0.1:9/none"), "storage postgresql://nobody@127.0.0.1:9/none: cannot open"),
     (dict(trials=-1), "trials: -1 is below the smallest allowed value, 0"),
     (dict(show=True), "storage .*best.journal: no study has been stored there"),
     (dict(plot="curve.txt"), "plot: curve.txt: a figure is written as .png, .svg, .pdf"),
     (dict(best_model=str(DATA / "sample.valid.txt")), "best_model: .*sample.valid.txt is an input"),
     (dict(best_model="{tmp}/best.toml"), "out: .*best.toml is also another output")],
)  # fmt: skip
def test_bad_search_options_are_one_line(tmp_path, options, message):
    options = {k: v.format(tmp=tmp_path) if isinstance(v, str) else v for k, v in options.items()}
    with pytest.raises(nlpkit.NlpkitError, match=message):
        nlpkit.tune("lm", **SMALL, out=str(tmp_path / "best.toml"), **options)
    assert list(tmp_path.iterdir()) == []  # nothing made: no recipe, no empty study


def test_the_cost_curve_is_drawn_after_a_search_and_from_a_stored_study(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    import nlpkit.plots

    drawn = []
    real = nlpkit.plots.search_curve
    monkeypatch.setattr(nlpkit.plots, "search_curve", lambda rows, *a: drawn.append(rows) or real(rows, *a))
    out = str(tmp_path / "best.toml")
    found = nlpkit.tune("lm", **SMALL, hidden=16, trial_budget="1s", budget="10m", trials=2, out=out,
                        plot=str(tmp_path / "search.png"))  # fmt: skip
    assert (tmp_path / "search.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    shown = nlpkit.tune("lm", show=True, out=out, plot=str(tmp_path / "again.svg"))["trials"]
    assert b"<svg" in (tmp_path / "again.svg").read_bytes()[:2000]
    assert len(shown) == found["trials"] >= 1 and drawn == [shown, shown]  # the same points: every trial


def test_a_study_of_another_task_is_refused_and_failing_trials_end_the_search(tmp_path):
    out = str(tmp_path / "best.toml")
    nlpkit.tune("lm", **SMALL, hidden=16, trial_budget="1s", budget="10m", trials=1, out=out, study="s")
    with pytest.raises(nlpkit.NlpkitError, match="study s: a study of 'lm' models, not 'sentiment'"):
        nlpkit.tune("sentiment", train=str(DATA / "sentiment.valid.tsv"), out=out, study="s", trials=1)
    bad = dict(SMALL, train=str(tmp_path / "missing.txt"))  # every trial fails the same way
    with pytest.raises(nlpkit.NlpkitError, match="3 trials in a row failed; the last: .*missing.txt: no such file"):
        nlpkit.tune("lm", **bad, trial_budget="1s", budget="60s", out=str(tmp_path / "other.toml"))
    shown = nlpkit.tune("lm", show=True, out=str(tmp_path / "other.toml"))["trials"]
    assert [t["state"] for t in shown] == ["fail"] * 3  # recorded as failed, not lost


def test_a_hopeless_trial_is_pruned_at_its_budget_share():
    from nlpkit.tuning.study import Pruned, Reporter

    class Trial:
        def __init__(self):
            self.reports = []

        def report(self, value, step):
            self.reports.append((step, value))

        def should_prune(self):
            return len(self.reports) >= 2

    trial = Trial()
    reporter = Reporter(trial, "valid_loss", budget=100.0)
    reporter.write({"event": "progress", "elapsed": 5.0, "train_loss": 3.0})  # not a validation
    reporter.write({"event": "eval", "elapsed": 12.0, "valid_loss": 2.5})
    reporter.write({"event": "eval", "elapsed": 18.0, "valid_loss": 2.4})  # the same tenth: not reported twice
    with pytest.raises(Pruned):
        reporter.write({"event": "eval", "elapsed": 35.0, "valid_loss": 2.3})
    assert trial.reports == [(1, 2.5), (3, 2.3)]
    ended = Reporter(Trial(), "valid_loss", budget=100.0)
    ended.trial.reports = [(1, 2.5)]  # the pruner would cut it now, but its budget is spent: it completes
    ended.write({"event": "eval", "elapsed": 101.0, "valid_loss": 2.9})
    assert ended.trial.reports == [(1, 2.5), (10, 2.9)]


@pytest.mark.parametrize(("prune_after", "pruned"), [(0.2, True), (0.25, False), (0.5, False), (1.0, False)])
def test_no_trial_is_pruned_before_its_share_of_the_budget(optuna, prune_after, pruned):
    from nlpkit.tuning.study import pruner

    study = optuna.create_study(direction="minimize", pruner=pruner(prune_after))
    for value in (4.0, 4.1, 4.2):  # three finished trials, the median's reference
        done = study.ask()
        for step in range(11):
            done.report(value + 1.0 - step / 10, step)
        study.tell(done, value)
    late = study.ask()
    late.report(9.0, 2)  # far behind at a fifth of its budget
    assert bool(late.should_prune()) is pruned  # 0.25: not before the third tenth; 1: never
    late.report(9.0, 9)
    assert bool(late.should_prune()) is (prune_after < 1.0)


def test_tune_from_the_shell_then_train_with_its_recipe(tmp_path):
    out = tmp_path / "best.toml"
    proc = cli_run(
        "tune", "lm", DATA / "sample.valid.txt", "--valid-fraction", "0.2", "--context", "16", "--layers", "1",
        "--hidden", "16", "--trial-budget", "2s", "--budget", "60s", "--trials", "1", "--out", out,
        "--best-model", tmp_path / "best.nlpk", fresh=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "trial 0 started (2s)" in proc.stderr and "best valid_loss" in proc.stdout
    assert "best.nlpk: the model of trial 0, the best" in proc.stderr and "best.nlpk" in proc.stdout
    scored = cli_run("lm", "eval", tmp_path / "best.nlpk", DATA / "sample.valid.txt", "--format", "json", check=True)
    assert json.loads(scored.stdout)["loss"] > 0
    shown = json.loads(cli_run("tune", "lm", "--show", "--out", out, "--format", "json", check=True).stdout)
    assert len(shown) == 1 and shown[0]["state"] == "complete"
    cli_run("lm", "train", "--config", out, "--out", tmp_path / "m.nlpk", "--quiet", check=True)
    if importlib.util.find_spec("matplotlib"):
        cli_run("tune", "lm", "--show", "--out", out, "--plot", tmp_path / "curve.png", check=True)
        assert (tmp_path / "curve.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    bad = cli_run("tune", "lm", DATA / "sample.valid.txt", "--trial-budget", "2m", "--budget", "1m", "--out", out)
    assert bad.returncode == 1 and bad.stderr.strip().startswith("error: --trial-budget 2m is longer than --budget 1m")


def test_a_study_starts_from_known_recipes(tmp_path, capsys):
    known = tmp_path / "known.toml"
    # hidden 32: outside the space; clip: neither searched nor fixed; context: fixed as the recipe has it
    known.write_text("lr = 0.002\nhidden = 32\nbatch_size = 16\nclip = 2.0\ncontext = 16\n", encoding="utf-8")
    out = str(tmp_path / "best.toml")
    nlpkit.tune("lm", **SMALL, trial_budget="1s", budget="10m", trials=1, out=out, start_from=[str(known)])
    (first,) = nlpkit.tune("lm", show=True, out=out)["trials"]
    assert first["params"]["lr"] == 0.002 and first["params"]["batch_size"] == 16
    assert first["params"]["schedule"] == "cosine" and first["params"]["dropout"] == 0.1  # the defaults it leaves
    assert first["params"]["hidden"] in (64, 128, 256, 512)  # sampled, and said so
    said = capsys.readouterr().err
    assert "known.toml: hidden lies outside the search space" in said
    assert "known.toml: clip 2 (trials: 1) neither searched nor fixed" in said and "context" not in said
