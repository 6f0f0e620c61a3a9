"""The Trainer's evaluation: :mod:`seqlab.models.evaluation`'s loop with every random generator saved
and restored, and the statistics summed across DDP ranks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch
from torch import nn

from seqlab.models.evaluation import metrics_from_sums, summed_loss_stats
from seqlab.training.distributed import DistInfo, all_reduce_sums
from seqlab.training.rng import preserved_rng


def evaluate(
    model: nn.Module,
    batches: Iterable[Any],
    device: torch.device,
    autocast: Callable[[], AbstractContextManager] = nullcontext,
    dist: DistInfo | None = None,
) -> dict[str, float]:
    """``type(model).summarize(summed stats)`` over ``batches``, plus ``loss`` and ``tokens_per_s``.

    Runs under ``torch.no_grad()`` and ``model.eval()`` (train mode is restored afterwards) with
    every random generator saved and restored, so it never perturbs training. Under DDP each rank
    passes its shard and the statistics are summed across ranks. ``loss`` is the mean batch loss,
    replaced by the model's own ``loss`` when ``summarize`` returns one.
    """
    dist = dist or DistInfo()
    started = time.monotonic()
    with preserved_rng():
        sums = summed_loss_stats(model, batches, device, autocast)
    return metrics_from_sums(model, all_reduce_sums(sums, dist), time.monotonic() - started)
