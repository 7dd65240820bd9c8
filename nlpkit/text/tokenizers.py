"""Character, word and sentencepiece tokenizers, serialisable into a model file.

Every tokenizer reserves ids 0-3 for <pad>, <unk>, <bos> and <eos>. A line's end is a token of
its own (`eos_id`): the newline character for character models, <eos> otherwise, so a model
learns where lines stop and `decode` turns it back into "\\n".
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)
PAD_ID, UNK_ID, BOS_ID, EOS_ID = range(4)


class VocabTokenizer:
    """A tokenizer with an explicit symbol list: characters or whitespace-separated words."""

    def __init__(self, kind: str, symbols: list[str]):
        self.kind = kind
        self.symbols = list(symbols)
        self.index = {s: i for i, s in enumerate(self.symbols)}
        self.eos_id = self.index["\n"] if kind == "char" and "\n" in self.index else EOS_ID

    @classmethod
    def train(cls, kind: str, lines: Iterable[str], min_freq: int = 1, max_size: int = 0):
        counts: Counter[str] = Counter()
        for line in lines:
            counts.update(line if kind == "char" else line.split())
        if kind == "char":
            counts["\n"] += 1  # line ends are part of a character stream
        counts.pop(UNK, None)  # corpora such as PTB spell the unknown word as <unk> already
        ranked = sorted((s for s, c in counts.items() if c >= min_freq), key=lambda s: (-counts[s], s))
        if max_size:
            ranked = ranked[: max(0, max_size - len(SPECIALS))]
        # Commonest first: an adaptive softmax puts the low ids in its fast head cluster.
        return cls(kind, [*SPECIALS, *ranked])

    @property
    def vocab_size(self) -> int:
        return len(self.symbols)

    def encode(self, text: str) -> list[int]:
        pieces = text if self.kind == "char" else text.split()
        get = self.index.get
        return [get(p, UNK_ID) for p in pieces]

    def decode(self, ids: Iterable[int]) -> str:
        out = []
        for i in ids:
            if i == self.eos_id:
                out.append("\n")
            elif i >= len(SPECIALS) or i == UNK_ID:
                out.append(self.symbols[i])
        if self.kind == "char":
            return "".join(out)
        return " ".join(out).replace(" \n ", "\n").replace(" \n", "\n").replace("\n ", "\n")

    def to_dict(self) -> dict:
        return {"kind": self.kind, "symbols": self.symbols}


class SentencePieceTokenizer:
    """BPE or unigram subwords, trained on the training text with sentencepiece."""

    def __init__(self, kind: str, model_proto: bytes):
        import sentencepiece as spm

        self.kind = kind
        self.model_proto = model_proto
        self.sp = spm.SentencePieceProcessor(model_proto=model_proto)
        self.eos_id = EOS_ID

    @classmethod
    def train(cls, kind: str, lines: Iterable[str], vocab_size: int):
        import sentencepiece as spm

        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=(line for line in lines if line.strip()),
            model_writer=model,
            model_type=kind,
            vocab_size=vocab_size,
            hard_vocab_limit=False,  # a small corpus gets a smaller vocabulary, not an error
            pad_id=PAD_ID,
            unk_id=UNK_ID,
            bos_id=BOS_ID,
            eos_id=EOS_ID,
            character_coverage=1.0,
            byte_fallback=False,
            input_sentence_size=2_000_000,
            shuffle_input_sentence=True,
            minloglevel=2,
        )
        return cls(kind, model.getvalue())

    @property
    def vocab_size(self) -> int:
        return self.sp.get_piece_size()

    def encode(self, text: str) -> list[int]:
        return self.sp.encode(text)

    def decode(self, ids: Iterable[int]) -> str:
        lines, current = [], []
        for i in ids:
            if i == EOS_ID:
                lines.append(self.sp.decode(current))
                current = []
            elif i > EOS_ID:
                current.append(i)
        lines.append(self.sp.decode(current))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"kind": self.kind}  # the model proto travels as a tensor (see modelfile)


Tokenizer = VocabTokenizer | SentencePieceTokenizer


def parse_spec(spec: str) -> tuple[str, int]:
    """'char' | 'word' | 'bpe:8000' | 'unigram:8000' -> (kind, size)."""
    kind, _, size = spec.partition(":")
    if kind not in ("char", "word", "bpe", "unigram"):
        raise ValueError(f"unknown tokenizer {spec!r}; use char, word, bpe:SIZE or unigram:SIZE")
    if kind in ("bpe", "unigram"):
        if not size.isdigit() or int(size) < 8:
            raise ValueError(f"tokenizer {spec!r} needs a vocabulary size, for example {kind}:8000")
        return kind, int(size)
    if size:
        if not size.isdigit():
            raise ValueError(f"bad vocabulary size in tokenizer {spec!r}")
        return kind, int(size)
    return kind, 0


class Reversed:
    """A tokenizer that reads right to left: the tokens of a text last to first (backward language
    models). Everything else is the wrapped tokenizer's; a model file stores that one."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def encode(self, text: str) -> list[int]:
        return self.inner.encode(text)[::-1]

    def decode(self, ids: Iterable[int]) -> str:
        return self.inner.decode(list(ids)[::-1])


def train_tokenizer(spec: str, lines: list[str], min_freq: int = 1) -> Tokenizer:
    kind, size = parse_spec(spec)
    if kind in ("bpe", "unigram"):
        return SentencePieceTokenizer.train(kind, lines, size)
    return VocabTokenizer.train(kind, lines, min_freq=min_freq, max_size=size)


def tokenizer_from_dict(data: dict, blob: bytes | None = None) -> Tokenizer:
    if data["kind"] in ("bpe", "unigram"):
        if blob is None:
            raise ValueError("the model file has no sentencepiece model")
        return SentencePieceTokenizer(data["kind"], blob)
    return VocabTokenizer(data["kind"], data["symbols"])


def tokenizer_to_file(tokenizer: Tokenizer) -> tuple[dict, dict]:
    """(JSON metadata, tensors) for a model file; a sentencepiece model travels as bytes."""
    import torch

    meta = {**tokenizer.to_dict(), "vocab_size": tokenizer.vocab_size}
    if isinstance(tokenizer, SentencePieceTokenizer):
        blob = torch.frombuffer(bytearray(tokenizer.model_proto), dtype=torch.uint8)
        return meta, {"tokenizer.sentencepiece": blob}
    return meta, {}


def tokenizer_from_file(meta: dict, tensors: dict) -> Tokenizer:
    """From a model file's metadata and tensors (torch tensors, or numpy arrays when read
    without torch)."""
    blob = tensors.get("tokenizer.sentencepiece")
    if blob is not None and hasattr(blob, "numpy"):
        blob = blob.numpy()
    return tokenizer_from_dict(meta, bytes(blob.tobytes()) if blob is not None else None)
