"""Make the optional extras impossible to import, as on a machine that installed only what the
README's set-up command installs (`pip install -e ".[dev]"`). Put this folder on PYTHONPATH; the
second pass of .ci/run runs the tests that touch an extra this way, so they must skip cleanly
(or check the one-line error a user without the extra gets)."""

import importlib.abc
import importlib.util
import sys

BLOCKED = {
    "gensim",
    "onnx",
    "onnxruntime",
    "ctranslate2",
    "ray",
    "tensorboard",
    "mlflow",
    "optuna",
    "starlette",
    "uvicorn",
}


class _Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked: extras are not installed)", name=name)
        return None


sys.meta_path.insert(0, _Blocker())

_find_spec = importlib.util.find_spec


def _absent(name, package=None):
    """importlib.util.find_spec answers None for a blocked extra, as for one never installed."""
    if name.split(".")[0] in BLOCKED:
        return None
    return _find_spec(name, package)


importlib.util.find_spec = _absent
