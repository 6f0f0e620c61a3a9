"""``results.json``: every number of a comparison, in one versioned JSON file.

The verdict and the report are computed from this file alone (plus each run's ``metrics.jsonl``
for the training curves). Layout::

    {"format_version": 1, "title": str, "dataset": str, "seed": int, "seeds": [int, ...] | null,
     "metric": {"name": "per", "mode": "min", "label": "PER %"}, "extra_metrics": [...],
     "budget": {"max_steps", "max_minutes", "max_parameters", "kind": "steps" | "minutes" | ...},
     "decoding": {...}, "evaluation": {...}, "eval_examples": int, "machine": {...},
     "contenders": [CONTENDER, ...]}            # in the spec's order

    CONTENDER = {"name", "kind", "cell", "attention" (none | bahdanau | luong | null), "description",
      "run_dir" (relative to the report), "seed": int (the run's seed),
      "lm_loss": "all" | "target" (lm_sep: the tokens its loss scored) | null (seq2seq),
      "parameters": int, "quality": float, "metrics": {name: float},
      "train": {"wall_s", "steps", "epochs", "target_tokens" (target tokens taught; null: not
                counted), "stop_reason", "tokens_per_s" (the Trainer's count),
                "target_tokens_per_s" (target-side tokens only: comparable across families)},
      "decode": {"sentences", "seconds", "sentences_per_s"},
      "memory": {"peak_mb", "train_peak_mb", "baseline_mb", "how"},   # numbers null when not measured
      "by_length": [{"low", "high", "label", "count", "score"}, ...],
      "repetition": {"n": int, "plain": {"repeated_ngram_rate", "length_ratio", "quality", "distinct1",
                                         "distinct2", "frequent_share"},
                     "blocked": {"no_repeat_ngram", the same keys as plain} | null},
      "attention_examples": [{"source_tokens", "output_tokens", "weights": [[float]]}, ...],
      "examples": [{"source", "reference", "output"}, ...],
      "per_example": {"metric", "pairs" (a digest of the held-out pairs), "stats": [[float]]},
      "seed_runs": [SEED_RUN, ...] (only with the spec's seeds)}

    SEED_RUN = {"seed", "run_dir", "quality", "metrics", "parameters", "train", "per_example"}

Results written before the bootstrap, the budget keys, seeds or the diversity figures (no
``per_example``, ``lm_loss``, ``train.target_tokens``, ``seeds``, ``distinct1``, ...) still load:
the report prints ``-`` for what they lack.

With ``seeds``, each CONTENDER is its first seed's result (by length, repetition, speed, memory,
examples) with every seed's numbers in ``seed_runs`` (the first seed's ``per_example`` moves there);
the verdict judges quality by the mean over ``seed_runs`` (:func:`judged_quality`).
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

from seqlab.compare.spec import METRIC_LABELS, CompareSpec
from seqlab.compare.spec_file import spec_to_dict
from seqlab.errors import DataError
from seqlab.rundir.files import atomic_write_json, read_versioned_json

FORMAT_VERSION = 1
RESULTS_FILE = "results.json"
CONTENDER_RESULT = "result.json"  # REPORT_DIR/contenders/NAME/result.json: the "finished" marker
REQUIRED = ("name", "quality", "parameters", "train", "decode", "memory", "by_length", "repetition")


def describe_data(data: dict[str, Any]) -> str:
    """A short name for the spec's data section: the catalogue entry or the training file(s)."""
    if data.get("dataset"):
        return str(data["dataset"])
    for key in ("train", "train_source"):
        if data.get(key):
            return Path(str(data[key])).name
    return "?"


def machine_info() -> dict[str, Any]:
    import torch

    return {
        "platform": platform.platform(terse=True),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpus": os.cpu_count(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def assemble(spec: CompareSpec, contenders: list[dict[str, Any]]) -> dict[str, Any]:
    """The whole results document from the spec and each contender's result (in spec order)."""
    plain = spec_to_dict(spec)
    eval_examples = max((c.get("decode", {}).get("sentences", 0) for c in contenders), default=0)
    return {
        "format_version": FORMAT_VERSION,
        "title": spec.title,
        "dataset": describe_data(spec.data),
        "seed": spec.seed,
        "seeds": list(spec.seeds) if spec.seeds is not None else None,
        "metric": {"name": spec.metric, "mode": spec.metric_mode, "label": METRIC_LABELS[spec.metric]},
        "extra_metrics": list(spec.extra_metrics),
        "budget": {**plain["budget"], "kind": spec.budget.kind},
        "decoding": plain["decoding"],
        "evaluation": plain["evaluation"],
        "eval_examples": eval_examples,
        "parallel": spec.parallel,
        "threads": spec.threads,
        "machine": machine_info(),
        "contenders": contenders,
    }


SEED_RUN_KEYS = ("seed", "run_dir", "quality", "metrics", "parameters", "train", "per_example")


def combine_seeds(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One contender's entry from its runs' results (in the spec's seed order): the first run's
    result, with each run's numbers listed in ``seed_runs``."""
    assert runs, "a contender without runs"
    entry = {key: value for key, value in runs[0].items() if key != "per_example"}
    entry["seed_runs"] = [{key: run.get(key) for key in SEED_RUN_KEYS} for run in runs]
    return entry


def seed_values(contender: dict[str, Any], metric: str | None = None) -> list[float]:
    """The contender's quality (or ``metrics[metric]``) in each seed's run; one value without seeds."""
    runs = contender.get("seed_runs") or [contender]
    if metric is None:
        values = [run.get("quality") for run in runs]
    else:
        values = [(run.get("metrics") or {}).get(metric) for run in runs]
    return [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]


def judged_quality(contender: dict[str, Any]) -> float | None:
    """The quality the verdict judges: the contender's ``quality``, or the mean over its seeds."""
    if not contender.get("seed_runs"):
        value = contender.get("quality")
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    values = seed_values(contender)
    return sum(values) / len(values) if values else None


def write_results(results: dict[str, Any], path: str | Path) -> Path:
    path = Path(path)
    atomic_write_json(path, results)
    return path


def load_results(path: str | Path) -> dict[str, Any]:
    """Read ``results.json``; DataError naming the file and the first missing field."""
    results = read_versioned_json(path, "comparison results", FORMAT_VERSION)
    for key in ("metric", "contenders"):
        if key not in results:
            raise DataError(f"{path}: no {key!r} field; not a comparison results file")
    if not isinstance(results["contenders"], list) or not results["contenders"]:
        raise DataError(f"{path}: 'contenders' must be a non-empty list")
    for index, contender in enumerate(results["contenders"]):
        missing = [key for key in REQUIRED if key not in contender]
        if missing:
            raise DataError(f"{path}: contenders[{index}] has no {', '.join(missing)}")
    return results
