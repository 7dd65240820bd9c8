"""The tagger's configuration and how it reads a sentence (word and character ids).

Torch-free on purpose: the torch model (nlpkit.tasks.ner.model) and the runner of an exported
graph (nlpkit.export.tagging), which never imports torch, share it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from nlpkit.encoders.config import EncoderConfig
from nlpkit.errors import option
from nlpkit.text.tokenizers import UNK_ID

TASK = "tagger"
CHAR_FEATURES = ("cnn", "lstm", "none")
MAX_WORD_CHARS = 24


@dataclass
class TaggerConfig:
    vocab_size: int
    tags: list[str]  # BIOES, "O" first
    scheme: str = "iob2"  # the scheme of the training data: what `ner tag` writes
    chars: list[str] = field(default_factory=list)  # character vocabulary (ids from 2: 0 pad, 1 unknown)
    embed_size: int = 100
    char_features: str = "cnn"
    char_embed: int = 30
    char_size: int = 50  # CNN filters, or LSTM units per direction
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    dropout: float = 0.5
    word_dropout: float = 0.05
    lowercase: bool = True  # word lookups ignore case; the character features keep it
    crf: bool = False
    backward: bool = False  # a second embedding + encoder reading right to left (init_from_backward)

    def __post_init__(self) -> None:
        if self.char_features not in CHAR_FEATURES:
            raise ValueError(f"unknown {option('char_features')} {self.char_features!r}; use cnn, lstm or none")

    def to_dict(self) -> dict:
        return {**asdict(self), "encoder": self.encoder.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> TaggerConfig:
        return cls(**{**data, "encoder": EncoderConfig.from_dict(data["encoder"])})

    @property
    def char_output(self) -> int:
        if self.char_features == "none":
            return 0
        return self.char_size * (2 if self.char_features == "lstm" else 1)


def word_key(word: str, config: TaggerConfig) -> str:
    return word.lower() if config.lowercase else word


def encode_sentence(words: list[str], vocab_index: dict, char_index: dict, config: TaggerConfig, seen=None):
    """(word ids, character ids of each word); `seen`, a dict kept by the caller, remembers each
    word's character ids (a text repeats its words: most are looked up once, not spelled out)."""
    ids = [vocab_index.get(word_key(w, config), UNK_ID) for w in words]
    if seen is None:
        return ids, [_spelled(w, char_index) for w in words]
    if len(seen) > 100_000:  # bounded, whatever the stream holds
        seen.clear()
    chars = []
    for w in words:
        found = seen.get(w)
        if found is None:
            found = seen[w] = _spelled(w, char_index)
        chars.append(found)
    return ids, chars


def _spelled(word: str, char_index: dict) -> list[int]:
    return [char_index.get(ch, 1) for ch in word[:MAX_WORD_CHARS]] or [1]
