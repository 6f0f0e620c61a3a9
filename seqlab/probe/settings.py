"""The probe's settings (no torch import, so the CLI can show the defaults cheaply)."""

from __future__ import annotations

from dataclasses import dataclass

CELLS = ("rnn", "gru", "lstm")
TASK_NAMES = ("copy", "adding")


@dataclass(frozen=True)
class ProbeSettings:
    """Everything a probe run depends on; ``check()`` lists the problems (empty when valid).

    Each (task, cell, lag) trains for at most ``steps`` Adam updates (``learning_rate``, batches of
    ``batch_size``, gradient norm clipped to ``clip_norm``) and stops once its validation skill (on
    ``valid_size`` sequences, every ``eval_every`` steps) reaches ``stop_skill``; it is then scored on
    ``eval_size`` held-out sequences. ``gate_bias`` starts the LSTM forget gate and the GRU update gate
    near "keep" (see ``ProbeModel``). A cell fails at the first lag whose skill is below ``margin``.
    ``symbols`` and ``alphabet`` shape the copy task; ``threads`` is torch's thread count.
    """

    cells: tuple[str, ...] = CELLS
    lags: tuple[int, ...] = (5, 10, 20, 50, 100)
    tasks: tuple[str, ...] = TASK_NAMES
    steps: int = 2000
    hidden_size: int = 64
    batch_size: int = 32
    learning_rate: float = 3e-3
    gate_bias: float = 5.0
    clip_norm: float = 1.0
    symbols: int = 3
    alphabet: int = 8
    eval_size: int = 1000
    valid_size: int = 256
    eval_every: int = 250
    stop_skill: float = 0.99
    margin: float = 0.3
    seed: int = 0
    threads: int = 1

    def check(self) -> list[str]:
        problems = [f"unknown cell {c!r} (valid: {', '.join(CELLS)})" for c in self.cells if c not in CELLS]
        problems += [
            f"unknown task {t!r} (valid: {', '.join(TASK_NAMES)})" for t in self.tasks if t not in TASK_NAMES
        ]
        for name in ("cells", "lags", "tasks"):
            values = getattr(self, name)
            if not values:
                problems.append(f"{name}: give at least one")
            elif len(set(values)) != len(values):
                problems.append(f"{name}: {list(values)} has duplicates")
        problems += [f"lag {lag} must be >= 1" for lag in self.lags if lag < 1]
        positive = ("steps", "hidden_size", "batch_size", "symbols", "eval_size", "valid_size", "eval_every")
        problems += [f"{n} must be >= 1, got {getattr(self, n)}" for n in positive if getattr(self, n) < 1]
        if self.alphabet < 2:
            problems.append(f"alphabet must be >= 2, got {self.alphabet}")
        if self.learning_rate <= 0:
            problems.append(f"learning_rate must be > 0, got {self.learning_rate}")
        if not 0 <= self.margin < 1:
            problems.append(f"margin must be in [0, 1), got {self.margin}")
        if self.threads < 1:
            problems.append(f"threads must be >= 1, got {self.threads}")
        return problems
