"""Optimizers and learning-rate schedules, built from the config and resumable exactly.

The schedule is computed by hand (no LambdaLR) from a few counters, so its ``state_dict()`` is a
small JSON object and a resumed run sets the very same learning rates.

The learning rate used by update ``u`` (1-based) is ``base_lr * shape(u) * plateau_scale``:

* warmup (all schedules): ``shape(u) = u / warmup_steps`` for ``u <= warmup_steps``;
* ``constant`` / ``plateau``: 1;
* ``cosine``: from ``base_lr`` after warmup down to ``min_lr`` at ``u = total_steps`` (then flat);
* ``inverse_sqrt``: ``sqrt(max(warmup_steps, 1) / u)`` (equal to 1 where warmup ends);
* ``step``: ``factor ** ((u - 1) // step_size)``, i.e. multiplied by ``factor`` every
  ``step_size`` updates.

``plateau`` multiplies the rate by ``factor`` when a validation is the ``patience + 1``-th in a row
without improvement (the semantics of ``torch.optim.lr_scheduler.ReduceLROnPlateau``: with
``patience = 0`` every non-improving validation reduces it). After warmup, every schedule's rate
is floored at ``min_lr``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Literal

import torch

from seqlab.config import OptimizerConfig, ScheduleConfig
from seqlab.errors import ConfigError


def build_optimizer(params: Iterable[torch.nn.Parameter], cfg: OptimizerConfig) -> torch.optim.Optimizer:
    """The optimizer ``cfg.name`` over ``params``: adam, adamw, sgd (with momentum) or asgd.

    ASGD uses ``t0=0, lambd=0`` (averaging from the first step, as in AWD-LSTM's NT-ASGD switch).
    Adam and AdamW use torch's fused kernel (one pass over every parameter, instead of a few
    element-wise operations per tensor) where it exists: floating-point parameters on CPU or CUDA.
    On the peers benchmark's model (10.7 M parameters, 2 CPU threads): 15.3 -> 6.0 ms a step
    (``bench/speed_changes.py``).
    """
    params = list(params)
    if cfg.name == "adam":
        return torch.optim.Adam(
            params, lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay, fused=fused_supported(params)
        )
    if cfg.name == "adamw":
        return torch.optim.AdamW(
            params, lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay, fused=fused_supported(params)
        )
    if cfg.name == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.name == "asgd":
        return torch.optim.ASGD(params, lr=cfg.lr, t0=0, lambd=0.0, weight_decay=cfg.weight_decay)
    raise ConfigError(f"training.optimizer.name = {cfg.name!r}: must be one of adam, adamw, sgd, asgd")


def fused_supported(params: list[torch.nn.Parameter]) -> bool:
    """Whether torch's fused Adam/AdamW kernel takes ``params``: dense floating-point tensors, all on
    CPU or all on CUDA (elsewhere False: torch's per-tensor path)."""
    devices = {p.device.type for p in params}
    return (
        len(devices) == 1
        and devices <= {"cpu", "cuda"}
        and all(p.is_floating_point() and not p.is_sparse for p in params)
    )


class Schedule:
    """Sets the learning rate of every parameter group of an optimizer; see the module doc."""

    def __init__(self, optimizer: torch.optim.Optimizer, cfg: ScheduleConfig, total_steps: int) -> None:
        self.optimizer = optimizer
        self.cfg = cfg
        self.total_steps = max(int(total_steps), 1)
        self.base_lrs = [float(group["lr"]) for group in optimizer.param_groups]
        self.num_updates = 0
        self.plateau_scale = 1.0
        self.best: float | None = None
        self.bad_validations = 0
        self._apply()

    # -- the curve ----------------------------------------------------------------------------

    def shape(self, update: int) -> float:
        """The multiplier of the base rate for 1-based update number ``update`` (no plateau)."""
        cfg = self.cfg
        if cfg.warmup_steps and update <= cfg.warmup_steps:
            return update / cfg.warmup_steps
        if cfg.name == "cosine":
            span = max(self.total_steps - cfg.warmup_steps, 1)
            progress = min(max((update - cfg.warmup_steps) / span, 0.0), 1.0)
            return 0.5 * (1.0 + math.cos(math.pi * progress))
        if cfg.name == "inverse_sqrt":
            return math.sqrt(max(cfg.warmup_steps, 1) / update)
        if cfg.name == "step":
            return cfg.factor ** ((update - 1) // cfg.step_size)
        return 1.0

    def lr_at(self, update: int, base_lr: float) -> float:
        """The learning rate for update ``update`` of a group whose base rate is ``base_lr``."""
        cfg = self.cfg
        in_warmup = cfg.warmup_steps and update <= cfg.warmup_steps
        if cfg.name == "cosine" and not in_warmup:
            low = min(cfg.min_lr, base_lr)
            return (low + (base_lr - low) * self.shape(update)) * self.plateau_scale
        lr = base_lr * self.shape(update) * self.plateau_scale
        return lr if in_warmup else max(lr, min(cfg.min_lr, base_lr))

    def _apply(self) -> None:
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(self.num_updates + 1, base)

    @property
    def lr(self) -> float:
        """The learning rate the next update will use (first parameter group)."""
        return float(self.optimizer.param_groups[0]["lr"])

    # -- events -------------------------------------------------------------------------------

    def after_update(self) -> None:
        """Call after every optimizer step (skipped updates do not count)."""
        self.num_updates += 1
        self._apply()

    def after_validation(self, metric: float, mode: Literal["min", "max"] = "min") -> None:
        """Feed a validation metric; only ``plateau`` reacts (reduces after ``patience``)."""
        if self.cfg.name != "plateau":
            return
        improved = math.isfinite(metric) and (
            self.best is None or (metric < self.best if mode == "min" else metric > self.best)
        )
        if improved:
            self.best, self.bad_validations = float(metric), 0
            return
        self.bad_validations += 1
        if self.bad_validations > self.cfg.patience:
            self.bad_validations = 0
            floor = min(self.cfg.min_lr / b for b in self.base_lrs) if self.cfg.min_lr > 0 else 0.0
            self.plateau_scale = max(self.plateau_scale * self.cfg.factor, floor)
            self._apply()

    # -- resume -------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """JSON-able counters; :meth:`load_state_dict` restores the exact rates."""
        return {
            "name": self.cfg.name,
            "num_updates": self.num_updates,
            "plateau_scale": self.plateau_scale,
            "best": self.best,
            "bad_validations": self.bad_validations,
            "base_lrs": list(self.base_lrs),
            "total_steps": self.total_steps,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.num_updates = int(state["num_updates"])
        self.plateau_scale = float(state["plateau_scale"])
        self.best = None if state["best"] is None else float(state["best"])
        self.bad_validations = int(state["bad_validations"])
        self.base_lrs = [float(b) for b in state["base_lrs"]]
        self._apply()


def build_scheduler(optimizer: torch.optim.Optimizer, cfg: ScheduleConfig, total_steps: int) -> Schedule:
    """A :class:`Schedule` for ``optimizer``; ``total_steps`` is the planned number of updates."""
    return Schedule(optimizer, cfg, total_steps)
