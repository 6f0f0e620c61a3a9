"""Per-example statistics and resampled scores of the set-level dialogue metrics: distinct-1,
distinct-2 and the frequent-answer share (:mod:`seqlab.metrics.dialogue`), for the paired bootstrap
of :mod:`seqlab.compare.bootstrap`.

These metrics are not sums over pairs: distinct-n counts the *different* n-grams of all outputs, and
a pair drawn twice in a resample adds its n-grams to the total but no new different n-gram; the
frequent-answer share depends on which outputs are the ten most frequent in the resample. So each
pair keeps the identities of what it holds and every resample is recomputed from them:

- ``distinct1``, ``distinct2``: the row ``[number of n-grams, id, id, ...]``, the ids those of the
  output's different n-grams (numbered per contender). A resample scores
  100 x (ids held by at least one drawn pair) / (sum of drawn pairs' n-gram counts, with repeats);
- ``frequent_share``: the row ``[output id]`` (equal token lists, equal id). A resample counts each
  output id with the pairs' draws and scores 100 x (the ten largest counts) / (pairs drawn).

With every pair drawn once both give exactly :func:`~seqlab.metrics.dialogue.distinct_n` and
:func:`~seqlab.metrics.dialogue.frequent_share`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from seqlab.metrics.dialogue import FREQUENT_TOP

SET_METRICS = {"distinct1": 1, "distinct2": 2, "frequent_share": 0}  # name -> n of distinct-n


def set_stats(metric: str, hyp_tokens: Sequence[Sequence[str]]) -> list[list[float]]:
    """One row per output (see the module docstring); ids are numbered in first-seen order."""
    ids: dict[tuple, int] = {}
    rows: list[list[float]] = []
    n = SET_METRICS[metric]
    for tokens in hyp_tokens:
        tokens = tuple(tokens)
        if metric == "frequent_share":
            rows.append([float(ids.setdefault(tokens, len(ids)))])
            continue
        grams = [tokens[start : start + n] for start in range(len(tokens) - n + 1)]
        different = sorted({ids.setdefault(gram, len(ids)) for gram in grams})
        rows.append([float(len(grams)), *map(float, different)])
    return rows


def _grouped(keys: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``members`` ordered by ``keys`` and the start of each key's group in that order."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    return members[order], starts


def set_scores(metric: str, stats: Sequence[Sequence[float]], counts: np.ndarray) -> np.ndarray:
    """(resamples,) scores of ``metric`` from the rows ``stats`` (one per pair) and ``counts``
    (resamples, pairs): how often each pair is drawn in each resample."""
    counts = np.asarray(counts, dtype=float)
    if not len(stats):
        return np.zeros(counts.shape[0])
    if metric == "frequent_share":
        outputs = np.array([int(row[0]) for row in stats])
        pairs, starts = _grouped(outputs, np.arange(len(stats)))
        per_output = np.add.reduceat(counts[:, pairs], starts, axis=1)  # (resamples, outputs)
        top = -np.sort(-per_output, axis=1)[:, :FREQUENT_TOP].sum(axis=1)
        drawn = counts.sum(axis=1)
        return np.where(drawn > 0, 100.0 * top / np.maximum(drawn, 1), 0.0)
    totals = counts @ np.array([row[0] for row in stats], dtype=float)
    gram_ids = np.array([int(v) for row in stats for v in row[1:]], dtype=np.int64)
    holders = np.array([i for i, row in enumerate(stats) for _ in row[1:]], dtype=np.int64)
    if not len(gram_ids):
        return np.zeros(counts.shape[0])
    pairs, starts = _grouped(gram_ids, holders)
    drawn = (counts > 0).astype(np.int8)[:, pairs]  # (resamples, occurrences)
    different = (np.maximum.reduceat(drawn, starts, axis=1) > 0).sum(axis=1)
    return np.where(totals > 0, 100.0 * different / np.maximum(totals, 1), 0.0)
