"""Weight averaging for the trainer: non-monotonically triggered averaged SGD (NT-ASGD,
Merity et al. 2018) and checkpoint averaging (`average_last`).

NT-ASGD trains with plain SGD until validation stops improving: once a validation is worse than
the best of those more than `nonmono` validations before it, every later step also adds the
weights into a running mean. From then on the mean is what is validated, kept and saved; the
raw iterates go on moving underneath. A checkpoint holds both, so `--resume` goes on averaging.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch


class AveragedSGD:
    def __init__(self, model, nonmono: int, higher_is_better: bool = False):
        self.model, self.nonmono = model, nonmono
        self.sign = -1.0 if higher_is_better else 1.0  # validations compared as "lower is better"
        self.history: list[float] = []  # validations before averaging began
        self.average: list[torch.Tensor] | None = None
        self.count = 0

    @property
    def active(self) -> bool:
        return self.average is not None

    def _params(self) -> list[torch.Tensor]:
        return [p for p in self.model.parameters() if p.requires_grad]

    def due(self, value: float) -> bool:
        """Record a validation; whether averaging should start now (the non-monotone trigger)."""
        if self.active:
            return False
        loss = self.sign * value
        trigger = len(self.history) > self.nonmono and loss > min(self.history[: -self.nonmono])
        self.history.append(loss)
        return trigger

    def start(self) -> None:
        self.average = [p.detach().clone() for p in self._params()]
        self.count = 1

    @torch.no_grad()
    def update(self) -> None:
        """After an optimizer step: fold the new weights into the running mean."""
        if self.average is None:
            return
        self.count += 1
        torch._foreach_lerp_(self.average, [p.detach() for p in self._params()], 1.0 / self.count)

    @contextmanager
    def swapped(self):
        """Inside, the model holds the averaged weights (when averaging has begun)."""
        if self.average is None:
            yield
            return
        params = self._params()
        raw = [p.detach().clone() for p in params]
        with torch.no_grad():
            torch._foreach_copy_(params, self.average)
        try:
            yield
        finally:
            with torch.no_grad():
                torch._foreach_copy_(params, raw)

    def to_file(self) -> tuple[dict, dict]:
        tensors = {f"asgd.{i}": t for i, t in enumerate(self.average or [])}
        return tensors, {"count": self.count, "history": self.history, "active": self.active}

    def from_file(self, tensors: dict, meta: dict) -> None:
        self.count, self.history = int(meta["count"]), [float(v) for v in meta["history"]]
        self.average = None
        if meta["active"]:
            params = self._params()
            average = [tensors.get(f"asgd.{i}") for i in range(len(params))]
            if any(a is None or a.shape != p.shape for a, p in zip(average, params, strict=True)):
                raise ValueError("the checkpoint's averaged weights do not match the model")
            self.average = [a.to(p.device, p.dtype) for a, p in zip(average, params, strict=True)]


def mean_weights(recent: list[dict]) -> dict:
    """The mean of several state dicts (integer buffers taken from the last)."""
    last = recent[-1]
    return {
        k: torch.stack([w[k].float() for w in recent]).mean(0).to(v.dtype) if v.is_floating_point() else v
        for k, v in last.items()
    }
