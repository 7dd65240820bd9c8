"""The optimizer of a training run: built from its config (AdamW or SGD, decay groups, layer-wise
rates), and its state written into a checkpoint and read back as tensors and JSON."""

from __future__ import annotations

import torch


def build_optimizer(model, config, scaled_groups: list | None = None):
    """AdamW or SGD over the model's parameters. `scaled_groups` [(params, lr_scale), ...]
    gives parts of the model their own share of the learning rate (layer-wise rates)."""
    scaled_groups = scaled_groups or [(list(model.parameters()), 1.0)]
    groups = []
    for params, scale in scaled_groups:
        # No weight decay on biases and norms.
        # pretrained word vectors are not pulled toward zero either (nlpkit.vectors.pretrained)
        decay = [p for p in params if p.requires_grad and p.dim() >= 2 and not getattr(p, "pretrained", False)]
        no_decay = [p for p in params if p.requires_grad and (p.dim() < 2 or getattr(p, "pretrained", False))]
        for members, weight_decay in ((decay, config.weight_decay), (no_decay, 0.0)):
            if members:
                groups.append({"params": members, "weight_decay": weight_decay, "lr_scale": scale})
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum)
    return torch.optim.AdamW(groups, lr=config.lr, betas=(0.9, 0.99))


def to_file(optimizer) -> tuple[dict, dict]:
    """The optimizer's state as tensors and JSON metadata for a checkpoint (no pickles)."""
    state = optimizer.state_dict()
    tensors, scalars = {}, {}
    for pid, entry in state["state"].items():
        for key, value in entry.items():
            if torch.is_tensor(value):
                tensors[f"optim.{pid}.{key}"] = value
            else:
                scalars[f"{pid}.{key}"] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def from_file(optimizer, tensors: dict, meta: dict) -> None:
    """Restore what to_file() wrote into an optimizer built the same way."""
    state: dict[int, dict] = {}
    for name, value in tensors.items():
        if name.startswith("optim."):
            _, pid, key = name.split(".", 2)
            state.setdefault(int(pid), {})[key] = value
    for name, value in meta["scalars"].items():
        pid, key = name.split(".", 1)
        state.setdefault(int(pid), {})[key] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
