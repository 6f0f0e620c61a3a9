"""The long-dependency probe: train each cell on each task at each lag, score it on a held-out set, and
decide at which lag each cell falls to chance.

Every (task, cell, lag) run trains a fresh :class:`~seqlab.probe.model.ProbeModel` with Adam for at
most ``steps`` updates on batches drawn from a seeded generator; it stops early once a separate
validation set is solved (skill >= ``stop_skill``, checked every ``eval_every`` steps). All cells of a
(task, lag) see the same training batches and the same held-out set.

Skill measures the score against the task's *memoryless baseline*, the best a model can do without the
input seen ``lag`` steps back: 0 = no better, 1 = perfect. For the copy task that baseline is chance
(1 / alphabet). For the adding problem it is answering "the recent marked value + 0.5" (MSE 1/12 =
0.083), since the second marked value is always within the last few steps; the constant answer 1 (MSE
1/6 = 0.167, the chance line of the plot) is worse than that. A cell *fails* at the first lag (in
increasing order) where its skill is below ``margin`` (0.3 by default: a tanh RNN often keeps a
little of the symbols' identity over long lags, skill about 0.2 on the copy task at lag 50, without
coming close to solving it); it *solves* a lag where its skill is at least ``SOLVED``.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict
from pathlib import Path

import torch

from seqlab.errors import ConfigError
from seqlab.probe.model import build_probe_model
from seqlab.probe.settings import TASK_NAMES, ProbeSettings
from seqlab.probe.tasks import ProbeTask, build_task, skill

logger = logging.getLogger(__name__)

RESULTS_FILE = "results.json"
PLOT_FILE = "probe.png"
SUMMARY_FILE = "summary.md"
SOLVED = 0.9


def _seed(settings: ProbeSettings, task: str, lag: int, purpose: int) -> int:
    """A distinct, reproducible seed per (task, lag, purpose): 0 training batches, 1 validation set,
    2 test set, 3 model initialisation."""
    return ((settings.seed * 7919 + TASK_NAMES.index(task)) * 100_003 + lag) * 4 + purpose


def train_one(task: ProbeTask, cell: str, settings: ProbeSettings) -> dict:
    """Train ``cell`` on ``task``; return its held-out score and skill, the steps it took, its wall and
    CPU seconds and its validation curve ``[[step, score], ...]``."""
    torch.manual_seed(_seed(settings, task.name, task.lag, 3))
    model = build_probe_model(cell, task, settings.hidden_size, gate_bias=settings.gate_bias)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
    batches = torch.Generator().manual_seed(_seed(settings, task.name, task.lag, 0))
    valid = task.sample(
        settings.valid_size, torch.Generator().manual_seed(_seed(settings, task.name, task.lag, 1))
    )
    test = task.sample(
        settings.eval_size, torch.Generator().manual_seed(_seed(settings, task.name, task.lag, 2))
    )
    curve: list[list[float]] = []
    start, cpu_start = time.perf_counter(), time.process_time()
    step = 0
    while step < settings.steps:
        step += 1
        model.train()
        batch = task.sample(settings.batch_size, batches)
        loss = task.loss(model(batch.inputs), batch.targets)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), settings.clip_norm)
        optimizer.step()
        if step % settings.eval_every == 0 or step == settings.steps:
            score = _evaluate(model, task, valid)
            curve.append([step, round(score, 5)])
            if skill(task, score) >= settings.stop_skill:
                break
    score = _evaluate(model, task, test)
    return {
        "score": score,
        "skill": skill(task, score),
        "steps": step,
        "seconds": round(time.perf_counter() - start, 2),
        "cpu_seconds": round(time.process_time() - cpu_start, 2),
        "valid_curve": curve,
    }


@torch.no_grad()
def _evaluate(model: torch.nn.Module, task: ProbeTask, data) -> float:  # noqa: ANN001 - ProbeBatch
    model.eval()
    return task.score(model(data.inputs), data.targets)


def failure_lag(lags: list[int], skills: list[float], margin: float) -> int | None:
    """The first lag (in increasing order) whose skill is below ``margin``; None if none is."""
    for lag, value in sorted(zip(lags, skills)):
        if value < margin:
            return lag
    return None


def run_probe(settings: ProbeSettings, out_dir: str | Path, progress: bool = True) -> dict:
    """Run every task x cell x lag, write ``results.json``, ``probe.png`` and ``summary.md`` into
    ``out_dir`` and return the results dictionary."""
    from tqdm import tqdm

    problems = settings.check()
    if problems:
        raise ConfigError("probe settings: " + "; ".join(problems))
    torch.set_num_threads(settings.threads)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lags = sorted(settings.lags)
    jobs = [(t, c, lag) for t in settings.tasks for lag in lags for c in settings.cells]
    started, cpu_started = time.perf_counter(), time.process_time()
    rows = []
    for task_name, cell, lag in tqdm(jobs, desc="probe", unit="run", disable=not progress or None):
        task = build_task(task_name, lag, symbols=settings.symbols, alphabet=settings.alphabet)
        result = train_one(task, cell, settings)
        rows.append(_row(task, cell, result))
        logger.info(
            "%s %s lag %d: %s %.4f (skill %.2f) after %d steps, %.1fs",
            *(task_name, cell, lag, task.metric, result["score"], result["skill"]),
            *(result["steps"], result["seconds"]),
        )
    results = {
        "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(settings).items()},
        "results": rows,
        "failure_lags": _failure_lags(rows, settings),
        "wall_seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(time.process_time() - cpu_started, 1),
        "torch": torch.__version__,
    }
    (out_dir / RESULTS_FILE).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    from seqlab.probe.plots import probe_png

    probe_png(results, out_dir / PLOT_FILE)
    (out_dir / SUMMARY_FILE).write_text(summary_markdown(results), encoding="utf-8")
    return results


def _row(task: ProbeTask, cell: str, result: dict) -> dict:
    return {
        "task": task.name,
        "cell": cell,
        "lag": task.lag,
        "sequence_length": task.length,
        "metric": task.metric,
        "chance": task.chance,
        "baseline": task.baseline,
        **result,
    }


def _failure_lags(rows: list[dict], settings: ProbeSettings) -> dict[str, dict[str, int | None]]:
    out: dict[str, dict[str, int | None]] = {}
    for task in settings.tasks:
        out[task] = {}
        for cell in settings.cells:
            mine = [r for r in rows if r["task"] == task and r["cell"] == cell]
            out[task][cell] = failure_lag(
                [r["lag"] for r in mine], [r["skill"] for r in mine], settings.margin
            )
    return out


def failure_sentences(results: dict) -> list[str]:
    """One line per task and cell: "copy: rnn fails at lag 20 (solves lags 5, 10)" or
    "copy: lstm does not fail up to lag 100 (solves lags 5, 10, 20, 50, 100)"."""
    top = max(results["settings"]["lags"])
    lines = []
    for task, cells in results["failure_lags"].items():
        for cell, lag in cells.items():
            verdict = f"fails at lag {lag}" if lag is not None else f"does not fail up to lag {top}"
            solved = sorted(
                r["lag"]
                for r in results["results"]
                if r["task"] == task and r["cell"] == cell and r["skill"] >= SOLVED
            )
            solves = f"solves lags {', '.join(map(str, solved))}" if solved else "solves no lag"
            lines.append(f"{task}: {cell} {verdict} ({solves})")
    return lines


def summary_markdown(results: dict) -> str:
    """The probe's report: settings, the failure lag per cell, and the score table per task."""
    s = results["settings"]
    lags = sorted(s["lags"])
    parts = [
        "# Long-dependency probe\n",
        f"Cells {', '.join(s['cells'])}; hidden size {s['hidden_size']}; at most {s['steps']} Adam steps "
        f"(lr {s['learning_rate']}, batch {s['batch_size']}, gate bias {s['gate_bias']}), stopping early "
        f"once validation skill reaches {s['stop_skill']}; seed {s['seed']}; {s['threads']} thread(s); "
        f"{results['wall_seconds']} s wall, {results['cpu_seconds']} s CPU.",
        f"Skill: 0 = the memoryless baseline (chance for copy), 1 = perfect. A cell *fails* at the first "
        f"lag where its held-out skill is below {s['margin']}; it *solves* a lag where its skill is at "
        f"least {SOLVED}.\n",
        *[f"- {line}" for line in failure_sentences(results)],
        "",
    ]
    for task in s["tasks"]:
        mine = [r for r in results["results"] if r["task"] == task]
        if not mine:
            continue
        metric, chance, baseline = mine[0]["metric"], mine[0]["chance"], mine[0]["baseline"]
        note = f"chance {chance:.3f}" + (
            f", memoryless baseline {baseline:.3f}" if baseline != chance else ""
        )
        parts.append(f"## {task}: held-out {metric} by lag ({note})\n")
        parts.append("| cell | " + " | ".join(f"lag {lag}" for lag in lags) + " |")
        parts.append("|---|" + "---:|" * len(lags))
        for cell in s["cells"]:
            by_lag = {r["lag"]: r for r in mine if r["cell"] == cell}
            cells = [f"{by_lag[lag]['score']:.3f}" if lag in by_lag else "" for lag in lags]
            parts.append(f"| {cell} | " + " | ".join(cells) + " |")
        parts.append("")
    return "\n".join(parts)
