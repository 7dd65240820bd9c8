"""Training a language model: the adapter the Trainer drives (windows of the token streams, the
carried recurrent state, the regularisers of docs/language-models.md)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from nlpkit.data.streams import batchify, variable_windows, window_count, windows
from nlpkit.encoders.state import detach_state
from nlpkit.errors import NlpkitError
from nlpkit.tasks.lm.model import LanguageModel
from nlpkit.tasks.lm.options import LMOptions
from nlpkit.tasks.lm.scoring import evaluate


@dataclass
class Regularisers:
    """Training-loss and data regularisers of LMTraining (the model's own are in LMConfig)."""

    ar: float = 0.0  # activation regularisation: ar * mean(output^2)
    tar: float = 0.0  # temporal activation regularisation: tar * mean((h_t - h_{t-1})^2)
    variable_bptt: bool = False  # recurrent: window lengths drawn around the context


class LMTraining:
    """The language-model side of the training engine (see nlpkit.training)."""

    metric, higher_is_better = LMOptions.SELECTED_BY

    def __init__(
        self,
        model: LanguageModel,
        train_ids: torch.Tensor,
        valid_ids: torch.Tensor | None,
        batch_size: int,
        device,
        seed: int = 0,
        regularisers: Regularisers | None = None,
    ):
        self.model = model
        self.device = device
        self.seed = seed
        self.regularisers = regularisers or Regularisers()
        self.context = model.config.context
        self.train_ids, self.batch_size = train_ids, batch_size
        self.data = batchify(train_ids, batch_size).to(device)
        self.valid_ids = valid_ids
        self.state = None

    def shard(self, rank: int, size: int) -> bool:
        """Training on `size` processes: this one reads its own contiguous part of the text
        (parts of equal length, so every process makes the same number of steps), keeping the
        carried state continuous along its own streams."""
        part = len(self.train_ids) // size
        try:
            self.data = batchify(self.train_ids[rank * part : (rank + 1) * part], self.batch_size).to(self.device)
        except ValueError as exc:
            raise NlpkitError(f"{size} processes: each one's share of the text is too small ({exc})") from None
        return True

    def _offset(self, epoch: int) -> int:
        # The Transformer sees windows at a fresh offset each epoch (more distinct contexts);
        # recurrent models keep offset 0 so the carried state stays continuous.
        if self.model.is_recurrent or epoch == 0:
            return 0
        g = torch.Generator().manual_seed(self.seed * 1000 + epoch)
        return int(torch.randint(0, self.context, (1,), generator=g))

    def steps_per_epoch(self) -> int:
        return window_count(self.data, self.context)

    def batches(self, epoch: int, start: int):
        if start == 0:
            self.state = None
        if self.regularisers.variable_bptt:
            g = torch.Generator().manual_seed(self.seed * 1000 + epoch)
            stream = variable_windows(self.data, self.context, g)
        else:
            stream = windows(self.data, self.context, self._offset(epoch))
        for i, batch in enumerate(stream):
            if i >= start:
                yield batch

    def lr_scale(self, group: list) -> float:
        """With variable BPTT a window's rate follows its length (AWD-LSTM), so a short window
        does not weigh as much as a full one."""
        if not self.regularisers.variable_bptt:
            return 1.0
        return sum(x.size(1) for x, _ in group) / (len(group) * self.context)

    def loss(self, batch):
        x, y = batch
        reg = self.regularisers
        state = detach_state(self.state) if self.model.is_recurrent else None
        activations = {} if (reg.ar or reg.tar) else None
        h, state = self.model.features(x, state, activations=activations)
        if self.model.is_recurrent:
            self.state = state
        loss = self.model.loss(h.reshape(-1, h.size(-1)), y.reshape(-1))
        if reg.ar:  # activation regularisation: keep the (dropped) outputs small
            loss = loss + reg.ar * activations["dropped"].pow(2).mean()
        if reg.tar and x.size(1) > 1:  # temporal: keep them from jumping between steps
            raw = activations["raw"]
            loss = loss + reg.tar * (raw[:, 1:] - raw[:, :-1]).pow(2).mean()
        return loss, y.numel()

    def evaluate(self) -> dict:
        if self.valid_ids is None:
            return {}
        result = evaluate(self.model, self.valid_ids)
        return {"valid_loss": round(result["loss"], 5), "valid_ppl": round(result["ppl"], 3)}

    def carry_state(self) -> dict:
        if self.state is None:
            return {}
        parts = self.state if isinstance(self.state, tuple) else (self.state,)
        # float32 even when computed under bf16 autocast: a run may resume in another precision
        return {str(i): p.detach().float() for i, p in enumerate(parts)}

    def restore_carry(self, tensors: dict) -> None:
        if not tensors:
            self.state = None
            return
        parts = tuple(tensors[str(i)].to(self.device) for i in range(len(tensors)))
        self.state = parts if len(parts) > 1 else parts[0]
