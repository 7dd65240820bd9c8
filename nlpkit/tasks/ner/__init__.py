"""Named-entity tagging: options.py (torch-free), task.py (NERTask), model.py (the tagger), config.py."""
