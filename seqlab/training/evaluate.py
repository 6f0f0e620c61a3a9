"""Evaluation: a model's summed ``loss`` statistics over a dataset, turned into metrics."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch
from torch import nn

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
    sums: dict[str, float] = {"__loss": 0.0, "__batches": 0.0, "__tokens": 0.0}
    started = time.monotonic()
    was_training = model.training
    with preserved_rng(), torch.no_grad():
        model.eval()
        try:
            for batch in batches:
                batch = batch.to(device)
                with autocast():
                    loss, stats = model.loss(batch)
                sums["__loss"] += float(loss)
                sums["__batches"] += 1
                sums["__tokens"] += int(batch.num_tokens)
                for key, value in stats.items():
                    sums[key] = sums.get(key, 0.0) + float(value)
        finally:
            model.train(was_training)
    sums = all_reduce_sums(sums, dist)
    loss_sum, count, tokens = sums.pop("__loss"), sums.pop("__batches"), sums.pop("__tokens")
    metrics = {"loss": loss_sum / count if count else math.nan}
    if count:
        metrics.update(type(model).summarize(sums))
    metrics["tokens_per_s"] = tokens / max(time.monotonic() - started, 1e-9)
    return metrics
