"""Greedy search: at every step take the highest-scoring token (after the logits processors)."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from seqlab.decoding.loop import decode_loop
from seqlab.decoding.processors import LogitsProcessor


def greedy_choice(scores: Tensor) -> Tensor:
    """scores FloatTensor[B, V] -> LongTensor[B], the argmax of every row (the lowest id on ties)."""
    return scores.argmax(dim=-1)


def greedy_generate(
    model: Any,
    prompt: Tensor,
    max_new_tokens: int,
    processors: LogitsProcessor | None = None,
    eos_id: int | None = None,
    *,
    stop_at_eos: bool = True,
    pad_id: int | None = None,
) -> Tensor:
    """Greedy continuation of ``prompt`` LongTensor[B, t0] -> LongTensor[B, t0 + n], n <= max_new_tokens.

    Deterministic. See :func:`seqlab.decoding.loop.decode_loop` for how rows end and model mode.
    """
    return decode_loop(
        model,
        prompt,
        max_new_tokens,
        greedy_choice,
        processors,
        eos_id,
        stop_at_eos=stop_at_eos,
        pad_id=pad_id,
    )
