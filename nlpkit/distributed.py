"""Data-parallel training across processes started by torchrun (torch.distributed).

    torchrun --nproc-per-node 4 -m nlpkit sentiment train data.tsv --out m.nlpk

torchrun sets RANK, WORLD_SIZE, LOCAL_RANK and the rendezvous address; `join()` reads them and
joins the process group: gloo on the CPU, NCCL on CUDA. Every process builds the same model from
the same seed, reads its own share of each step's batches (nlpkit.training), and the gradients
are averaged with one all-reduce a step before every process applies the same update. Rank 0
alone validates, writes checkpoints and the model file, and shows progress; the decisions that
end a run (its clock, early stopping) are rank 0's and broadcast, so the processes stop together.

The gradients go through one flattened all-reduce rather than the DistributedDataParallel
wrapper: the task adapters call model methods other than forward() (features, encode, loss),
which the wrapper's hooks do not follow; the arithmetic is the same, without overlapping the
communication with the backward pass.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from nlpkit.errors import NlpkitError


@dataclass
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0
    local_size: int = 1
    backend: str = ""

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def main_value(self, value: float, device) -> float:
        """Rank 0's `value` on every process."""
        if not self.distributed:
            return value
        import torch
        import torch.distributed as dist

        tensor = torch.tensor([float(value)], dtype=torch.float64, device=device)
        dist.broadcast(tensor, src=0)
        return float(tensor.item())

    def average(self, tensors: list, extra: list[float], device) -> list[float]:
        """Average `tensors` in place across the processes (one flattened all-reduce) and return
        the sums of `extra` (loss and token counts) over the processes."""
        if not self.distributed:
            return extra
        import torch
        import torch.distributed as dist

        flat = torch.cat([t.reshape(-1).float() for t in tensors] + [torch.tensor(extra, device=device)])
        dist.all_reduce(flat)
        offset = 0
        for t in tensors:
            n = t.numel()
            t.copy_(flat[offset : offset + n].view_as(t) / self.size)
            offset += n
        return flat[offset:].tolist()

    def same_everywhere(self, module, fingerprint: bytes, device) -> None:
        """Start every process from rank 0's weights, and refuse to train when the processes
        built different models (a tokenizer trained differently, other data)."""
        if not self.distributed:
            return
        import hashlib

        import torch
        import torch.distributed as dist

        digest = int(hashlib.sha256(fingerprint).hexdigest()[:12], 16)
        seen = torch.tensor([digest, -digest], dtype=torch.float64, device=device)
        dist.all_reduce(seen, op=dist.ReduceOp.MAX)
        if seen[0].item() != digest or -seen[1].item() != digest:
            raise NlpkitError(
                "the training processes built different models (their data or tokenizers differ); "
                "give every process the same files"
            )
        for tensor in module.state_dict().values():
            dist.broadcast(tensor, src=0)

    def close(self) -> None:
        if self.distributed:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()


def join(device_name: str = "auto") -> World:
    """The process group torchrun describes in the environment; a one-process World without it."""
    size = _env_int("WORLD_SIZE", 1)
    if size <= 1:
        return World()
    import datetime

    import torch
    import torch.distributed as dist

    rank, local_rank = _env_int("RANK", 0), _env_int("LOCAL_RANK", 0)
    cuda = device_name != "cpu" and torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(local_rank)
    backend = "nccl" if cuda else "gloo"
    if not dist.is_initialized():
        # validation runs on rank 0 while the others wait at the next step: allow it an hour
        dist.init_process_group(backend, timeout=datetime.timedelta(hours=1))
    return World(rank, size, local_rank, _env_int("LOCAL_WORLD_SIZE", 1), backend)


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError:
        raise NlpkitError(f"${name}={value!r} is not a number (set by torchrun)") from None
