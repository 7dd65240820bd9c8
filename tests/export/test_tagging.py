"""The torch-free runner of exported tagger graphs (nlpkit.export.tagging): its numpy decoding
equals nlpkit.crf's, and `ner tag` on a graph never imports torch."""

import subprocess
import sys

import numpy as np
import pytest
import torch

import nlpkit
from nlpkit import crf as torch_crf
from nlpkit.export import tagging
from nlpkit.text.schemes import allowed_transitions, bioes_tags

pytestmark = pytest.mark.extras  # CI runs these again with the extras blocked (.ci/run)

TAGS = bioes_tags(["LOC", "PER", "ORG"])


def _batch(seed: int, batch: int = 6, time: int = 9):
    g = torch.Generator().manual_seed(seed)
    emissions = torch.randn(batch, time, len(TAGS), generator=g) * 3
    lengths = torch.tensor([time, 1, 4, time - 1, 2, 7][:batch])
    return emissions, lengths, torch.arange(time)[None] < lengths[:, None]


def _trained_crf(seed: int) -> torch_crf.CRF:
    crf = torch_crf.CRF(*allowed_transitions(TAGS))
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in crf.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    return crf


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_crf_paths_equal_torch_and_marginals_agree(seed):
    crf = _trained_crf(seed)
    emissions, lengths, mask = _batch(seed)
    state = {k: v.detach().numpy() for k, v in crf.state_dict().items()}
    runner = tagging.GraphTagger(None, type("Config", (), {"tags": TAGS})(), state)
    paths, probs = runner.decode(emissions.numpy(), lengths.numpy(), with_probs=True)
    assert paths == crf.decode(emissions, mask)
    assert [len(p) for p in paths] == lengths.tolist()
    expected = crf.marginals(emissions, mask) * mask[:, :, None]
    assert np.abs(probs - expected.numpy()).max() < 1e-5
    assert np.allclose(probs.sum(-1)[mask.numpy()], 1.0, atol=1e-5)


def test_softmax_taggers_decode_under_the_scheme_constraints_as_torch_does():
    from nlpkit.tasks.ner.model import decode_emissions

    emissions, lengths, _ = _batch(5)
    runner = tagging.GraphTagger(None, type("Config", (), {"tags": TAGS})(), None)
    paths, probs = runner.decode(emissions.numpy(), lengths.numpy(), with_probs=True)
    want_paths, want_probs = decode_emissions(emissions, lengths, None, allowed_transitions(TAGS))
    assert paths == want_paths
    assert np.abs(probs - want_probs.numpy()).max() < 1e-5


def test_the_forbidden_score_is_the_crfs():
    assert tagging.FORBIDDEN == torch_crf.FORBIDDEN


def test_padding_matches_the_torch_batch():
    from nlpkit.tasks.ner.model import make_batch

    encoded = [([5, 6, 7], [[2, 3], [4], [5, 6, 7, 8]]), ([9], [[2]])]
    words, chars, lengths = tagging.padded(encoded)
    want = make_batch(encoded, [0, 1])
    for got, expected in zip((words, chars, lengths), want, strict=True):
        assert got.dtype == np.int64 and got.tolist() == expected.tolist()


@pytest.fixture(scope="module")
def ner_graph(ner_model, tmp_path_factory):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from nlpkit.export.graphs import export_onnx

    out = tmp_path_factory.mktemp("graph") / "n.onnx"
    export_onnx(nlpkit.load(ner_model[0], device="cpu", runtime="torch"), out)
    return out


def test_tagging_with_a_graph_never_imports_torch(ner_graph, ner_model, tmp_path):
    """The whole `ner tag` command on a graph, as a user runs it: no torch in the process (what
    -X importtime lists), and the same tags as the .nlpk model it came from."""
    text = tmp_path / "in.txt"
    text.write_text("Greta Sato sailed to Northwick .\n\nAnn went to Paris with Bo Li on Monday .\n")
    runs = {}
    for path in (ner_graph, ner_model[0]):
        cmd = [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "nlpkit",
            "ner",
            "tag",
            str(path),
            str(text),
            "--format",
            "conll",
            *(["--runtime", "torch"] if path == ner_model[0] else []),  # the .nlpk in PyTorch, to compare with
        ]
        runs[path] = subprocess.run(cmd, capture_output=True, text=True, check=True)
    imported = [line.rsplit("|", 1)[-1].strip() for line in runs[ner_graph].stderr.splitlines() if "|" in line]
    assert "nlpkit.export.tagging" in imported and "onnxruntime" in imported
    assert not [m for m in imported if m == "torch" or m.startswith("torch.")]
    assert "torch" in [line.rsplit("|", 1)[-1].strip() for line in runs[ner_model[0]].stderr.splitlines()]
    assert runs[ner_graph].stdout == runs[ner_model[0]].stdout
    lines = runs[ner_graph].stdout.split("\n")
    assert lines[:-1].count("") == 3  # a blank line ends each record: one per input line, the empty one too


def test_the_package_names_its_entry_points_without_importing_the_exporter():
    code = (
        "import sys; from nlpkit.export import load_onnx; print('torch' in sys.modules);"
        "from nlpkit.export import export_onnx; print('torch' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.split() == ["False", "True"]
