"""nlpkit: train, evaluate and run neural sequence models from the shell.

Importing the package is cheap on purpose: torch and datasets are imported by the modules
that need them, so `nlpkit --help` answers without loading either.
"""

__version__ = "0.1.0"
