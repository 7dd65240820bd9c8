"""The one configuration every shared encoder is built from."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from nlpkit.errors import option

RECURRENT_KINDS = ("rnn", "lstm", "gru")
ENCODER_KINDS = (*RECURRENT_KINDS, "transformer")  # every task's
BAG = "bag"  # no context: each position its word (and hashed n-grams); a classifier's only (nlpkit.encoders.bag)


@dataclass
class EncoderConfig:
    kind: str = "lstm"  # rnn | lstm | gru | transformer | bag (classifiers)
    input_size: int = 256
    hidden_size: int = 256  # recurrent hidden size, or the Transformer's model width
    layers: int = 2
    bidirectional: bool = False  # recurrent only
    dropout: float = 0.0  # between layers (recurrent) / inside blocks (Transformer)
    causal: bool = False  # Transformer only; recurrent forward passes are causal by nature
    heads: int = 4
    ff_size: int = 0  # 0 means 4 * hidden_size
    positions: str = "sinusoidal"  # sinusoidal | learned
    max_len: int = 1024  # longest sequence a Transformer with learned positions accepts
    weight_drop: float = 0.0  # recurrent, training only: DropConnect on the hidden-to-hidden weights
    layer_dropout: float = 0.0  # recurrent, training only: locked dropout between layers

    def __post_init__(self) -> None:
        if self.kind not in (*ENCODER_KINDS, BAG):
            raise ValueError(f"unknown encoder {self.kind!r}; choose one of {', '.join(ENCODER_KINDS)}")
        if self.layers < 1 or self.hidden_size < 1:
            raise ValueError("an encoder needs at least one layer and a positive hidden size")
        for name in ("weight_drop", "layer_dropout"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{option(name)} must lie in [0, 1), got {value}")
            if value and (self.kind == "transformer" or self.bidirectional):
                raise ValueError(
                    f"{option(name)} applies to unidirectional recurrent encoders (lstm, gru, rnn), "
                    f"not to a {'bidirectional ' if self.bidirectional else ''}{self.kind}"
                )
        if self.kind == "transformer":
            if self.bidirectional:
                raise ValueError(f"{option('bidirectional')} applies to recurrent encoders only")
            if self.hidden_size % self.heads:
                raise ValueError(f"hidden size {self.hidden_size} is not divisible by {self.heads} heads")
            if self.positions not in ("sinusoidal", "learned"):
                raise ValueError(f"unknown position encoding {self.positions!r}")

    @property
    def is_recurrent(self) -> bool:
        return self.kind in RECURRENT_KINDS

    @property
    def output_size(self) -> int:
        if self.kind == BAG:
            return self.input_size
        return self.hidden_size * (2 if self.bidirectional else 1)

    @classmethod
    def from_options(
        cls, options, *, causal: bool = False, bidirectional: bool = False, kinds=ENCODER_KINDS, **extra
    ) -> EncoderConfig:
        """The encoder a task's training options ask for (encoder, layers, hidden, dropout, heads,
        positions), built alike for every task. `dropout` goes inside every Transformer block and
        between recurrent layers, so a one-layer recurrent encoder gets none (there is no
        "between"; torch would only warn); `bidirectional` applies to recurrent kinds only.
        `extra`: further fields a task sets (ff_size, weight_drop, ...). `kinds`: the encoders the
        task takes (a classifier also takes `bag`)."""
        if options.encoder not in kinds:
            if options.encoder == BAG:
                raise ValueError(
                    f"{option('encoder')} bag (words and n-grams pooled, no context) is a classifier's: "
                    "`nlpkit sentiment train` takes it"
                )
            raise ValueError(f"unknown encoder {options.encoder!r}; choose one of {', '.join(kinds)}")
        recurrent = options.encoder in RECURRENT_KINDS
        if options.encoder == BAG:  # no layers: a width of the embedding's, one "layer" for the layer-wise rates
            return cls(kind=BAG, hidden_size=options.embed or options.hidden, layers=1, dropout=0.0, **extra)
        return cls(
            kind=options.encoder,
            hidden_size=options.hidden,
            layers=options.layers,
            bidirectional=bidirectional and recurrent,
            dropout=options.dropout if options.layers > 1 or not recurrent else 0.0,
            heads=options.heads,
            positions=options.positions,
            causal=causal,
            **extra,
        )

    def for_transfer(self) -> EncoderConfig:
        """A language model's encoder as another task's: weight drop and locked dropout between
        layers were the language model's training choices (and need unpadded streams)."""
        return replace(self, weight_drop=0.0, layer_dropout=0.0)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> EncoderConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
