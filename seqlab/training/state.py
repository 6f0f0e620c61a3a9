"""The Trainer's bookkeeping: counters that go into ``state.json``, and the running log window."""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Any, Literal


def is_better(value: float, best: float | None, mode: Literal["min", "max"]) -> bool:
    """True when ``value`` improves on ``best`` (strictly; a non-finite value never does)."""
    if not math.isfinite(value):
        return False
    if best is None:
        return True
    return value < best if mode == "min" else value > best


def finite_or_none(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with NaN/inf floats replaced by None (so it can go into strict JSON)."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in values.items()}


@dataclass
class EarlyStopping:
    """Stops after ``patience`` validations in a row without improvement (None: never)."""

    patience: int | None
    mode: Literal["min", "max"] = "min"
    best: float | None = None
    bad: int = 0
    stopped: bool = False

    def update(self, value: float) -> None:
        if self.patience is None:
            return
        if is_better(value, self.best, self.mode):
            self.best, self.bad = float(value), 0
        else:
            self.bad += 1
            self.stopped = self.bad >= self.patience

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "bad": self.bad, "stopped": self.stopped}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.bad, self.stopped = state["best"], int(state["bad"]), bool(state["stopped"])


@dataclass
class TrainState:
    """Counters of a run; all JSON-able, all restored on resume."""

    step: int = 0
    epoch: int = 0
    bad_steps: int = 0
    skipped_steps: int = 0
    elapsed_s: float = 0.0
    target_tokens: int = 0  # target tokens of every training batch so far (the token budget's count)
    best_metric: float | None = None
    best_step: int | None = None
    last_valid_step: int | None = None
    last_valid: dict[str, Any] = field(default_factory=dict)
    metrics_lines: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["last_valid"] = finite_or_none(self.last_valid)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainState:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class LogWindow:
    """Sums over the training steps since the last train log line."""

    loss_sum: float = 0.0
    updates: int = 0
    skipped: int = 0
    tokens: int = 0
    target_tokens: int = 0
    stats: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def add(
        self,
        loss: float,
        stats: dict[str, float],
        tokens: int,
        updated: bool,
        target_tokens: int | None = None,
    ) -> None:
        self.tokens += tokens
        self.target_tokens += tokens if target_tokens is None else target_tokens
        if not updated:
            self.skipped += 1
            return
        self.loss_sum += loss
        self.updates += 1
        for key, value in stats.items():
            self.stats[key] = self.stats.get(key, 0.0) + float(value)

    def tokens_per_s(self) -> float:
        return self.tokens / max(time.monotonic() - self.started, 1e-9)

    def target_tokens_per_s(self) -> float:
        return self.target_tokens / max(time.monotonic() - self.started, 1e-9)

    def mean_loss(self) -> float | None:
        return self.loss_sum / self.updates if self.updates else None


def batch_target_tokens(batch: Any) -> int:
    """Target tokens a training batch teaches (``batch.target_tokens`` where the batch tells them,
    else ``num_tokens``): what ``training.max_target_tokens`` counts, the same unit for every family."""
    return int(getattr(batch, "target_tokens", batch.num_tokens))
