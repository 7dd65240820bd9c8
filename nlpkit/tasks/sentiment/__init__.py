"""Text classification: options.py (torch-free), task.py (SentimentTask), model.py, ensemble.py, files.py, combine.py."""
