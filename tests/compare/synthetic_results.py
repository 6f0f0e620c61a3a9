"""A synthetic results document for the comparison tests (no training needed)."""

from __future__ import annotations

import copy
from typing import Any


def contender(name: str, quality: float, **changes: Any) -> dict[str, Any]:
    """One contender's results, with plausible numbers; ``changes`` replace top-level fields."""
    result = {
        "name": name,
        "kind": "lm_sep" if name.startswith("lm") else "seq2seq",
        "cell": "lstm",
        "attention": None,
        "description": name,
        "run_dir": f"contenders/{name}",
        "parameters": 100_000,
        "quality": quality,
        "metrics": {"per": quality, "exact_match": 100 - quality},
        "train": {"wall_s": 60.0, "steps": 500, "target_tokens_per_s": 5000.0, "tokens_per_s": 5000.0},
        "decode": {"sentences": 200, "seconds": 2.0, "sentences_per_s": 100.0},
        "memory": {"peak_mb": 400.0, "train_peak_mb": 380.0, "baseline_mb": 300.0, "how": "ru_maxrss"},
        "by_length": [
            {"low": 0, "high": 4, "label": "0-4", "count": 80, "score": quality - 5},
            {"low": 5, "high": 7, "label": "5-7", "count": 70, "score": quality},
            {"low": 8, "high": None, "label": "8+", "count": 50, "score": quality + 10},
        ],
        "repetition": {
            "n": 2,
            "plain": {"repeated_ngram_rate": 0.02, "length_ratio": 0.97, "quality": quality},
            "blocked": {
                "no_repeat_ngram": 2,
                "repeated_ngram_rate": 0.0,
                "length_ratio": 0.95,
                "quality": quality + 1,
            },
        },
        "attention_examples": [],
        "examples": [{"source": "cat", "reference": "K AE T", "output": "K AE T"}],
    }
    result.update(copy.deepcopy(changes))
    return result


def make_results() -> dict[str, Any]:
    return {
        "format_version": 1,
        "title": "synthetic",
        "dataset": "tiny",
        "seed": 1,
        "metric": {"name": "per", "mode": "min", "label": "PER %"},
        "extra_metrics": ["exact_match"],
        "budget": {"max_steps": 500, "max_minutes": None, "max_parameters": None, "kind": "steps"},
        "decoding": {"beam_size": 5, "length_penalty": "gnmt", "alpha": 0.6, "max_length": 30},
        "evaluation": {"repetition_n": 2},
        "eval_examples": 200,
        "contenders": [
            contender("lm_sep", 30.0, parameters=90_000),
            contender("s2s_none", 25.0, decode={"sentences": 200, "seconds": 1.0, "sentences_per_s": 200.0}),
            contender("s2s_luong", 12.0, parameters=120_000),
        ],
    }


def with_pairs(
    contender: dict[str, Any], edits: list[int], lengths: list[int], digest: str = "pairs-1"
) -> None:
    """Give a contender per-pair PER statistics (edits, reference length) and the quality they make."""
    contender["per_example"] = {
        "metric": "per",
        "pairs": digest,
        "stats": [[float(e), float(n)] for e, n in zip(edits, lengths)],
    }
    contender["quality"] = 100.0 * sum(edits) / sum(lengths)
    contender["metrics"]["per"] = contender["quality"]


def two_contenders(first_edits: list[int], second_edits: list[int], lengths: list[int]) -> dict[str, Any]:
    """Results with two seq2seq contenders scored (PER) on the same pairs."""
    results = make_results()
    results["contenders"] = [contender("s2s_none", 0.0), contender("s2s_luong", 0.0)]
    with_pairs(results["contenders"][0], first_edits, lengths)
    with_pairs(results["contenders"][1], second_edits, lengths)
    return results
