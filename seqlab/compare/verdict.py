"""The verdict: which contender wins on which criterion, computed from ``results.json`` alone.

Nothing here is written by hand: each criterion reads one number per contender from the results,
says whether lower or higher is better, and names the best contender, the runner-up and the margin.
Change a number in ``results.json`` and :func:`verdict` changes with it.

A criterion whose number is missing for a contender (e.g. memory not measured) leaves that
contender out; a criterion with fewer than two numbers gives no verdict. Equal best values are a tie.
A wall-clock budget makes training time equal by design, so that criterion is then left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

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
    """One line of the verdict table. ``winners`` has more than one name on a tie."""

    criterion: str
    label: str
    winners: tuple[str, ...]
    best: float
    runner_up: str | None
    runner_up_value: float | None
    margin: str

    def to_dict(self) -> dict[str, Any]:
        row = asdict(self)
        row["winners"] = list(self.winners)
        return row


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
    rep_n = results.get("evaluation", {}).get("repetition_n", 2)
    items = [
        Criterion("quality", f"quality ({label})", mode, _get("quality")),
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
    """One row per criterion that could be judged, in a fixed order."""
    rows = [judge(results, criterion) for criterion in criteria(results)]
    return [row for row in rows if row is not None]


def wins_by_contender(rows: list[VerdictRow]) -> dict[str, list[str]]:
    """Contender name -> the criteria (keys) it wins or ties."""
    wins: dict[str, list[str]] = {}
    for row in rows:
        for name in row.winners:
            wins.setdefault(name, []).append(row.criterion)
    return wins
