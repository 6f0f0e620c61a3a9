"""What every encoder-decoder search does at one step, and the per-sentence length limits.

The searches (:mod:`seqlab.decoding.search`, :mod:`seqlab.decoding.beam`) talk to the model only
through the decoding protocol (``decode_step(tokens, state, memory) -> logits, state, attention``,
``state.reorder``, ``memory.reorder``). At every step each row's scores are made the same way, by
:func:`next_token_scores`, so greedy, sampling and beam search agree on the rules:

1. ``log_softmax`` of the float logits (the model's log-probabilities);
2. ``<bos>`` and ``<pad>`` are banned (a search never emits them);
3. the logits processors, each row with its own history (the output tokens so far, no ``<bos>``);
4. ``<eos>`` is banned while the row has fewer output tokens than its sentence's minimum length;
5. a row that must end, because it has reached its sentence's maximum length or because every token
   is banned (e.g. every continuation would repeat an n-gram), gets ``<eos>`` as its only
   candidate, scored with the model's log-probability of ``<eos>``. So every hypothesis ends, with a
   finite score, even when a beam is entirely blocked.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor

from seqlab.decoding.processors import LogitsProcessor
from seqlab.errors import ConfigError


def check_token_id(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{name} = {value!r}: must be an integer >= 0")
    return value


def check_length_tensors(max_lengths: Tensor, min_lengths: Tensor, batch_size: int) -> None:
    """Raise ConfigError unless both are integer tensors [batch_size] with values >= 0."""
    for name, value in (("max_lengths", max_lengths), ("min_lengths", min_lengths)):
        if not isinstance(value, Tensor) or value.dtype not in (torch.long, torch.int) or value.dim() != 1:
            got = f"{tuple(value.shape)} {value.dtype}" if isinstance(value, Tensor) else type(value).__name__
            raise ConfigError(f"{name}: expected an integer tensor [{batch_size}], got {got}")
        if value.shape[0] != batch_size:
            raise ConfigError(f"{name}: has {value.shape[0]} entries for a batch of {batch_size} sentences")
        if bool((value < 0).any()):
            raise ConfigError(f"{name} = {value.tolist()}: must all be >= 0")


def check_prefix(prefix: Tensor | None, batch_size: int, device: torch.device) -> Tensor:
    """A search's first history: ``prefix`` LongTensor[batch_size, t0] on ``device``, or [batch_size, 0]."""
    if prefix is None:
        return torch.zeros(batch_size, 0, dtype=torch.long, device=device)
    if not isinstance(prefix, Tensor) or prefix.dim() != 2 or prefix.shape[0] != batch_size:
        got = tuple(prefix.shape) if isinstance(prefix, Tensor) else type(prefix).__name__
        raise ConfigError(f"prefix: expected a tensor [{batch_size}, t0] of token ids, got {got}")
    return prefix.to(device).long()


@contextmanager
def inference_mode(model: Any) -> Iterator[None]:
    """Run ``model`` in eval mode without gradients, then restore its previous mode."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)


def length_limits(
    source_lengths: Tensor,
    *,
    max_length: int,
    max_length_ratio: float | None = None,
    min_length: int = 0,
    min_length_ratio: float | None = None,
) -> tuple[Tensor, Tensor]:
    """Per-sentence output length bounds (``<eos>`` not counted) -> (max_lengths, min_lengths) LongTensor[B].

    ``source_lengths`` LongTensor[B]. The tighter of the absolute and the ratio bound wins:
    ``max = min(max_length, ceil(max_length_ratio * source_length))`` and
    ``min = max(min_length, floor(min_length_ratio * source_length))``. Where the minimum exceeds the
    maximum, the maximum wins (the search ends every hypothesis at its maximum length).
    """
    check_token_id("max_length", max_length)
    check_token_id("min_length", min_length)
    for name, ratio in (("max_length_ratio", max_length_ratio), ("min_length_ratio", min_length_ratio)):
        ok = ratio is None or (
            not isinstance(ratio, bool)
            and isinstance(ratio, int | float)
            and math.isfinite(ratio)
            and ratio >= 0
        )
        if not ok:
            raise ConfigError(f"{name} = {ratio!r}: must be a finite number >= 0 or null")
    lengths = source_lengths.long()
    max_lengths = torch.full_like(lengths, max_length)
    # a ratio bound is clipped to max_length before the cast (a huge ratio would overflow int64)
    if max_length_ratio is not None:
        by_ratio = torch.ceil(lengths.double() * max_length_ratio).clamp(max=max_length).long()
        max_lengths = torch.minimum(max_lengths, by_ratio)
    min_lengths = torch.full_like(lengths, min_length)
    if min_length_ratio is not None:
        by_ratio = torch.floor(lengths.double() * min_length_ratio).clamp(max=max_length).long()
        min_lengths = torch.maximum(min_lengths, by_ratio)
    return max_lengths, min_lengths


def banned_ids(model: Any, bos_id: int, eos_id: int) -> list[int]:
    """Ids a search never emits: ``<bos>`` and the model's ``<pad>`` (never ``<eos>``)."""
    ids = {bos_id}
    pad_id = getattr(model, "pad_id", None)
    if isinstance(pad_id, int):
        ids.add(pad_id)
    ids.discard(eos_id)
    return sorted(ids)


def next_token_scores(
    logits: Tensor,
    history: Tensor,
    step: int,
    min_lengths: Tensor,
    max_lengths: Tensor,
    processors: LogitsProcessor | None,
    eos_id: int,
    banned: list[int],
) -> tuple[Tensor, Tensor]:
    """The scores of one step -> (log_probs, scores), both FloatTensor[R, V].

    ``logits`` FloatTensor[R, V]; ``history`` LongTensor[R, step], the output tokens of every row so
    far; ``min_lengths`` / ``max_lengths`` LongTensor[R], the bounds of each row's sentence.
    ``log_probs`` are the model's; ``scores`` follow the rules in the module docstring (``-inf`` =
    banned; every row keeps at least one finite score).
    """
    log_probs = logits.float().log_softmax(dim=-1)
    if eos_id >= log_probs.shape[-1]:
        raise ConfigError(f"eos_id = {eos_id}: must be < the vocabulary size {log_probs.shape[-1]}")
    scores = log_probs.clone()
    if banned:
        scores[:, banned] = -math.inf
    if processors is not None:
        scores = processors(scores, history)
    too_short = min_lengths > step
    scores[:, eos_id] = scores[:, eos_id].masked_fill(too_short, -math.inf)
    must_end = (max_lengths <= step) | ~(scores > -math.inf).any(dim=-1)
    if bool(must_end.any()):
        eos_only = torch.full_like(scores, -math.inf)
        # the model's log-probability of <eos>, kept finite (it underflows to -inf past the float range)
        eos_only[:, eos_id] = log_probs[:, eos_id].clamp(min=torch.finfo(log_probs.dtype).min)
        scores = torch.where(must_end.unsqueeze(1), eos_only, scores)
    return log_probs, scores


def sentence_attention(rows: Tensor, source_lengths: list[int]) -> list[Tensor]:
    """Split attention FloatTensor[N, T, S] into one CPU tensor [T, length] per row."""
    rows = rows.float().cpu()
    return [row[:, :length].clone() for row, length in zip(rows, source_lengths, strict=True)]
