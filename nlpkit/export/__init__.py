"""Models as ONNX graphs: graphs.export_onnx writes one (torch), runtime.load_onnx runs one in
onnxruntime behind the task's own prediction code; a tagger graph runs without torch at all
(tagging.py). Nothing is imported here, so that running a graph never imports torch."""

METADATA_KEY = "nlpkit.modelfile"  # the model file less the graph's weights, base64
GRAPH_KEY = "nlpkit.graph"  # the task whose forward pass the graph holds
