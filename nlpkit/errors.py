"""The one exception type that means "the user gave us something we cannot use".

The CLI prints its message as a single line and exits 1; anything else is a bug and keeps its
traceback.
"""


class NlpkitError(Exception):
    """A problem with the user's input, files or options, explained in one line."""
