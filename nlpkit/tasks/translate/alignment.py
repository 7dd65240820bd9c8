"""Word alignments from a translation's attention, and unknown target words replaced by the
source word they attend to most (`--replace-unk`, as OpenNMT's -replace_unk does).

Attention is over tokens (subwords); users want words. A word is a run of subword pieces
(sentencepiece marks a word's first piece with ▁; a character model's words end at spaces; a
word vocabulary's pieces are words). A target word's attention is the mean of its pieces' rows,
a source word's the sum of its pieces' columns; each target word is paired with the source word
it attends to most (Pharaoh-style `source-target` pairs, 0-based).
"""

from __future__ import annotations

MARK = "\u2581"  # sentencepiece's word-start mark


def surface(tokenizer, text: str, count: int) -> list[str]:
    """The first `count` source pieces as written in the text (an unknown word keeps its
    spelling, where the token ids only say <unk>)."""
    if tokenizer.kind == "word":
        found = text.split()
    elif tokenizer.kind == "char":
        found = list(text)
    else:
        found = tokenizer.sp.encode(text, out_type=str)
    return found[:count] if len(found) >= count else [*found, *["?"] * (count - len(found))]


def words(pieces: list[str], kind: str) -> list[tuple[str, list[int]]]:
    """(word, indexes of its pieces) for the pieces of one sentence."""
    out: list[tuple[str, list[int]]] = []
    for i, piece in enumerate(pieces):
        if kind == "char":
            if piece.isspace():
                continue
            starts = not out or pieces[i - 1].isspace()
        elif kind == "word":
            starts = True
        else:
            starts = not out or piece.startswith(MARK)
        text = piece.removeprefix(MARK) if kind not in ("char", "word") else piece
        if starts:
            out.append((text, [i]))
        else:
            word, members = out[-1]
            out[-1] = (word + text, [*members, i])
    return [(w, m) for w, m in out if w]


def word_pairs(src: list[tuple[str, list[int]]], tgt: list[tuple[str, list[int]]], attention) -> list[list[int]]:
    """[[source word, target word], ...]: each target word with the source word it attends to most."""
    pairs = []
    for t, (_, rows) in enumerate(tgt):
        scores = [sum(sum(attention[r][c] for c in cols) for r in rows) / len(rows) for _, cols in src]
        if scores:
            pairs.append([max(range(len(scores)), key=scores.__getitem__), t])
    return pairs


def replace_unknowns(
    target_pieces: list[str], unknown: list[bool], source_pieces: list[str], src_kind: str, tgt_kind: str, attention
):
    """The target pieces with each unknown one replaced by the source word holding the source
    piece it attends to most."""
    owner = {}
    for word, members in words(source_pieces, src_kind):
        owner.update(dict.fromkeys(members, word))
    out = []
    for i, piece in enumerate(target_pieces):
        if unknown[i] and i < len(attention):
            row = attention[i]
            best = max((c for c in range(len(row)) if c in owner), key=row.__getitem__, default=None)
            if best is not None:
                piece = owner[best] if tgt_kind in ("word", "char") else MARK + owner[best]
        out.append(piece)
    return out


def join(pieces: list[str], kind: str) -> str:
    """The text of target pieces (after replacement), on one line."""
    if kind == "word":
        return " ".join(pieces)
    if kind == "char":
        return "".join(pieces).replace("\n", " ").strip()
    return "".join(pieces).replace(MARK, " ").strip()


class AlignmentWriter:
    """Where `translate predict` puts each line's alignment: a JSONL record a line in `path`
    and/or the attention drawn as DIR/line-N.png in `plot_dir` (needs matplotlib). Both are
    checked when made, before any translating (nlpkit.outputs); the JSONL file is written whole
    or not at all, so an earlier one stays if the run fails. Use it as a context manager."""

    def __init__(self, path: str | None = None, plot_dir: str | None = None):
        from contextlib import ExitStack
        from pathlib import Path

        from nlpkit.outputs import Output, atomic_open, claim

        self.file, self.plot_dir = None, Path(plot_dir) if plot_dir else None
        claim(outputs=[Output("alignments", path), Output("plot", plot_dir, "folder")])
        if self.plot_dir is not None:
            from nlpkit.errors import option
            from nlpkit.plots import pyplot

            pyplot(option("plot"))  # a missing matplotlib fails now, not after the first translation
        self._open = ExitStack()
        if path:
            self.file = self._open.enter_context(atomic_open(path, "w"))

    @property
    def wanted(self) -> bool:
        return self.file is not None or self.plot_dir is not None

    def write(self, number: int, alignment: dict) -> None:
        """Line `number`'s alignment (TranslationTask.predict's "alignment" record)."""
        from nlpkit.data.writers import json_line

        record = {"line": number, **alignment}
        if self.file is not None:
            self.file.write(json_line(record) + "\n")
        if self.plot_dir is not None and record["attention"]:
            from nlpkit.plots import attention_heatmap

            path = self.plot_dir / f"line-{number:06d}.png"
            attention_heatmap(record["attention"], record["source"], record["target"], path)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        return self._open.__exit__(*exc)  # the file replaces the earlier one only if no error came
