"""The time-to-quality figures from the checkpoint curves: minutes to each target, the best figure at
given minutes, seqlab/OpenNMT-py ratios against the goal, the printed table and the plot.

A curve is a list of points ``{"minutes": m, "step": s, "metric": v, ...}`` in the order of training,
``minutes`` being the wall clock from the start of the toolkit's training process to the moment the
checkpoint was written. A target is reached at the first checkpoint whose metric is at least as good
(WER <= target, BLEU >= target); so "minutes to target" has the resolution of the checkpoint spacing.
Only checkpoints within the budget count.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

TARGETS = {"g2p": (30.0, 27.0, 25.0), "multi30k": (30.0, 33.0, 35.0)}
LOWER_IS_BETTER = {"g2p": True, "multi30k": False}
METRIC_LABEL = {"g2p": "WER", "multi30k": "BLEU"}
TASK_LABEL = {"g2p": "G2P (CMUdict, 5% word hold-out)", "multi30k": "Multi30k en-de (valid)"}
GOAL_RATIO = 0.5  # seqlab's minutes at most half of OpenNMT-py's
TOOLKIT_LABEL = {"seqlab": "seqlab", "opennmt": "OpenNMT-py"}

Curve = list[dict[str, Any]]


def better_or_equal(value: float, target: float, lower: bool) -> bool:
    return value <= target if lower else value >= target


def within(curve: Curve, minutes: float) -> Curve:
    return [p for p in curve if p["minutes"] <= minutes and p.get("metric") is not None]


def minutes_to(curve: Curve, target: float, lower: bool, budget: float) -> float | None:
    """Minutes of the first checkpoint (within ``budget``) whose metric reaches ``target``; None if none."""
    for point in sorted(within(curve, budget), key=lambda p: p["minutes"]):
        if better_or_equal(point["metric"], target, lower):
            return float(point["minutes"])
    return None


def best_at(curve: Curve, minutes: float, lower: bool) -> float | None:
    """The best metric among the checkpoints written within ``minutes``; None if there is none."""
    values = [p["metric"] for p in within(curve, minutes)]
    if not values:
        return None
    return min(values) if lower else max(values)


def verdict(seqlab: float | None, opennmt: float | None, budget: float) -> dict[str, Any]:
    """seqlab/OpenNMT-py minutes for one target, and whether the goal (<= 0.5) is met.

    When OpenNMT-py does not reach the target within the budget its minutes are above the budget, so
    the ratio is below seqlab/budget: the goal is met if that bound is at most 0.5, else undecided.
    """
    if seqlab is not None and opennmt is not None:
        ratio = seqlab / opennmt
        return {"ratio": ratio, "bound": None, "goal": "met" if ratio <= GOAL_RATIO else "not met"}
    if seqlab is not None:
        bound = seqlab / budget
        goal = "met" if bound <= GOAL_RATIO else "undecided"
        return {"ratio": None, "bound": f"< {bound:.2f}", "goal": f"{goal} (OpenNMT-py not reached)"}
    if opennmt is not None:
        return {"ratio": None, "bound": f"> {budget / opennmt:.2f}", "goal": "not met (seqlab not reached)"}
    return {"ratio": None, "bound": None, "goal": "neither reached it"}


def report_minutes(report_at: list[float], budget: float) -> list[float]:
    """The minutes to quote the best figure at: those of ``report_at`` within the budget, and the budget."""
    return sorted({float(m) for m in report_at if m <= budget} | {float(budget)})


def summarize_task(task: str, curves: dict[str, Curve], budget: float, report_at: list[float]) -> dict:
    """Minutes to each target and the best figure at each of ``report_at`` minutes, per toolkit, with
    the seqlab/OpenNMT-py verdict per target."""
    lower = LOWER_IS_BETTER[task]
    out: dict[str, Any] = {"metric": METRIC_LABEL[task], "lower_is_better": lower, "budget_minutes": budget}
    # keys: the target or the minutes as written ("30", "27.5")
    out["minutes_to"] = {
        f"{t:g}": {name: minutes_to(curve, t, lower, budget) for name, curve in curves.items()}
        for t in TARGETS[task]
    }
    out["best_at"] = {
        f"{m:g}": {name: best_at(curve, m, lower) for name, curve in curves.items()}
        for m in report_minutes(report_at, budget)
    }
    if "seqlab" in curves and "opennmt" in curves:
        out["verdicts"] = {
            t: verdict(found.get("seqlab"), found.get("opennmt"), budget)
            for t, found in out["minutes_to"].items()
        }
    return out


def _fmt(value: float | None, missing: str, spec: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    return spec.format(value)


def table_lines(task: str, summary: dict[str, Any], names: list[str]) -> list[str]:
    """The task's table: a row per target (minutes) and per report minute (best figure)."""
    metric, budget = summary["metric"], summary["budget_minutes"]
    with_ratio = "verdicts" in summary
    headers = ["", *(TOOLKIT_LABEL.get(n, n) for n in names)]
    if with_ratio:
        headers += ["seqlab/OpenNMT-py", f"goal (<= {GOAL_RATIO:g})"]
    rows = []
    for target, found in summary["minutes_to"].items():
        missing = f"not in {budget:g} min"
        row = [f"minutes to {metric} {float(target):g}"]
        row += [_fmt(found.get(n), missing, "{:.1f}") for n in names]
        if with_ratio:
            v = summary["verdicts"][target]
            row += [f"{v['ratio']:.2f}" if v["ratio"] is not None else (v["bound"] or "-"), v["goal"]]
        rows.append(row)
    for minutes, found in summary["best_at"].items():
        row = [f"best {metric} within {float(minutes):g} min"]
        row += [_fmt(found.get(n), "-", "{:.2f}") for n in names]
        rows.append(row + (["", ""] if with_ratio else []))
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    title = f"{TASK_LABEL[task]}: {metric} ({'lower' if summary['lower_is_better'] else 'higher'} is better)"
    return [title, line(headers), "-+-".join("-" * w for w in widths), *(line(r) for r in rows)]


def plot(path: Path, results: dict[str, dict[str, Curve]], budget: float) -> Path:
    """Validation quality against wall-clock minutes, one panel per task, one line per toolkit, the
    targets as dashed lines (PNG)."""
    from seqlab.plots import figure

    tasks = list(results)
    with figure(path, 1, len(tasks), figsize=(6.0 * len(tasks), 4.2), squeeze=False) as (_, axes):
        for ax, task in zip(axes[0], tasks):
            for name, curve in results[task].items():
                points = sorted(within(curve, budget), key=lambda p: p["minutes"])
                ax.plot([p["minutes"] for p in points], [p["metric"] for p in points], marker="o", ms=3,
                        label=TOOLKIT_LABEL.get(name, name))  # fmt: skip
            for target in TARGETS[task]:
                ax.axhline(target, color="grey", lw=0.8, ls="--")
            ax.set_xlim(0, budget)
            ax.set_xlabel("training wall clock, minutes")
            ax.set_ylabel(f"validation {METRIC_LABEL[task]}")
            ax.set_title(TASK_LABEL[task])
            ax.grid(alpha=0.3)
            ax.legend()
    return Path(path)
