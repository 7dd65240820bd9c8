"""`nlpkit plot` and the history in `nlpkit info`, as a shell user runs them."""

from tests.conftest import nlpkit


def test_plot_two_runs_and_see_the_history_in_info(char_model, tmp_path):
    other = tmp_path / "other.nlpk"
    other.write_bytes(char_model.read_bytes())
    out = tmp_path / "curves.png"
    proc = nlpkit("plot", char_model, other, "--metric", "train_loss", "--x", "seconds", "--out", out, check=True)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "train_loss by seconds of 2 run(s)" in proc.stderr
    shown = nlpkit("info", char_model, check=True).stdout
    assert "history.evaluations" in shown and "history.train_loss" in shown
    bad = nlpkit("plot", char_model, "--metric", "valid_bleu", "--out", tmp_path / "x.png")
    assert bad.returncode == 1 and "holds no valid_bleu" in bad.stderr and "Traceback" not in bad.stderr
    bad = nlpkit("plot", char_model, "--out", char_model)  # refused by its name before it is compared
    assert bad.returncode == 1 and "a figure is written as .png, .svg, .pdf" in bad.stderr
    linked = tmp_path / "linked.png"
    linked.hardlink_to(other)
    bad = nlpkit("plot", other, "--out", linked)
    assert bad.returncode == 1 and "is an input of this run" in bad.stderr and other.read_bytes()[:8] != b"\x89PNG"
