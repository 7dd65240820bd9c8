"""The shared encoders: every task builds its encoder with `build_encoder(config)`."""

from nlpkit.encoders.config import BAG, ENCODER_KINDS, RECURRENT_KINDS, EncoderConfig


def build_encoder(config: EncoderConfig):
    """A module with forward(x [B,T,D], lengths=None, state=None) -> (outputs, state)."""
    if config.kind == BAG:
        from nlpkit.encoders.bag import BagEncoder

        return BagEncoder(config)
    if config.is_recurrent:
        from nlpkit.encoders.recurrent import RecurrentEncoder

        return RecurrentEncoder(config)
    from nlpkit.encoders.transformer import TransformerEncoder

    return TransformerEncoder(config)


def initial_cache(encoder):
    """The empty state a causal Transformer needs to start caching; None for recurrent ones."""
    if encoder.config.is_recurrent:
        return None
    from nlpkit.encoders.transformer import KVCache

    return KVCache(encoder.config.layers)


__all__ = ["BAG", "ENCODER_KINDS", "RECURRENT_KINDS", "EncoderConfig", "build_encoder", "initial_cache"]
