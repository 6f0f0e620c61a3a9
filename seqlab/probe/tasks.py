"""Synthetic long-dependency tasks: the answer depends on an input seen ``lag`` steps earlier.

Both tasks draw every batch from a seeded ``torch.Generator``: the same seed gives the same batches.

- **copy** (copy-memory; Hochreiter & Schmidhuber 1997, Arjovsky et al. 2016): ``symbols`` random
  symbols from an alphabet of ``alphabet``, then ``lag`` blanks, a cue, and ``symbols - 1`` more
  blanks; from the cue on, the model must output the symbols in order. Each symbol is needed exactly
  ``symbols + lag`` steps after it was seen, and nothing seen after it helps. Score: per-symbol
  accuracy; chance ``1 / alphabet``.
- **adding** (Hochreiter & Schmidhuber 1997): ``lag + w`` steps (``w = max(1, lag // 10)``) of a
  uniform [0, 1) value and a marker bit; two steps are marked, one among the first ``w`` and one among
  the last ``w``; the target, read after the last step, is the sum of the two marked values. The first
  marked value lies between ``lag`` and ``lag + w - 1`` steps before the read-out. Score: mean squared
  error; the chance baseline (always answering 1, the mean) has MSE = var(U+U) = 1/6 = 0.167. The
  second marked value is always recent, so a model with no memory of the first can answer "recent
  value + 0.5", MSE = var(U) = 1/12 = 0.083: that is the task's *memoryless baseline*.

Each task has ``chance`` (the score of a constant answer) and ``baseline`` (the best score without the
input seen ``lag`` steps back); :func:`skill` measures a score against ``baseline``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch.nn import functional

from seqlab.errors import ConfigError
from seqlab.probe.settings import TASK_NAMES


@dataclass(frozen=True)
class ProbeBatch:
    """``inputs``: LongTensor[B, T] token ids (copy) or FloatTensor[B, T, 2] (value, marker) (adding);
    ``targets``: LongTensor[B, n] symbol classes 0..alphabet-1 (copy) or FloatTensor[B] sums (adding)."""

    inputs: torch.Tensor
    targets: torch.Tensor

    def to(self, device: torch.device | str) -> ProbeBatch:
        return ProbeBatch(self.inputs.to(device), self.targets.to(device))


@dataclass(frozen=True)
class CopyTask:
    """Copy-memory task. Tokens: 0 blank, 1..alphabet symbols, alphabet + 1 the cue."""

    lag: int
    symbols: int = 3
    alphabet: int = 8
    name: ClassVar[str] = "copy"
    metric: ClassVar[str] = "accuracy"
    higher_is_better: ClassVar[bool] = True

    def __post_init__(self) -> None:
        problems = []
        if self.lag < 1:
            problems.append(f"lag must be >= 1, got {self.lag}")
        if self.symbols < 1:
            problems.append(f"symbols must be >= 1, got {self.symbols}")
        if self.alphabet < 2:
            problems.append(f"alphabet must be >= 2, got {self.alphabet}")
        if problems:
            raise ConfigError("copy task: " + "; ".join(problems))

    @property
    def vocab_size(self) -> int:
        return self.alphabet + 2

    @property
    def cue_id(self) -> int:
        return self.alphabet + 1

    @property
    def length(self) -> int:
        """Steps per sequence: symbols, blanks, cue, and the blanks while the answer is written."""
        return 2 * self.symbols + self.lag

    @property
    def answer_steps(self) -> int:
        return self.symbols

    @property
    def output_size(self) -> int:
        return self.alphabet

    @property
    def chance(self) -> float:
        return 1.0 / self.alphabet

    @property
    def baseline(self) -> float:
        """Without the symbols, no answer beats chance."""
        return self.chance

    def sample(self, batch_size: int, generator: torch.Generator) -> ProbeBatch:
        """``batch_size`` sequences: inputs LongTensor[B, 2*symbols + lag], targets LongTensor[B, symbols]."""
        targets = torch.randint(0, self.alphabet, (batch_size, self.symbols), generator=generator)
        inputs = torch.zeros(batch_size, self.length, dtype=torch.long)
        inputs[:, : self.symbols] = targets + 1
        inputs[:, self.symbols + self.lag] = self.cue_id
        return ProbeBatch(inputs, targets)

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of ``outputs`` FloatTensor[B, symbols, alphabet] (logits) against the symbols."""
        return functional.cross_entropy(outputs.reshape(-1, self.alphabet), targets.reshape(-1))

    def score(self, outputs: torch.Tensor, targets: torch.Tensor) -> float:
        """Per-symbol accuracy of the arg-max answers."""
        return (outputs.argmax(-1) == targets).float().mean().item()


@dataclass(frozen=True)
class AddingTask:
    """Adding problem. Inputs per step: (value in [0, 1), marker 0/1)."""

    lag: int
    name: ClassVar[str] = "adding"
    metric: ClassVar[str] = "mse"
    higher_is_better: ClassVar[bool] = False
    chance: ClassVar[float] = 1.0 / 6.0
    baseline: ClassVar[float] = 1.0 / 12.0

    def __post_init__(self) -> None:
        if self.lag < 1:
            raise ConfigError(f"adding task: lag must be >= 1, got {self.lag}")

    @property
    def window(self) -> int:
        """How many steps each marker may fall in: the first ``window`` and the last ``window``."""
        return max(1, self.lag // 10)

    @property
    def length(self) -> int:
        return self.lag + self.window

    @property
    def answer_steps(self) -> int:
        return 1

    @property
    def output_size(self) -> int:
        return 1

    @property
    def input_size(self) -> int:
        return 2

    def sample(self, batch_size: int, generator: torch.Generator) -> ProbeBatch:
        """``batch_size`` sequences: inputs FloatTensor[B, lag + window, 2], targets FloatTensor[B]."""
        values = torch.rand(batch_size, self.length, generator=generator)
        first = torch.randint(0, self.window, (batch_size,), generator=generator)
        second = torch.randint(self.length - self.window, self.length, (batch_size,), generator=generator)
        markers = torch.zeros(batch_size, self.length)
        rows = torch.arange(batch_size)
        markers[rows, first] = 1.0
        markers[rows, second] = 1.0
        targets = values[rows, first] + values[rows, second]
        return ProbeBatch(torch.stack([values, markers], dim=-1), targets)

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean squared error of ``outputs`` FloatTensor[B, 1, 1] against the sums."""
        return functional.mse_loss(outputs.reshape(-1), targets)

    def score(self, outputs: torch.Tensor, targets: torch.Tensor) -> float:
        return functional.mse_loss(outputs.reshape(-1), targets).item()


ProbeTask = CopyTask | AddingTask


def build_task(name: str, lag: int, *, symbols: int = 3, alphabet: int = 8) -> ProbeTask:
    """The task called ``name`` (``copy`` or ``adding``) at dependency length ``lag``."""
    if name == "copy":
        return CopyTask(lag=lag, symbols=symbols, alphabet=alphabet)
    if name == "adding":
        return AddingTask(lag=lag)
    raise ConfigError(f"unknown probe task {name!r}; valid: {', '.join(TASK_NAMES)}")


def skill(task: ProbeTask, score: float) -> float:
    """How much of the gap from the memoryless baseline to perfect ``score`` closes: 0 = baseline,
    1 = perfect, < 0 worse. Accuracy: ``(acc - baseline) / (1 - baseline)``; MSE:
    ``(baseline - mse) / baseline``."""
    if task.higher_is_better:
        return (score - task.baseline) / (1.0 - task.baseline)
    return (task.baseline - score) / task.baseline
