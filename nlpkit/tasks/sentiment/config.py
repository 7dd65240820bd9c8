"""The classifier's configuration, and an ensemble's: what a sentiment model file describes,
read without torch (so a graph runs in onnxruntime without it, nlpkit.export.runtime)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from nlpkit.encoders.config import BAG, EncoderConfig

TASK = "classifier"
POOLINGS = ("last", "mean", "max", "attention")
MAX_NGRAMS, MAX_BUCKETS = 4, 1 << 24  # the hash in nlpkit.encoders.bag stays exact below 2**24 buckets


@dataclass
class ClassifierConfig:
    vocab_size: int
    labels: list[str]
    embed_size: int = 256
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    pooling: list[str] = field(default_factory=lambda: ["max"])  # several are concatenated
    dropout: float = 0.3  # on embeddings and on the pooled vector
    word_dropout: float = 0.0  # share of tokens replaced by <unk> while training
    max_len: int = 512  # tokens read per text; the rest is cut
    backward: bool = False  # a second embedding + encoder reading right to left (init_from_backward)
    ngrams: int = 1  # encoder bag: n-grams up to this length join the words, hashed into ngram_buckets rows
    ngram_buckets: int = 0

    def __post_init__(self) -> None:
        unknown = [p for p in self.pooling if p not in POOLINGS]
        if unknown or not self.pooling:
            raise ValueError(
                f"unknown pooling {','.join(unknown) or '(none)'}; use {', '.join(POOLINGS)} or a comma list"
            )
        if len(self.labels) < 2:
            raise ValueError(f"a classifier needs at least 2 labels; the training data has {len(self.labels)}")
        if not 1 <= self.ngrams <= MAX_NGRAMS or not 0 <= self.ngram_buckets <= MAX_BUCKETS:
            raise ValueError(
                f"n-grams 1..{MAX_NGRAMS} and 0..{MAX_BUCKETS:,} buckets; got {self.ngrams}, {self.ngram_buckets}"
            )
        if self.ngrams > 1 and (self.encoder.kind != BAG or self.ngram_buckets < 1):
            raise ValueError("hashed n-grams go with encoder bag and at least one bucket")

    def to_dict(self) -> dict:
        return {**asdict(self), "encoder": self.encoder.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> ClassifierConfig:
        return cls(**{**data, "encoder": EncoderConfig.from_dict(data["encoder"])})


MAX_MEMBERS = 64  # a bound on what an untrusted file can make us build


@dataclass
class EnsembleConfig:
    members: list[ClassifierConfig]

    def __post_init__(self) -> None:
        if not isinstance(self.members, list) or not 2 <= len(self.members) <= MAX_MEMBERS:
            raise ValueError(f"an ensemble has 2 to {MAX_MEMBERS} members")
        first = self.members[0]
        for n, member in enumerate(self.members[1:], start=2):
            if member.labels != first.labels:
                raise ValueError(f"member {n} has labels {member.labels}, member 1 {first.labels}")
            if member.vocab_size != first.vocab_size:
                raise ValueError(f"member {n} has {member.vocab_size} tokens, member 1 {first.vocab_size}")

    # what the sentiment task and the exporter read from a classifier's config
    @property
    def labels(self) -> list[str]:
        return self.members[0].labels

    @property
    def vocab_size(self) -> int:
        return self.members[0].vocab_size

    @property
    def max_len(self) -> int:  # every member reads the same tokens: as many as the shortest reader takes
        return min(m.max_len for m in self.members)

    def describe(self) -> str:
        """Members by encoder kind, like '3 members: lstm x2, gru'."""
        kinds: dict[str, int] = {}
        for member in self.members:
            kinds[member.encoder.kind] = kinds.get(member.encoder.kind, 0) + 1
        return f"{len(self.members)} members: " + ", ".join(k + (f" x{n}" if n > 1 else "") for k, n in kinds.items())

    def to_dict(self) -> dict:
        return {"members": [m.to_dict() for m in self.members]}

    @classmethod
    def from_dict(cls, data: dict) -> EnsembleConfig:
        members = data["members"]
        if not isinstance(members, list) or len(members) > MAX_MEMBERS:  # checked before any is read
            raise ValueError(f"an ensemble has 2 to {MAX_MEMBERS} members")
        return cls([ClassifierConfig.from_dict(m) for m in members])


def config_from_dict(data: dict) -> ClassifierConfig | EnsembleConfig:
    """The config a classifier model file describes: one classifier's, or an ensemble's."""
    return EnsembleConfig.from_dict(data) if "members" in data else ClassifierConfig.from_dict(data)
