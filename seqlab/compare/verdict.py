"""The verdict: which contender wins on which criterion, computed from ``results.json`` alone.

Nothing here is written by hand: each criterion reads one number per contender from the results,
says whether lower or higher is better, and names the best contender, the runner-up and the margin.
Change a number in ``results.json`` and :func:`verdict` changes with it.

A criterion whose number is missing for a contender (e.g. memory not measured) leaves that
contender out; a criterion with fewer than two numbers gives no verdict. Equal best values are a tie.
A wall-clock budget makes training time equal by design, so that criterion is then left out.

Quality carries a paired bootstrap (:mod:`seqlab.compare.bootstrap`) of the difference between the
winner and the runner-up (or the first two tied winners); when its 95% interval spans zero, the
row says there is no clear winner. With several seeds quality is the mean over the seeds; the other
criteria read the first seed's run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from seqlab.compare.bootstrap import DifferenceInterval, quality_interval
from seqlab.compare.results import judged_quality
from seqlab.compare.spec import METRIC_LABELS

Contender = dict[str, Any]


@dataclass(frozen=True)
class Criterion:
    """How to read one number per contender, and which way is better (``min``, ``max``, or
    ``closest_to_one`` for a ratio)."""

    key: str
    label: str
    mode: str
    read: Callable[[Contender], float | None]
    unit: str = ""


@dataclass(frozen=True)
class VerdictRow:
    """One line of the verdict table. ``winners`` has more than one name on a tie. ``interval``:
    the bootstrap of the quality difference (quality only; None elsewhere)."""

    criterion: str
    label: str
    winners: tuple[str, ...]
    best: float
    runner_up: str | None
    runner_up_value: float | None
    margin: str
    interval: DifferenceInterval | None = None

    def to_dict(self) -> dict[str, Any]:
        row = asdict(self)
        row["winners"] = list(self.winners)
        return row

    @property
    def clear(self) -> bool:
        """False when the bootstrap interval spans zero (no clear winner); True otherwise."""
        return self.interval is None or self.interval.clear is not False


def _get(*path: str) -> Callable[[Contender], float | None]:
    def read(contender: Contender) -> float | None:
        value: Any = contender
        for key in path:
            if not isinstance(value, dict) or value.get(key) is None:
                return None
            value = value[key]
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    return read


def _longest_bucket(contender: Contender) -> float | None:
    """Quality in the longest source-length bucket that holds pairs."""
    rows = [
        row for row in contender.get("by_length") or [] if row.get("count") and row.get("score") is not None
    ]
    return float(rows[-1]["score"]) if rows else None


def criteria(results: dict[str, Any]) -> list[Criterion]:
    """The criteria that apply to ``results`` (its metric and budget decide some of them)."""
    metric = results["metric"]
    name, mode = metric["name"], metric["mode"]
    label = METRIC_LABELS.get(name, name)
    buckets = next((c.get("by_length") for c in results["contenders"] if c.get("by_length")), None)
    longest = [r for r in buckets or [] if r.get("count")]
    longest_label = f"{label} on the longest sources ({longest[-1]['label']} tokens)" if longest else ""
    seeds = results.get("seeds") or []
    quality_label = (
        f"quality ({label}, mean of {len(seeds)} seeds)" if len(seeds) > 1 else f"quality ({label})"
    )
    rep_n = results.get("evaluation", {}).get("repetition_n", 2)
    items = [
        Criterion("quality", quality_label, mode, judged_quality),
        Criterion("long_sources", longest_label, mode, _longest_bucket),
        Criterion("parameters", "fewest parameters", "min", _get("parameters")),
        Criterion(
            "train_speed", "training speed (target tokens/s)", "max", _get("train", "target_tokens_per_s")
        ),
        Criterion("train_time", "training wall time (s)", "min", _get("train", "wall_s"), "s"),
        Criterion("decode_speed", "decoding speed (sentences/s)", "max", _get("decode", "sentences_per_s")),
        Criterion("memory", "peak memory (MB)", "min", _get("memory", "peak_mb"), "MB"),
        Criterion(
            "repetition",
            f"fewest repeated {rep_n}-grams (no blocking)",
            "min",
            _get("repetition", "plain", "repeated_ngram_rate"),
        ),
        Criterion(
            "length_ratio",
            "output/reference length closest to 1 (no blocking)",
            "closest_to_one",
            _get("repetition", "plain", "length_ratio"),
        ),
    ]
    if "minutes" in results.get("budget", {}).get("kind", ""):
        items = [c for c in items if c.key != "train_time"]
    return [c for c in items if c.label]


def _badness(value: float, mode: str) -> float:
    """Lower is better for every mode."""
    if mode == "min":
        return value
    if mode == "max":
        return -value
    if mode == "closest_to_one":
        return abs(value - 1.0)
    raise ValueError(f"unknown criterion mode {mode!r}")  # an internal invariant


def _margin(best: float, other: float, mode: str) -> str:
    if mode == "closest_to_one":
        return f"|{best:.3g} - 1| vs |{other:.3g} - 1|"
    difference = abs(best - other)
    if other != 0 and best * other > 0:
        relative = difference / abs(other)
        factor = max(best, other) / min(best, other)
        return f"{factor:.2f}x" if factor >= 1.5 else f"{100 * relative:.1f}%"
    return f"{difference:.3g}"


def judge(results: dict[str, Any], criterion: Criterion) -> VerdictRow | None:
    """The winner(s) of one criterion, or None with fewer than two contenders measured."""
    values = [(c["name"], criterion.read(c)) for c in results["contenders"]]
    measured = [(name, value) for name, value in values if value is not None]
    if len(measured) < 2:
        return None
    ranked = sorted(measured, key=lambda item: _badness(item[1], criterion.mode))
    best_badness = _badness(ranked[0][1], criterion.mode)
    winners = tuple(name for name, value in ranked if _badness(value, criterion.mode) == best_badness)
    rest = [(name, value) for name, value in ranked if name not in winners]
    runner_up, runner_value = rest[0] if rest else (None, None)
    margin = "tie" if runner_value is None else _margin(ranked[0][1], runner_value, criterion.mode)
    return VerdictRow(
        criterion=criterion.key,
        label=criterion.label,
        winners=winners,
        best=ranked[0][1],
        runner_up=runner_up,
        runner_up_value=runner_value,
        margin=margin,
    )


def verdict(results: dict[str, Any]) -> list[VerdictRow]:
    """One row per criterion that could be judged, in a fixed order; the quality row carries the
    bootstrap interval of its difference."""
    rows = [judge(results, criterion) for criterion in criteria(results)]
    return [
        with_interval(results, row) if row.criterion == "quality" else row for row in rows if row is not None
    ]


def with_interval(results: dict[str, Any], row: VerdictRow) -> VerdictRow:
    """``row`` with the bootstrap of ``winner - runner-up`` (or of the first two tied winners)."""
    second = row.winners[1] if len(row.winners) > 1 else row.runner_up
    if second is None:
        return row
    return replace(row, interval=quality_interval(results, row.winners[0], second))


def wins_by_contender(rows: list[VerdictRow]) -> dict[str, list[str]]:
    """Contender name -> the criteria (keys) it wins or ties (a quality lead whose bootstrap interval
    spans zero is no win)."""
    wins: dict[str, list[str]] = {}
    for row in rows:
        if not row.clear:
            continue
        for name in row.winners:
            wins.setdefault(name, []).append(row.criterion)
    return wins


# ---------------------------------------------------------------------------------------------
# What the numbers say, in sentences
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LengthChange:
    """A contender's score in its shortest and longest source-length buckets that hold pairs."""

    name: str
    short_label: str
    short_count: int
    short_score: float
    long_label: str
    long_count: int
    long_score: float

    @property
    def change(self) -> float:
        return self.long_score - self.short_score


def length_changes(results: dict[str, Any]) -> dict[str, LengthChange | None]:
    """Contender name -> its change from the shortest to the longest bucket (None: fewer than two
    buckets with pairs and a score)."""
    changes: dict[str, LengthChange | None] = {}
    for contender in results["contenders"]:
        rows = [r for r in contender.get("by_length") or [] if r.get("count") and r.get("score") is not None]
        if len(rows) < 2:
            changes[contender["name"]] = None
            continue
        short, long = rows[0], rows[-1]
        changes[contender["name"]] = LengthChange(
            contender["name"],
            str(short["label"]),
            int(short["count"]),
            float(short["score"]),
            str(long["label"]),
            int(long["count"]),
            float(long["score"]),
        )
    return changes


def _direction(change: float, mode: str) -> str:
    if abs(change) < 0.05:
        return "unchanged"
    return "worse" if (change > 0) == (mode == "min") else "better"


def length_note(results: dict[str, Any]) -> str:
    """The by-length results in one paragraph: each contender's score in the shortest and the
    longest bucket and the change, e.g. ``s2s_none 8.1 -> 31.0 (+22.9 points, worse)``. It states
    the numbers only; whether a change is large is the reader's call."""
    metric = results["metric"]
    label = METRIC_LABELS.get(metric["name"], metric["name"])
    better = "lower is better" if metric["mode"] == "min" else "higher is better"
    changes = length_changes(results)
    known = [c for c in changes.values() if c is not None]
    if not known:
        return "No contender has two source-length buckets with pairs: no change by length to report."
    spans = {(c.short_label, c.short_count, c.long_label, c.long_count) for c in known}

    def span(c: LengthChange) -> str:
        return (
            f"sources of {c.short_label} tokens ({c.short_count} pairs) "
            f"to {c.long_label} tokens ({c.long_count} pairs)"
        )

    def one(name: str, c: LengthChange | None, with_span: bool) -> str:
        if c is None:
            return f"{name}: fewer than two length buckets with pairs"
        text = (
            f"{name}: {c.short_score:.1f} -> {c.long_score:.1f} "
            f"({c.change:+.1f} points, {_direction(c.change, metric['mode'])})"
        )
        return text + (f" from {span(c)}" if with_span else "")

    seeds = results.get("seeds") or []
    run = " (first seed's run)" if len(seeds) > 1 else ""
    if len(spans) == 1:
        lead = f"{label} ({better}) from {span(known[0])}{run}: "
        return lead + "; ".join(one(n, c, False) for n, c in changes.items()) + "."
    lead = f"{label} ({better}) from the shortest to the longest source-length bucket{run}: "
    return lead + "; ".join(one(n, c, True) for n, c in changes.items()) + "."


def interval_note(results: dict[str, Any], rows: list[VerdictRow]) -> str:
    """One sentence on the quality row's bootstrap: the difference, its interval, and whether it
    makes a clear winner (empty without a quality row)."""
    row = next((r for r in rows if r.criterion == "quality"), None)
    if row is None or row.interval is None:
        return ""
    interval = row.interval
    label = METRIC_LABELS.get(results["metric"]["name"], results["metric"]["name"])
    if interval.low is None or interval.high is None or interval.difference is None:
        return f"Quality: no bootstrap interval ({interval.reason})."
    seeds = interval.seeds
    over = (
        f"the {interval.pairs} held-out pairs"
        if len(seeds) <= 1
        else f"each of the {len(seeds)} seeds' held-out pairs ({interval.pairs} in all; "
        "the difference is the mean over seeds)"
    )
    verdict_text = (
        "the interval excludes 0" if interval.clear else "the interval spans 0: no clear winner on quality"
    )
    return (
        f"Quality: {interval.first} - {interval.second} = {interval.difference:+.2f} {label} points; "
        f"{100 * interval.level:.0f}% paired-bootstrap interval [{interval.low:+.2f}, {interval.high:+.2f}] "
        f"({interval.resamples} resamples of {over}, seeded by seed {results.get('seed')}); {verdict_text}."
    )
