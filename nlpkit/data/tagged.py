"""Tagged sentences for named-entity tagging: CoNLL column files and JSONL read alike, tag
schemes converted to BIOES with repairs counted, empty sentences dropped.
"""

from __future__ import annotations

from collections.abc import Iterator

from nlpkit.console import warn
from nlpkit.errors import NlpkitError, option


def _column(text: str, name: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise NlpkitError(f"{option(name)}: a CoNLL column is a number (1 = first, -1 = last), got {text!r}") from None
    if value == 0:
        raise NlpkitError(f"{option(name)}: columns count from 1 (or from -1 at the end)")
    return value


def read_sentences(paths, input_format="auto", token_column="", tag_column="", encoding_errors="strict"):
    """Tagged sentences of CoNLL column files and JSONL files, in order."""
    from nlpkit.data import conll

    jsonl = [
        p for p in paths if input_format == "jsonl" or (input_format == "auto" and p.endswith((".jsonl", ".jsonl.gz")))
    ]
    columns = [p for p in paths if p not in jsonl]
    out = conll.Sentences()
    parts = []
    if jsonl:
        parts.append(conll.read_jsonl(jsonl, encoding_errors))
    if columns:
        cols = (_column(token_column or "1", "token_column"), _column(tag_column or "-1", "tag_column"))
        parts.append(conll.read_conll(columns, *cols, encoding_errors))
    for part in parts:
        for tokens, tags, where in zip(part.tokens, part.tags, part.where, strict=True):
            out.add(tokens, tags, where)
    return out


def token_records(paths: list[str], encoding_errors: str = "strict") -> Iterator[list[str]]:
    """The sentences of CoNLL files as token lists (tokens in the first column), streamed."""
    from nlpkit.data.conll import iter_conll

    for path in paths:
        for tokens, _, _ in iter_conll(path, 1, None, encoding_errors):
            yield tokens


def token_place(where: str, i: int) -> str:
    """Token i of the sentence at `where`: its own line in a CoNLL file, else its number."""
    return where.token(i) if hasattr(where, "token") else f"{where} (token {i + 1})"


def to_bioes(data, scheme: str, strict: bool, what: str) -> tuple[list[list[str]], str]:
    """The sentences' tags in BIOES and the scheme they were in; repaired tags are counted in a
    warning (or are an error when strict)."""
    from nlpkit.text.schemes import convert, detect_scheme, split_tag

    for tags, where in zip(data.tags, data.where, strict=True):
        for i, tag in enumerate(tags):
            try:
                split_tag(tag)
            except ValueError as exc:
                raise NlpkitError(f"{token_place(where, i)}: {exc}") from None
    source = detect_scheme(data.tags) if scheme == "auto" else scheme
    converted, repaired = [], 0
    for tags, where in zip(data.tags, data.where, strict=True):
        bioes, fixed = convert(tags, source, "bioes")
        if fixed and strict:
            i = next(i for i in range(len(tags)) if convert(tags[: i + 1], source, "bioes")[1])
            raise NlpkitError(
                f"{token_place(where, i)}: {tags[i]} continues no entity "
                f"(invalid {source.upper()}; drop {option('strict')} to repair)"
            )
        repaired += fixed
        converted.append(bioes)
    if repaired:
        warn(
            f"{what}: repaired {repaired:,} tag(s) that continued no entity (read as entity starts, as conlleval does)"
        )
    return converted, source


def drop_empty(data, what: str):
    from nlpkit.data.conll import Sentences

    kept = Sentences()
    for tokens, tags, where in zip(data.tokens, data.tags, data.where, strict=True):
        if tokens:
            kept.add(tokens, tags, where)
    if len(kept) < len(data):
        warn(f"{what}: skipped {len(data) - len(kept):,} empty sentence(s)")
    return kept


def hold_out(data, fraction: float, seed: int):
    """Split off a seeded random share of the sentences for validation."""
    from nlpkit.data.conll import Sentences
    from nlpkit.data.holdout import split

    return split(list(zip(data.tokens, data.tags, data.where, strict=True)), fraction, seed, Sentences(), Sentences())
