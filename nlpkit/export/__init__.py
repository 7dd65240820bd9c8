"""Models as ONNX graphs: `export_onnx` writes one (graphs.py), `load_onnx` runs one in
onnxruntime behind the task's own prediction code (runtime.py)."""

from nlpkit.export.graphs import EXPORTABLE, export_onnx
from nlpkit.export.runtime import load_onnx

__all__ = ["EXPORTABLE", "export_onnx", "load_onnx"]
