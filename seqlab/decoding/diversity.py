"""Diverse beam search (Vijayakumar et al. 2018, "Diverse Beam Search"): the groups and their penalty.

A beam of ``beam_size`` hypotheses per sentence is split into ``groups`` groups of
``beam_size / groups``. Each group is a beam search of its own (its own finished list and stopping
rules), except that at every step the groups choose one after the other, and group g's candidate
scores are lowered by the Hamming diversity term

    strength x (how many hypotheses of groups 0..g-1 of the same sentence chose that token at this step)

(the tokens of the hypotheses that go on; an ``<eos>`` that finishes one is not counted, nor a group
that has ended, by the plain beam rules, before the others). The term
is part of the running score, like the logits processors' penalties, so it also ranks the finished
hypotheses. Group 0 is never penalised. With ``groups = 1`` the search is plain beam search; with
``strength = 0`` each group is an independent beam search of ``beam_size / groups`` (the n-best list
then holds every hypothesis ``groups`` times).

:func:`expand_groups` lays the groups out as sentences of their own (sentence b, group g is row
``b * groups + g``), so :mod:`seqlab.decoding.beam` runs them as one batch; :func:`merge_groups`
joins each sentence's groups into its n-best list.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from seqlab.decoding.hypothesis import Hypothesis
from seqlab.errors import ConfigError
from seqlab.ranges import DIVERSITY_STRENGTH


def check_groups(beam_size: int, groups: object, strength: object) -> tuple[int, float]:
    """``(groups, strength)`` checked: an integer >= 1 that divides ``beam_size``, and a number in
    :data:`seqlab.ranges.DIVERSITY_STRENGTH`; otherwise a ConfigError naming the value."""
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ConfigError(f"diverse_groups = {groups!r}: must be an integer >= 1 (1: plain beam search)")
    if beam_size % groups != 0:
        valid = [d for d in range(1, beam_size + 1) if beam_size % d == 0]
        raise ConfigError(
            f"diverse_groups = {groups}: must divide beam_size = {beam_size} "
            f"(valid: {', '.join(map(str, valid))})"
        )
    return groups, DIVERSITY_STRENGTH.check("diversity_strength", strength)


def expand_groups(
    groups: int, memory: Any, state: Any, max_lengths: Tensor, min_lengths: Tensor, prefix: Tensor
) -> tuple[Any, Any, Tensor, Tensor, Tensor]:
    """Repeat every sentence's rows ``groups`` times (sentence b, group g -> row ``b * groups + g``)
    through ``reorder``: memory, state, max_lengths / min_lengths LongTensor[B] and prefix
    LongTensor[B, t0] -> the same with B x groups rows."""
    if groups == 1:
        return memory, state, max_lengths, min_lengths, prefix
    rows = torch.arange(max_lengths.shape[0], device=memory.lengths.device).repeat_interleave(groups)
    return (
        memory.reorder(rows),
        state.reorder(rows),
        max_lengths[rows.to(max_lengths.device)],
        min_lengths[rows.to(min_lengths.device)],
        prefix[rows.to(prefix.device)],
    )


def hamming_penalty(candidates: Tensor, counts: Tensor, strength: float) -> Tensor:
    """``candidates`` FloatTensor[n, width, V] (running scores of each row's next tokens) lowered by
    ``strength`` x ``counts`` FloatTensor[n, V] (the tokens earlier groups of each row's sentence
    chose at this step) -> FloatTensor[n, width, V]. A ``-inf`` candidate stays ``-inf``."""
    return candidates - (strength * counts).unsqueeze(1)


def merge_groups(
    finished: list[list[Hypothesis]], groups: int, n_best: int, group_size: int
) -> list[list[Hypothesis]]:
    """Per group (``finished``: B x groups lists, sentence-major) its best ``min(n_best, group_size)``
    hypotheses, joined per sentence and sorted by score -> per sentence its ``n_best`` best."""
    keep = min(n_best, group_size)
    best = [sorted(hyps, key=lambda h: -h.score)[:keep] for hyps in finished]
    if groups == 1:
        return [hyps[:n_best] for hyps in best]
    merged = []
    for start in range(0, len(best), groups):
        joined = [h for hyps in best[start : start + groups] for h in hyps]
        merged.append(sorted(joined, key=lambda h: -h.score)[:n_best])
    return merged
