"""Translation: options.py (torch-free), task.py (TranslationTask), model.py, search.py, training.py, files.py, alignment.py."""
