"""Language models: options.py (what can be asked; torch-free), task.py (LanguageModelTask), model.py."""
