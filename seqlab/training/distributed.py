"""Data-parallel training: the torchrun environment, the process group, and the DDP wrap.

``torchrun --nproc_per_node N -m seqlab train ...`` sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``;
:func:`init_distributed` turns them into a process group (gloo on CPU, nccl on CUDA). Without them
it is a no-op that describes a single process (rank 0 of 1). The Trainer wraps a :class:`LossModule`
in ``DistributedDataParallel`` when ``world_size > 1`` so gradients are averaged across ranks, sums
validation statistics with ``all_reduce``, and lets only rank 0 write files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands in a data-parallel job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """True on the one process (rank 0) that writes checkpoints, logs and progress bars."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True when more than one process takes part (collectives are needed)."""
        return self.world_size > 1


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else None


def init_distributed() -> DistInfo:
    """Join the process group described by torchrun's environment variables.

    Reads ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` (``MASTER_ADDR``/``MASTER_PORT`` are read by
    torch itself). Uses nccl when CUDA is available, gloo otherwise, and pins the CUDA device to
    ``LOCAL_RANK``. Without those variables (or with ``WORLD_SIZE=1``) nothing is initialised and
    ``DistInfo(rank=0, world_size=1, local_rank=0)`` is returned. Idempotent.
    """
    rank, world_size = _env_int("RANK"), _env_int("WORLD_SIZE")
    if rank is None or world_size is None or world_size <= 1:
        return current_dist_info()
    local_rank = _env_int("LOCAL_RANK") or 0
    if not dist.is_initialized():
        use_cuda = torch.cuda.is_available()
        if use_cuda:
            torch.cuda.set_device(local_rank)
        dist.init_process_group(backend="nccl" if use_cuda else "gloo", rank=rank, world_size=world_size)
    return DistInfo(rank=rank, world_size=world_size, local_rank=local_rank)


def current_dist_info() -> DistInfo:
    """Describe the process group that is already initialised, or a single process if none is."""
    if dist.is_available() and dist.is_initialized():
        return DistInfo(
            rank=dist.get_rank(), world_size=dist.get_world_size(), local_rank=_env_int("LOCAL_RANK") or 0
        )
    return DistInfo()


def cleanup() -> None:
    """Leave the process group (no-op when none was joined)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


class LossModule(nn.Module):
    """Wraps a model so that ``forward(batch)`` is ``model.loss(batch) -> (loss, stats)``.

    DDP hooks into ``forward``; routing the loss through it lets one Trainer drive every model
    family under DistributedDataParallel.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
        return self.model.loss(batch)


def wrap_for_training(model: nn.Module, info: DistInfo, device: torch.device) -> nn.Module:
    """``LossModule(model)``, inside DistributedDataParallel when ``info.world_size > 1``."""
    module: nn.Module = LossModule(model)
    if info.distributed:
        from torch.nn.parallel import DistributedDataParallel

        device_ids = [device.index if device.index is not None else info.local_rank]
        module = DistributedDataParallel(module, device_ids=device_ids if device.type == "cuda" else None)
    return module


def _collective_device() -> torch.device:
    """nccl collectives need CUDA tensors; gloo takes CPU tensors."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def all_reduce_sums(stats: dict[str, float], info: DistInfo) -> dict[str, float]:
    """Sum each value of ``stats`` across ranks (every rank must pass the same keys)."""
    if not info.distributed or not stats:
        return dict(stats)
    keys = sorted(stats)
    values = torch.tensor([float(stats[k]) for k in keys], dtype=torch.float64, device=_collective_device())
    dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return {k: float(v) for k, v in zip(keys, values.tolist())}


def any_rank(flag: bool, info: DistInfo) -> bool:
    """True on every rank when ``flag`` is true on at least one rank."""
    if not info.distributed:
        return flag
    value = torch.tensor([1 if flag else 0], dtype=torch.int32, device=_collective_device())
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def broadcast_int(value: int, info: DistInfo) -> int:
    """Rank 0's ``value`` on every rank (so that decisions such as stopping are taken together)."""
    if not info.distributed:
        return value
    tensor = torch.tensor([value], dtype=torch.int64, device=_collective_device())
    dist.broadcast(tensor, src=0)
    return int(tensor.item())
