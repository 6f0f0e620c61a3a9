"""The Trainer's guards against a run that has gone wrong: what they check and how they say it.

* :class:`DivergenceGuard`: the validation loss above ``factor`` times the validation loss before
  training (``start_loss``) for ``patience`` validations in a row (a non-finite loss counts as above).
* :func:`weight_problem`: a non-finite weight, or one whose magnitude passes ``max_abs_weight``.
* :func:`kept_checkpoints`: the sentence that ends every guard's error, naming only checkpoints that exist.

The Trainer raises :class:`~seqlab.errors.TrainingStopped` (exit status 3) when one fires.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from seqlab.rundir.names import BEST, LAST


@dataclass
class DivergenceGuard:
    """Counts validations in a row whose loss is above ``factor * start_loss``.

    Off when ``patience`` is None or the start is unknown (a run resumed from a checkpoint saved
    before the guard existed). ``above`` and ``start_loss`` go into ``last/state.json`` for exact resume.
    """

    patience: int | None
    factor: float = 2.0
    start_loss: float | None = None
    above: int = 0

    @property
    def threshold(self) -> float | None:
        """The loss above which a validation counts as diverging (None: the guard is off)."""
        if self.patience is None or self.start_loss is None:
            return None
        return self.factor * self.start_loss

    def update(self, loss: float) -> bool:
        """Count one validation's ``loss``; True once ``patience`` in a row were above the threshold."""
        threshold = self.threshold
        if threshold is None:
            return False
        self.above = self.above + 1 if not (math.isfinite(loss) and loss <= threshold) else 0
        return self.above >= self.patience  # type: ignore[operator]  # threshold is None without patience

    def describe(self, loss: float) -> str:
        """Why the guard fired, with the figures and the key that sets it."""
        return (
            f"the validation loss ({loss:.4g}) has been above training.divergence_factor = {self.factor:g} "
            f"times its value before training ({self.start_loss:.4g}) for {self.above} validations in a row "
            f"(training.divergence_patience = {self.patience})"
        )

    def state_dict(self) -> dict[str, Any]:
        return {"start_loss": self.start_loss, "above": self.above}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.start_loss, self.above = state["start_loss"], int(state["above"])


def weight_problem(model: nn.Module, max_abs_weight: float | None) -> str | None:
    """What is wrong with ``model``'s floating-point weights, or None: the first tensor holding NaN/inf,
    else (when ``max_abs_weight`` is set) the tensor with the largest magnitude past the bound."""
    largest, largest_name = 0.0, ""
    for name, tensor in model.state_dict().items():
        if not tensor.is_floating_point() or tensor.numel() == 0:
            continue
        if not bool(torch.isfinite(tensor).all()):
            return f"{name} holds non-finite weights (NaN/inf)"
        if max_abs_weight is not None:
            magnitude = float(tensor.detach().abs().max())
            if magnitude > largest:
                largest, largest_name = magnitude, name
    if max_abs_weight is not None and largest > max_abs_weight:
        return (
            f"a weight of {largest_name} has grown to {largest:.3g}, past training.max_abs_weight = "
            f"{max_abs_weight:g}"
        )
    return None


def kept_checkpoints(
    run_dir: Path, metric: str, best: tuple[int, float] | None, last_step: int | None
) -> str:
    """Which checkpoints a stopped run keeps: ``best`` is (step, value of ``metric``) or None;
    ``last_step`` the step ``last/`` holds, None when there is no ``last/``."""
    if best is None:
        text = f"There is no best checkpoint and no model.safetensors (no validation has improved {metric})"
    else:
        text = (
            f"The best checkpoint (step {best[0]}, {metric} {best[1]:.4g}) is kept in {run_dir / BEST} "
            f"and {run_dir / 'model.safetensors'}"
        )
    if last_step is None:
        return f"{text}; no checkpoint was saved."
    return f"{text}; {run_dir / LAST} holds step {last_step}."
