"""The loss protocol's evaluation loop: a model's summed ``loss`` statistics over batches, and the
metrics its ``summarize`` makes of them.

Shared by the Trainer's validation (:func:`seqlab.training.evaluate.evaluate`, which adds the saved
random state and the sum across DDP ranks) and by inference (a language model's perplexity), so the
two numbers come from one loop. Every model has ``loss(batch) -> (loss, stats)`` and a
``summarize(summed stats)`` classmethod; a batch has ``.to(device)`` and ``num_tokens``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch
from torch import nn


def summed_loss_stats(
    model: nn.Module,
    batches: Iterable[Any],
    device: torch.device,
    autocast: Callable[[], AbstractContextManager] = nullcontext,
) -> dict[str, float]:
    """The ``stats`` of ``model.loss`` summed over ``batches``, with ``__loss`` (the summed batch
    losses), ``__batches`` and ``__tokens``. Runs under ``torch.no_grad()`` and ``model.eval()``;
    train mode is restored afterwards."""
    sums: dict[str, float] = {"__loss": 0.0, "__batches": 0.0, "__tokens": 0.0}
    was_training = model.training
    with torch.no_grad():
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
    return sums


def metrics_from_sums(model: nn.Module, sums: dict[str, float], seconds: float) -> dict[str, float]:
    """``type(model).summarize`` of :func:`summed_loss_stats`'s sums, plus ``loss`` (the mean batch
    loss unless ``summarize`` gives one) and ``tokens_per_s`` over ``seconds``."""
    sums = dict(sums)
    loss_sum, count, tokens = sums.pop("__loss"), sums.pop("__batches"), sums.pop("__tokens")
    metrics = {"loss": loss_sum / count if count else math.nan}
    if count:
        metrics.update(type(model).summarize(sums))
    metrics["tokens_per_s"] = tokens / max(seconds, 1e-9)
    return metrics


def evaluate_model(
    model: nn.Module,
    batches: Iterable[Any],
    device: torch.device,
    autocast: Callable[[], AbstractContextManager] = nullcontext,
) -> dict[str, float]:
    """``type(model).summarize(summed stats)`` over ``batches`` in one process, plus ``loss`` and
    ``tokens_per_s`` (see :func:`metrics_from_sums`)."""
    started = time.monotonic()
    sums = summed_loss_stats(model, batches, device, autocast)
    return metrics_from_sums(model, sums, time.monotonic() - started)
