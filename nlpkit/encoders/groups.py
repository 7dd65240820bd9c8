"""An encoder's parameters by depth, for layer-wise learning rates and gradual unfreezing."""

from __future__ import annotations

import re

_RECURRENT_LAYER = re.compile(r"_l(\d+)(_reverse)?$")
_BLOCK = re.compile(r"^blocks\.(\d+)\.")


def layer_of(name: str, layers: int) -> int:
    """The depth of an encoder parameter: 0 for the input side (projections, positions),
    1..layers for the layers, bottom to top (a Transformer's final norm counts as the top)."""
    if m := _RECURRENT_LAYER.search(name):
        return int(m.group(1)) + 1
    if m := _BLOCK.match(name):
        return int(m.group(1)) + 1
    if name.startswith("norm."):
        return layers
    return 0


def layer_groups(encoder) -> list[list]:
    """The encoder's parameters in layers + 1 lists, bottom (input side) to top."""
    layers = encoder.config.layers
    groups: list[list] = [[] for _ in range(layers + 1)]
    for name, param in encoder.named_parameters():
        groups[layer_of(name, layers)].append(param)
    return groups
