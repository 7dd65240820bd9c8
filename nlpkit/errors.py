"""The one exception type that means "the user gave us something we cannot use", and how
messages name options.

The CLI prints an NlpkitError's message as a single line and exits 1; anything else is a bug and
keeps its traceback. Library code names options by their field names (`time_budget`); the CLI
switches `option()` to flag spelling (`--time-budget`) once at start-up, so the same message reads
right in Python and in a shell.
"""

_FLAGS = False


class NlpkitError(Exception):
    """A problem with the user's input, files or options, explained in one line: line breaks
    a message picks up from what it quotes (a file name, a value) are shown escaped."""

    def __init__(self, message: str = ""):
        text = str(message)
        if any(ch in text for ch in "\r\n\v\f\x85\u2028\u2029"):
            text = text.strip().translate(_ESCAPED)
        super().__init__(text)


_ESCAPED = str.maketrans(
    {"\r": "\\r", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\x85": "\\x85", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def use_flags(on: bool = True) -> None:
    """Name options as command-line flags in messages (called by the CLI)."""
    global _FLAGS
    _FLAGS = on


def option(name: str) -> str:
    """How a message names the option `name`: `max_len` in Python, `--max-len` in the CLI."""
    return "--" + name.replace("_", "-") if _FLAGS else name
