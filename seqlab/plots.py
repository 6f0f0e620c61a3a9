"""Pictures people would rather look at: a confusion matrix, training curves and Seq2Seq
attention heat maps, as PNG files.

matplotlib runs with the non-interactive Agg backend (no display needed) and is imported only when
a picture is drawn.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

MAX_CONFUSION_LABELS = 40


def pyplot():  # noqa: ANN201 - matplotlib.pyplot
    """matplotlib.pyplot on the Agg backend (no display), imported on first use."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@contextmanager
def figure(path: str | Path, *rows_cols: int, **subplots: Any) -> Iterator[tuple[Any, Any]]:
    """``(fig, axes)`` from ``plt.subplots(*rows_cols, **subplots)``; when the block ends without an
    error the figure is laid out and written to ``path`` (PNG, 100 dpi, its folder created); it is
    closed either way. The one save-figure helper of seqlab's pictures (here, ``compare/`` and
    ``probe/``)."""
    plt = pyplot()
    fig, axes = plt.subplots(*rows_cols, **subplots)
    try:
        yield fig, axes
        fig.tight_layout()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)


def finite(value: object) -> bool:
    """True for an int or float that is neither NaN nor infinite (a point worth plotting)."""
    return isinstance(value, int | float) and math.isfinite(value)


def confusion_png(
    confusion: Sequence[Sequence[int]],
    labels: Sequence[str],
    path: str | Path,
    title: str = "Confusion matrix",
) -> Path:
    """Draw ``confusion[i][j]`` (gold ``labels[i]`` predicted ``labels[j]``) as a heat map, each row
    normalised to the gold count, the counts written in the cells; write ``path`` (PNG).

    With more than 40 labels only the 40 most frequent gold labels are shown.
    """
    path = Path(path)
    order = list(range(len(labels)))
    if len(order) > MAX_CONFUSION_LABELS:
        order = sorted(order, key=lambda i: -sum(confusion[i]))[:MAX_CONFUSION_LABELS]
        title += f" ({MAX_CONFUSION_LABELS} most frequent of {len(labels)} labels)"
    counts = [[confusion[i][j] for j in order] for i in order]
    names = [str(labels[i]) for i in order]
    rates = [[c / max(sum(row), 1) for c in row] for row in counts]
    size = max(4.0, 0.45 * len(names) + 2)
    with figure(path, figsize=(size + 1, size)) as (fig, ax):
        image = ax.imshow(rates, cmap="Blues", vmin=0.0, vmax=1.0)
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="fraction of the gold label")
        ax.set_xticks(range(len(names)), names, rotation=60, ha="right")
        ax.set_yticks(range(len(names)), names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        ax.set_title(title)
        if len(names) <= 20:
            for i, row in enumerate(counts):
                for j, count in enumerate(row):
                    colour = "white" if rates[i][j] > 0.5 else "black"
                    ax.text(j, i, str(count), ha="center", va="center", color=colour, fontsize=8)
    return path


def training_curves_png(metrics_jsonl: str | Path, path: str | Path) -> Path:
    """Training and validation loss, and the other validation metrics, by step (from ``metrics.jsonl``)."""
    records = [
        json.loads(line) for line in Path(metrics_jsonl).read_text(encoding="utf-8").splitlines() if line
    ]
    with figure(path, 1, 2, figsize=(10, 4)) as (fig, (left, right)):
        for split, style in (("train", "-"), ("valid", "o-")):
            points = [
                (r["step"], r["loss"]) for r in records if r.get("split") == split and finite(r.get("loss"))
            ]
            if points:
                left.plot(*zip(*points), style, label=f"{split} loss", markersize=3)
        left.set_xlabel("step")
        left.set_ylabel("loss")
        left.legend()
        valid = [r for r in records if r.get("split") == "valid"]
        names = sorted({k for r in valid for k in r if k in ("accuracy", "ppl")})
        for name in names:
            points = [(r["step"], r[name]) for r in valid if finite(r.get(name))]
            right.plot(*zip(*points), "o-", label=name, markersize=3)
        right.set_xlabel("step")
        right.legend() if names else right.set_axis_off()
    return Path(path)


def attention_png(
    attention: Sequence[Sequence[float]],
    source_tokens: Sequence[str],
    target_tokens: Sequence[str],
    path: str | Path,
    title: str = "Attention",
    generation: Sequence[float] | None = None,
) -> Path:
    """Draw a Seq2Seq attention matrix ``attention[t][s]`` (output token t, source token s) as a heat
    map with the source tokens on the x axis and the output tokens on the y axis; write ``path`` (PNG).

    Rows may be longer than ``source_tokens`` (padding) or more than ``target_tokens`` (the ``<eos>``
    step): only the labelled part is drawn. ``generation``: a copy model's p_gen per output token,
    written after each output token (1 = generated from the vocabulary, 0 = copied).
    """
    path = Path(path)
    if generation is not None:
        target_tokens = [f"{t}  p_gen {p:.2f}" for t, p in zip(target_tokens, generation)]
        title = f"{title} (p_gen: share generated, not copied)"
    rows = [list(row[: len(source_tokens)]) for row in attention[: len(target_tokens)]]
    width = max(4.0, 0.4 * len(source_tokens) + 2)
    height = max(3.0, 0.4 * len(target_tokens) + 1.5)
    with figure(path, figsize=(width, height)) as (fig, ax):
        image = ax.imshow(rows or [[0.0]], cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="attention weight")
        ax.set_xticks(range(len(source_tokens)), [str(t) for t in source_tokens], rotation=60, ha="right")
        ax.set_yticks(range(len(target_tokens)), [str(t) for t in target_tokens])
        ax.set_xlabel("source")
        ax.set_ylabel("output")
        ax.set_title(title)
    return path
