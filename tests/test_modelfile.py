import json
import struct

import pytest
import torch

from nlpkit import modelfile
from nlpkit.errors import NlpkitError


def sample(tmp_path, task="lm"):
    weight = torch.randn(5, 3)
    tensors = {"model.embedding.weight": weight, "model.decoder.weight": weight, "model.bias": torch.zeros(5)}
    path = tmp_path / "m.nlpk"
    modelfile.save(path, modelfile.ModelFile(task, {"model": {"hidden": 3}, "metrics": {"ppl": 1.5}}, tensors))
    return path, weight


def test_round_trip_keeps_tensors_metadata_and_ties(tmp_path):
    path, weight = sample(tmp_path)
    loaded = modelfile.load(path, task="lm")
    assert loaded.task == "lm"
    assert loaded.meta["model"] == {"hidden": 3}
    assert "versions" in loaded.meta
    torch.testing.assert_close(loaded.tensors["model.embedding.weight"], weight)
    assert loaded.tensors["model.decoder.weight"] is loaded.tensors["model.embedding.weight"]


def test_file_is_plain_safetensors_with_json_header(tmp_path):
    path, _ = sample(tmp_path)
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + size])
    meta = json.loads(header["__metadata__"]["nlpkit"])
    assert meta["format"] == "nlpk" and meta["task"] == "lm"


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path):
    path, _ = sample(tmp_path)
    sample(tmp_path)  # overwrite
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.nlpk"]


def test_truncated_file_is_a_clear_error(tmp_path):
    path, _ = sample(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:-10])
    with pytest.raises(NlpkitError, match="truncated"):
        modelfile.load(path)
    path.write_bytes(data[:20])
    with pytest.raises(NlpkitError, match="truncated"):
        modelfile.load(path)


@pytest.mark.parametrize(
    "content", [b"", b"hello world, not a model", b"\x08\x00\x00\x00\x00\x00\x00\x00{}\x00\x00\x00\x00\x00\x00"]
)
def test_not_a_model_is_a_clear_error(tmp_path, content):
    path = tmp_path / "x.nlpk"
    path.write_bytes(content)
    with pytest.raises(NlpkitError, match="not an nlpkit model|truncated"):
        modelfile.load(path)


def test_plain_safetensors_without_our_metadata_is_refused(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(NlpkitError, match="no nlpkit metadata"):
        modelfile.load(path)


def test_model_of_another_task_is_refused(tmp_path):
    path, _ = sample(tmp_path, task="ner")
    with pytest.raises(NlpkitError, match="a model for 'nlpkit ner', not for 'nlpkit lm'"):
        modelfile.load(path, task="lm")


def test_missing_path_and_directory(tmp_path):
    with pytest.raises(NlpkitError, match="no such model file"):
        modelfile.load(tmp_path / "nope.nlpk")
    with pytest.raises(NlpkitError, match="directory"):
        modelfile.load(tmp_path)


def test_newer_format_version_is_refused(tmp_path):
    from safetensors.torch import save

    path = tmp_path / "future.nlpk"
    meta = {"format": "nlpk", "format_version": 99, "task": "lm"}
    path.write_bytes(save({"w": torch.zeros(1)}, metadata={"nlpkit": json.dumps(meta)}))
    with pytest.raises(NlpkitError, match="newer"):
        modelfile.load(path)


def test_loading_and_predicting_stay_off_torch_dynamo_and_torch_onnx(sentiment_model):
    """Building a model only to load its weights skips the initialisers (on the meta device they
    would import torch._dynamo, 0.8 s of start-up), and the forward pass asks whether it is being
    exported without importing torch.onnx."""
    import subprocess
    import sys

    code = (
        f"import sys, nlpkit; list(nlpkit.load({str(sentiment_model[0])!r}, runtime='torch').predict(['a fine inn']));"
        "print([m for m in ('torch._dynamo', 'torch.onnx') if m in sys.modules])"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_initialisers_are_skipped_in_the_loading_thread_only():
    import threading

    import torch

    from nlpkit.tasks.files import without_initialisers

    other = {}
    with without_initialisers():
        mine = torch.nn.init.zeros_(torch.ones(2))
        thread = threading.Thread(target=lambda: other.update(w=torch.nn.init.zeros_(torch.ones(2))))
        thread.start()
        thread.join()
    assert mine.tolist() == [1.0, 1.0] and other["w"].tolist() == [0.0, 0.0]
    assert torch.nn.init.zeros_(torch.ones(2)).tolist() == [0.0, 0.0]  # restored
