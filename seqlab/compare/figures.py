"""The comparison's figures, as PNG files: quality by source length, training curves, and attention
heatmaps (drawn by :mod:`seqlab.plots`). matplotlib runs headless (Agg), imported when drawing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seqlab.compare.spec import METRIC_LABELS
from seqlab.plots import figure, finite

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def quality_by_length_png(results: dict[str, Any], path: str | Path) -> Path:
    """One line per contender: the task's metric in each source-length bucket (the x labels give the
    bucket and its number of pairs). A fixed-vector bottleneck shows as a curve that falls (or, for
    an error rate, rises) with length."""
    path = Path(path)
    metric = results["metric"]
    with figure(path, figsize=(7.5, 4.2)) as (fig, ax):
        labels: list[str] = []
        for index, contender in enumerate(results["contenders"]):
            rows = contender.get("by_length") or []
            if not labels and rows:
                labels = [f"{row['label']}\n(n={row['count']})" for row in rows]
            points = [(i, row["score"]) for i, row in enumerate(rows) if finite(row.get("score"))]
            if points:
                xs, ys = zip(*points)
                marker = MARKERS[index % len(MARKERS)]
                ax.plot(xs, ys, marker=marker, label=contender["name"], linewidth=1.8, markersize=5)
        ax.set_xticks(range(len(labels)), labels, fontsize=8)
        ax.set_xlabel("source length (tokens)")
        better = "lower is better" if metric["mode"] == "min" else "higher is better"
        ax.set_ylabel(f"{METRIC_LABELS.get(metric['name'], metric['name'])} ({better})")
        ax.set_title("Quality by source length")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return path


def read_metrics_log(path: str | Path) -> list[dict[str, Any]]:
    """The records of a run's ``metrics.jsonl`` (an empty list when the file is missing)."""
    path = Path(path)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def training_curves_png(curves: dict[str, list[dict[str, Any]]], path: str | Path) -> Path:
    """Training loss (left) and validation loss (right) against wall-clock seconds, one line per
    contender. ``curves``: contender name -> its ``metrics.jsonl`` records.

    The language model's loss covers source, ``<sep>`` and target tokens; a Seq2Seq loss covers
    target tokens only, so the levels are not comparable across families, the shapes are."""
    path = Path(path)
    with figure(path, 1, 2, figsize=(11, 4.2)) as (fig, (left, right)):
        for index, (name, records) in enumerate(curves.items()):
            marker = MARKERS[index % len(MARKERS)]
            for axis, split in ((left, "train"), (right, "valid")):
                points = [
                    (r.get("elapsed_s", r["step"]), r["loss"])
                    for r in records
                    if r.get("split") == split and finite(r.get("loss"))
                ]
                if points:
                    style = {"marker": marker, "markersize": 4} if split == "valid" else {}
                    axis.plot(*zip(*points), label=name, linewidth=1.4, **style)
        for axis, title in ((left, "training loss"), (right, "validation loss")):
            axis.set_xlabel("wall-clock seconds of training")
            axis.set_ylabel("loss (nats per token)")
            axis.set_title(title)
            axis.grid(alpha=0.3)
            if axis.get_legend_handles_labels()[0]:
                axis.legend(fontsize=8)
    return path
