"""Entity tag schemes: IOB1, IOB2 (BIO) and BIOES, detected, converted and constrained.

Everything goes through spans (type, first token, end token exclusive): a sequence is read into
spans under its scheme and written back out under another. Models tag in BIOES internally (every
token says where it sits in its entity), and `allowed_transitions` lists which tag may follow
which, so decoding can never produce an ill-formed sequence.
"""

from __future__ import annotations

SCHEMES = ("iob1", "iob2", "bioes")


def split_tag(tag: str) -> tuple[str, str]:
    """'B-PER' -> ('B', 'PER'); 'O' -> ('O', '')."""
    if tag == "O":
        return "O", ""
    prefix, sep, kind = tag.partition("-")
    if not sep or prefix not in ("B", "I", "E", "S") or not kind:
        raise ValueError(f"tag {tag!r} is not O or PREFIX-TYPE with a prefix of B, I, E or S")
    return prefix, kind


def detect_scheme(sequences) -> str:
    """bioes if any E-/S- tag; iob1 if B- only ever separates two entities of the same type
    and some entity starts with I-; else iob2."""
    starts_with_i = False
    b_only_between = True
    saw_b = False
    for tags in sequences:
        prev = ("O", "")
        for tag in tags:
            prefix, kind = split_tag(tag)
            if prefix in ("E", "S"):
                return "bioes"
            if prefix == "B":
                saw_b = True
                if prev[1] != kind:
                    b_only_between = False
            if prefix == "I" and prev[1] != kind:
                starts_with_i = True
            prev = (prefix, kind)
    if starts_with_i and (not saw_b or b_only_between):
        return "iob1"
    return "iob2"


def to_spans(tags: list[str], scheme: str) -> tuple[list[tuple[str, int, int]], int]:
    """The entity spans of a tag sequence, and how many tags had to be repaired (an I- or E-
    that continues nothing starts a new entity, as conlleval reads it)."""
    spans: list[tuple[str, int, int]] = []
    repaired = 0
    current: list | None = None  # [type, start]

    def close(end: int) -> None:
        nonlocal current
        if current is not None:
            spans.append((current[0], current[1], end))
            current = None

    for i, tag in enumerate(tags):
        prefix, kind = split_tag(tag)
        if prefix == "O":
            close(i)
            continue
        continues = current is not None and current[0] == kind
        if prefix == "B":
            close(i)
            current = [kind, i]
        elif prefix == "S":
            close(i)
            spans.append((kind, i, i + 1))
        elif prefix == "I":
            if not continues:
                if scheme != "iob1":
                    repaired += 1
                close(i)
                current = [kind, i]
        else:  # E
            if not continues:
                repaired += 1
                close(i)
                current = [kind, i]
            close(i + 1)
    close(len(tags))
    return spans, repaired


def from_spans(spans: list[tuple[str, int, int]], length: int, scheme: str) -> list[str]:
    tags = ["O"] * length
    previous_end, previous_kind = -1, ""
    for kind, start, end in spans:
        if scheme == "bioes":
            if end - start == 1:
                tags[start] = f"S-{kind}"
            else:
                tags[start] = f"B-{kind}"
                for i in range(start + 1, end - 1):
                    tags[i] = f"I-{kind}"
                tags[end - 1] = f"E-{kind}"
        else:
            first = "B" if scheme == "iob2" or (previous_end == start and previous_kind == kind) else "I"
            tags[start] = f"{first}-{kind}"
            for i in range(start + 1, end):
                tags[i] = f"I-{kind}"
        previous_end, previous_kind = end, kind
    return tags


def convert(tags: list[str], source: str, target: str) -> tuple[list[str], int]:
    spans, repaired = to_spans(tags, source)
    return from_spans(spans, len(tags), target), repaired


def bioes_tags(types: list[str]) -> list[str]:
    """O first, then B/I/E/S of each type."""
    return ["O"] + [f"{p}-{t}" for t in types for p in ("B", "I", "E", "S")]


def allowed_transitions(tags: list[str]) -> tuple[list[list[bool]], list[bool], list[bool]]:
    """For BIOES tags: allowed[i][j] (tag j may follow tag i), may-start and may-end flags."""
    parts = [split_tag(t) for t in tags]
    n = len(tags)
    allowed = [[False] * n for _ in range(n)]
    for i, (pi, ki) in enumerate(parts):
        for j, (pj, kj) in enumerate(parts):
            if pi in ("B", "I"):  # inside an entity: continue it
                ok = pj in ("I", "E") and kj == ki
            else:  # O, E, S: outside any entity
                ok = pj in ("O", "B", "S")
            allowed[i][j] = ok
    start = [p in ("O", "B", "S") for p, _ in parts]
    end = [p in ("O", "E", "S") for p, _ in parts]
    return allowed, start, end
