"""Models as ONNX graphs: graphs.export_onnx writes one (torch), runtime.load_onnx runs one in
onnxruntime behind the task's own prediction code; a tagger graph runs without torch at all
(tagging.py). Nothing is imported here until asked for, so that running a graph never imports
torch."""

METADATA_KEY = "nlpkit.modelfile"  # the model file less the graph's weights, base64
GRAPH_KEY = "nlpkit.graph"  # the task whose forward pass the graph holds


def __getattr__(name: str):
    """`from nlpkit.export import export_onnx, load_onnx` as before, each module loaded on use."""
    if name in ("export_onnx", "EXPORTABLE"):
        from nlpkit.export import graphs

        return getattr(graphs, name)
    if name == "load_onnx":
        from nlpkit.export.runtime import load_onnx

        return load_onnx
    raise AttributeError(f"module 'nlpkit.export' has no attribute {name!r}")
