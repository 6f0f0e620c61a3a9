"""Paired bootstrap of the quality difference between two contenders, from per-example statistics.

Every contender decodes the same held-out pairs, so the two contenders' outputs pair up example by
example. A resample draws the pairs with replacement (the same draw for both contenders) and
recomputes each contender's score the way the corpus metric is computed:

- ``bleu``, ``bleu1``, ``bleu2``, ``chrf``: sacreBLEU's sufficient statistics of each sentence
  (n-gram matches and totals, lengths; up to 1 or 2-grams for BLEU-1/2), summed over the resample
  and scored by sacreBLEU (``_compute_score_from_stats``, what ``corpus_score`` and sacreBLEU's own
  paired bootstrap use);
- ``per``, ``wer``: edit distance and reference length of each pair, summed; 100 x edits / length;
- ``exact_match``, ``rouge_l``: the per-pair values of :mod:`seqlab.metrics.sequences`, averaged;
- ``distinct1``, ``distinct2``, ``frequent_share``: set-level, not sums; each pair keeps the ids of
  its n-grams or of its output and every resample is recomputed (:mod:`seqlab.compare.set_metrics`).

The statistics are computed when a contender is measured (:func:`example_stats`) and kept in its
``result.json`` (``per_example``), so the interval is recomputed by ``--report-only`` too.

With several seeds each seed is a stratum: a resample draws every seed's pairs separately (the
contenders of one seed share their pairs) and the difference is the mean over the seeds of the
per-seed differences, i.e. the bootstrap of the difference of the mean scores the verdict judges.
It measures the uncertainty from the choice of held-out pairs, not from training; the spread over
seeds is reported beside it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from seqlab.compare.set_metrics import SET_METRICS, set_scores, set_stats
from seqlab.metrics import sequences as seq_metrics

RESAMPLES = 1000
LEVEL = 0.95
_CHUNK = 100  # resamples drawn at once (bounds the count matrix: CHUNK x pairs)
_TOLERANCE = 1e-6  # relative: the statistics must reproduce the recorded score


def pairs_digest(sources: Sequence[str], refs: Sequence[str]) -> str:
    """A short fingerprint of the held-out pairs: contenders are paired only when theirs agree."""
    digest = hashlib.sha256()
    for source, ref in zip(sources, refs):
        digest.update(source.encode("utf-8") + b"\x00" + ref.encode("utf-8") + b"\x01")
    return digest.hexdigest()[:16]


SACREBLEU_METRICS = {"bleu": 4, "bleu1": 1, "bleu2": 2, "chrf": 0}  # name -> BLEU's max n-gram order


def _sacrebleu_metric(metric: str) -> Any:
    from sacrebleu.metrics import BLEU, CHRF

    if metric == "chrf":
        return CHRF()  # the settings of seq_metrics.chrf
    return BLEU(max_ngram_order=SACREBLEU_METRICS[metric])  # those of seq_metrics.bleu


def example_stats(
    metric: str,
    hyp_texts: Sequence[str],
    ref_texts: Sequence[str],
    hyp_tokens: Sequence[Sequence[str]],
    ref_tokens: Sequence[Sequence[str]],
) -> list[list[float]]:
    """One row of sufficient statistics per pair for ``metric`` (see the module docstring); summed
    over any subset of the pairs, :func:`score_totals` gives that subset's corpus score."""
    if metric in SET_METRICS:
        return set_stats(metric, hyp_tokens)
    if metric in SACREBLEU_METRICS:
        stats = _sacrebleu_metric(metric)._extract_corpus_statistics(list(hyp_texts), [list(ref_texts)])
        return [[float(value) for value in row] for row in stats]
    if metric in ("per", "wer"):
        import editdistance

        return [
            [float(editdistance.eval(list(h), list(r))), float(len(r))]
            for h, r in zip(hyp_tokens, ref_tokens)
        ]
    if metric == "exact_match":
        return [[seq_metrics.exact_match([list(h)], [list(r)])] for h, r in zip(hyp_tokens, ref_tokens)]
    if metric == "rouge_l":
        return [[seq_metrics.rouge([h], [r])["rougeL"]] for h, r in zip(hyp_texts, ref_texts)]
    raise ValueError(f"unknown metric {metric!r}")  # the spec validated it


def score_totals(metric: str, totals: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Corpus scores from summed statistics: ``totals`` (resamples, k) are the statistics summed
    over each resample, ``counts`` (resamples,) its number of pairs. Returns (resamples,)."""
    if metric in SACREBLEU_METRICS:
        scorer = _sacrebleu_metric(metric)
        scores = [scorer._compute_score_from_stats([int(round(v)) for v in row]).score for row in totals]
        return np.minimum(np.array(scores, dtype=float), 100.0)  # seq_metrics.bleu caps at 100
    if metric in ("per", "wer"):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(totals[:, 1] > 0, 100.0 * totals[:, 0] / totals[:, 1], math.nan)
    if metric in ("exact_match", "rouge_l"):
        return totals[:, 0] / counts
    raise ValueError(f"unknown metric {metric!r}")


def resample_scores(metric: str, stats: Sequence[Sequence[float]], counts: np.ndarray) -> np.ndarray:
    """(resamples,) scores from the pairs' statistics and ``counts`` (resamples, pairs), how often
    each pair is drawn: summed statistics, or a set-level metric recomputed per resample."""
    if metric in SET_METRICS:
        return set_scores(metric, stats, counts)
    return score_totals(metric, counts @ np.asarray(stats, dtype=float), counts.sum(axis=1))


def corpus_score(metric: str, stats: Sequence[Sequence[float]]) -> float:
    """The corpus score of all the pairs (the identity resample)."""
    return float(resample_scores(metric, stats, np.ones((1, len(stats))))[0])


def _resample_counts(rng: np.random.Generator, resamples: int, pairs: int) -> np.ndarray:
    """(resamples, pairs): how often each pair is drawn in each resample (each row sums to pairs)."""
    draws = rng.integers(0, pairs, size=(resamples, pairs))
    flat = (draws + np.arange(resamples)[:, None] * pairs).ravel()
    return np.bincount(flat, minlength=resamples * pairs).reshape(resamples, pairs)


def bootstrap_differences(
    metric: str,
    strata: Sequence[tuple[Sequence[Sequence[float]], Sequence[Sequence[float]]]],
    resamples: int = RESAMPLES,
    seed: int = 1,
) -> np.ndarray:
    """(resamples,) differences ``score(first) - score(second)``, averaged over the strata (seeds);
    each stratum is ``(first's stats, second's stats)`` on the same pairs."""
    rng = np.random.default_rng(seed)
    differences = np.zeros(resamples)
    for first, second in strata:
        assert len(first) == len(second) > 0, "paired statistics of different lengths"
        done = 0
        while done < resamples:
            chunk = min(_CHUNK, resamples - done)
            counts = _resample_counts(rng, chunk, len(first)).astype(float)
            diff = resample_scores(metric, first, counts) - resample_scores(metric, second, counts)
            differences[done : done + chunk] += diff / len(strata)
            done += chunk
    return differences


@dataclass(frozen=True)
class DifferenceInterval:
    """The bootstrap of ``score(first) - score(second)`` (the task's metric, 0-100 scale).

    ``difference`` is the full-sample value (mean over seeds); ``low``/``high`` the percentile
    interval at ``level``. When no interval could be computed, ``reason`` says why and the numbers
    are None."""

    first: str
    second: str
    difference: float | None = None
    low: float | None = None
    high: float | None = None
    level: float = LEVEL
    resamples: int = RESAMPLES
    seeds: tuple[int, ...] = ()
    pairs: int = 0
    reason: str | None = None

    @property
    def clear(self) -> bool | None:
        """True when the interval excludes 0, False when it spans 0, None without an interval."""
        if self.low is None or self.high is None:
            return None
        return not (self.low <= 0.0 <= self.high)


def _runs(contender: dict[str, Any], default_seed: int) -> dict[int, dict[str, Any]]:
    """Seed -> the run's ``{"quality", "per_example"}`` (one run per seed, or the contender itself)."""
    runs = contender.get("seed_runs") or [{**contender, "seed": contender.get("seed", default_seed)}]
    return {int(run["seed"]): run for run in runs}


def _checked_stats(run: dict[str, Any], metric: str, name: str, seed: int) -> tuple[Any, str | None]:
    """The run's statistics and digest, or None and why they cannot be used."""
    per_example = run.get("per_example")
    if not per_example or not per_example.get("stats"):
        return None, f"{name} (seed {seed}) has no per-example statistics (results from an older seqlab?)"
    if per_example.get("metric") != metric:
        return None, f"{name} (seed {seed}) kept statistics for {per_example.get('metric')}, not {metric}"
    full = corpus_score(metric, per_example["stats"])
    recorded = run.get("quality")
    if recorded is None or not math.isclose(full, recorded, rel_tol=_TOLERANCE, abs_tol=_TOLERANCE):
        return None, (
            f"{name}'s per-example statistics give {full:.4g} (seed {seed}), its recorded quality is "
            f"{recorded}: was results.json edited?"
        )
    return per_example, None


def quality_interval(results: dict[str, Any], first: str, second: str) -> DifferenceInterval:
    """The paired bootstrap of ``quality(first) - quality(second)`` from ``results``: 1,000
    resamples seeded by the spec's ``seed``, every seed of the comparison a stratum."""
    metric = results["metric"]["name"]
    seed = int(results.get("seed") or 1)
    by_name = {c["name"]: c for c in results["contenders"]}
    runs_a, runs_b = _runs(by_name[first], seed), _runs(by_name[second], seed)
    seeds = tuple(s for s in runs_a if s in runs_b)
    interval = DifferenceInterval(first, second, seeds=seeds)
    if not seeds:
        return _replace(interval, reason=f"{first} and {second} share no seed")
    strata = []
    for run_seed in seeds:
        a, why_a = _checked_stats(runs_a[run_seed], metric, first, run_seed)
        b, why_b = _checked_stats(runs_b[run_seed], metric, second, run_seed)
        if a is None or b is None:
            return _replace(interval, reason=why_a or why_b)
        if a.get("pairs") != b.get("pairs") or len(a["stats"]) != len(b["stats"]):
            return _replace(
                interval, reason=f"{first} and {second} were scored on different pairs (seed {run_seed})"
            )
        strata.append((a["stats"], b["stats"]))
    differences = bootstrap_differences(metric, strata, RESAMPLES, seed)
    point = sum(corpus_score(metric, a) - corpus_score(metric, b) for a, b in strata) / len(strata)
    tail = 100 * (1 - LEVEL) / 2
    low, high = np.nanpercentile(differences, [tail, 100 - tail])
    return _replace(
        interval, difference=point, low=float(low), high=float(high), pairs=sum(len(a) for a, _ in strata)
    )


def _replace(interval: DifferenceInterval, **changes: Any) -> DifferenceInterval:
    import dataclasses

    return dataclasses.replace(interval, **changes)
