"""The probe's picture: held-out score against lag, one line per cell, one panel per task (PNG).

matplotlib runs with the non-interactive Agg backend and is imported only when the picture is drawn.
"""

from __future__ import annotations

from pathlib import Path

from seqlab.plots import figure

CELL_STYLES = {"rnn": ("tab:red", "o"), "gru": ("tab:green", "s"), "lstm": ("tab:blue", "^")}


def probe_png(results: dict, path: str | Path) -> Path:
    """Draw ``results`` (as :func:`seqlab.probe.run.run_probe` returns them) into ``path``: accuracy
    (copy) or MSE (adding) by lag on a log axis, with the chance line (and the memoryless baseline
    where it differs) and each cell's failure lag marked."""
    path = Path(path)
    tasks = [t for t in results["settings"]["tasks"] if any(r["task"] == t for r in results["results"])]
    with figure(path, 1, len(tasks), figsize=(5.5 * len(tasks), 4.2), squeeze=False) as (fig, axes):
        for ax, task in zip(axes[0], tasks):
            _draw_task(ax, task, results)
    return path


def _draw_task(ax, task: str, results: dict) -> None:  # noqa: ANN001 - matplotlib Axes
    rows = [r for r in results["results"] if r["task"] == task]
    metric, chance, baseline = rows[0]["metric"], rows[0]["chance"], rows[0]["baseline"]
    failures = results.get("failure_lags", {}).get(task, {})
    for cell in results["settings"]["cells"]:
        points = sorted((r["lag"], r["score"]) for r in rows if r["cell"] == cell)
        if not points:
            continue
        colour, marker = CELL_STYLES.get(cell, ("tab:gray", "x"))
        failed = failures.get(cell)
        label = f"{cell} (fails at {failed})" if failed is not None else f"{cell} (no failure)"
        ax.plot(*zip(*points), marker=marker, color=colour, label=label)
    ax.axhline(chance, color="black", linestyle="--", linewidth=1, label=f"chance ({chance:.3f})")
    if baseline != chance:
        ax.axhline(baseline, color="gray", linestyle=":", linewidth=1, label=f"memoryless ({baseline:.3f})")
    lags = sorted({r["lag"] for r in rows})
    ax.set_xscale("log")
    ax.set_xticks(lags, [str(lag) for lag in lags])
    ax.minorticks_off()
    ax.set_xlabel("lag (steps between the input and its use)")
    if metric == "accuracy":
        ax.set_ylabel("held-out per-symbol accuracy")
        ax.set_ylim(0, 1.05)
    else:
        ax.set_ylabel("held-out MSE (lower is better)")
        ax.set_ylim(0, max(chance * 1.3, max(r["score"] for r in rows) * 1.05))
    ax.set_title(f"{task} task")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
