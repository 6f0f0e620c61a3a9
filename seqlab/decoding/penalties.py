"""Beam-search score penalties: length normalisation and the attention coverage penalty.

Both follow Wu et al. 2016 ("Google's Neural Machine Translation System", section 7). A finished
hypothesis with summed log-probability ``log_prob``, ``length`` scored tokens (``<eos>`` included)
and attention ``a[j, i]`` (target step j, real source token i) scores

    score = log_prob / lp(length) + cp
    lp(length) = 1                          (none)
               = length                     (average)
               = ((5 + length) / 6) ** alpha   (gnmt)
    cp = beta * sum_i log(min(sum_j a[j, i], 1.0))

``cp <= 0``: it lowers the score of hypotheses that leave source tokens unattended.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from seqlab.errors import ConfigError
from seqlab.ranges import COVERAGE_PENALTY

LENGTH_PENALTIES = ("none", "average", "gnmt")


def _check_weight(name: str, value: object) -> float:
    is_number = not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)
    if not is_number or value < 0:  # type: ignore[operator]
        raise ConfigError(f"{name} = {value!r}: must be a finite number >= 0")
    return float(value)  # type: ignore[arg-type]


class LengthPenalty:
    """Length normalisation ``kind`` (none | average | gnmt) with exponent ``alpha`` (gnmt only, >= 0)."""

    def __init__(self, kind: str = "none", alpha: float = 0.6) -> None:
        if kind not in LENGTH_PENALTIES:
            raise ConfigError(f"length_penalty = {kind!r}: must be one of {', '.join(LENGTH_PENALTIES)}")
        self.kind = kind
        self.alpha = _check_weight("alpha", alpha)

    def divisor(self, length: Tensor | int) -> Tensor:
        """lp(length) as a float tensor of ``length``'s shape (``length`` >= 1 scored tokens)."""
        length = torch.as_tensor(length, dtype=torch.float32)
        if self.kind == "average":
            return length
        if self.kind == "gnmt":
            return ((5.0 + length) / 6.0) ** self.alpha
        return torch.ones_like(length)

    def __call__(self, log_prob: Tensor, length: Tensor | int) -> Tensor:
        """``log_prob`` FloatTensor[N] / lp(``length``) -> FloatTensor[N]."""
        if self.kind == "none":
            return log_prob
        return log_prob / self.divisor(length).to(log_prob.device)

    def __repr__(self) -> str:
        return f"LengthPenalty(kind={self.kind!r}, alpha={self.alpha!r})"


class CoveragePenalty:
    """Wu et al.'s coverage penalty with weight ``beta`` (in [0, 100]; 0 switches it off)."""

    def __init__(self, beta: float = 0.0) -> None:
        self.beta = COVERAGE_PENALTY.check("coverage_penalty", beta)

    def __call__(self, attention_sum: Tensor, source_mask: Tensor) -> Tensor:
        """Penalty FloatTensor[N] (<= 0) of summed attention FloatTensor[N, S] over steps.

        ``source_mask`` BoolTensor[N, S] is True at real source tokens; padding is left out.
        """
        coverage = attention_sum.float().clamp(max=1.0).log()
        coverage = coverage.masked_fill(~source_mask, 0.0)
        return self.beta * coverage.sum(dim=-1)

    def __repr__(self) -> str:
        return f"CoveragePenalty(beta={self.beta!r})"
