"""One finished output of an encoder-decoder search."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor


@dataclass(frozen=True)
class Hypothesis:
    """A finished output sequence of greedy, sampling or beam search.

    ``tokens``: the output ids, without ``<bos>`` and without the final ``<eos>``. Every hypothesis
    ends with ``<eos>`` (forced at the maximum length), so ``len(tokens) + 1`` steps were scored.
    ``score``: what the search ranks by: the sum of the processed log-probabilities of the
    ``len(tokens) + 1`` scored tokens, divided by the length penalty and plus the coverage penalty
    (beam search; greedy and sampling apply no penalties).
    ``log_prob``: the model's own log-probability of ``tokens`` + ``<eos>`` (before any processor).
    ``attention``: FloatTensor[len(tokens) + 1, S] on the CPU, one row per scored step (the last row
    is the step that produced ``<eos>``), S = this sentence's real source length; ``None`` when the
    model returns no attention.
    """

    tokens: list[int]
    score: float
    log_prob: float
    attention: Tensor | None = None
