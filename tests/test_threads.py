import pytest
import torch

from nlpkit import threads
from nlpkit.errors import NlpkitError


@pytest.fixture(autouse=True)
def keep_torch_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_an_explicit_count_wins(monkeypatch):
    monkeypatch.setenv(threads.ENV, "3")
    assert threads.choose(1) == 1
    assert threads.choose(0) == 3
    assert threads.apply(1) == 1 and torch.get_num_threads() == 1


def test_auto_takes_the_free_cores_and_leaves_omp_num_threads_alone(monkeypatch):
    monkeypatch.delenv(threads.ENV, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert threads.choose(0) is None  # the user's own OpenMP setting stands
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert 1 <= threads.choose(0) <= threads.cores()
    monkeypatch.setenv(threads.ENV, "auto")
    assert 1 <= threads.choose(0) <= threads.cores()


def test_busy_cores_are_not_taken(monkeypatch, tmp_path):
    monkeypatch.setattr(threads, "cores", lambda: 4)
    real_open = open

    def fake_open(path, *args, **kwargs):
        if path == "/proc/loadavg":
            fake = tmp_path / "loadavg"
            fake.write_text("1.00 0.50 0.20 3/120 999\n")  # this process and two others runnable
            return real_open(fake, *args, **kwargs)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", fake_open)
    assert threads.free_cores() == 2


def test_bad_settings_are_one_line_errors(monkeypatch):
    monkeypatch.setenv(threads.ENV, "many")
    with pytest.raises(NlpkitError, match="NLPKIT_THREADS='many'"):
        threads.choose(0)
    with pytest.raises(NlpkitError, match="threads: give 1 or more"):
        threads.apply(-1)


def test_onnxruntime_gets_a_count_by_the_same_rules_without_torch(monkeypatch):
    monkeypatch.setenv(threads.ENV, "3")
    assert threads.count(2) == 2 and threads.count(0) == 3
    monkeypatch.delenv(threads.ENV)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert threads.count(0) == 1  # the user's own OpenMP setting, as torch would read it
    monkeypatch.setenv("OMP_NUM_THREADS", "lots")
    assert threads.count(0) == threads.cores()
    assert threads.count(None) == torch.get_num_threads()  # None: as they are
    with pytest.raises(NlpkitError, match="threads"):
        threads.count(-1)
