"""The peers table: medians per variant, ratios seqlab/peer, the issue's goals; seqlab's token budget."""

from __future__ import annotations

import argparse
import math
import statistics
from pathlib import Path
from typing import Any

from data import DataInfo

SENTENCES_PER_BATCH = 64


def seqlab_budget(info: DataInfo, seed: int = 0) -> tuple[int, float]:
    """seqlab batches by a padded-token budget (``data.max_tokens``); the budget whose epoch has as
    many batches as 64-sentence batches would (ceil(pairs / 64)), so that a step sees 64 sentences
    on average. Returns (max_tokens, mean sentences per batch)."""
    from seqlab.data.batching.buckets import TokenBudgetSampler

    src = Path(info.path("train.en")).read_text(encoding="utf-8").splitlines()
    tgt = Path(info.path("train.ja")).read_text(encoding="utf-8").splitlines()
    lengths = [max(len(s.split()), len(t.split()) + 1) for s, t in zip(src, tgt)]
    target = math.ceil(len(lengths) / SENTENCES_PER_BATCH)
    low, high = max(lengths), 64 * max(lengths)
    while low < high:  # smallest budget with at most `target` batches
        mid = (low + high) // 2
        if len(TokenBudgetSampler(lengths, mid, shuffle=True, seed=seed)) <= target:
            high = mid
        else:
            low = mid + 1
    batches = len(TokenBudgetSampler(lengths, low, shuffle=True, seed=seed))
    return low, len(lengths) / batches


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def summarize(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name, r in results.items():
        speed = [t for run in r["speed"] for t in run["kept_tok_s"]]
        quality = r.get("quality", {})
        runs = [*r["speed"], *([quality] if quality else [])]
        row = {
            "train_tok_s": _median(speed) if speed else _median(quality.get("kept_tok_s", [])),
            "train_tok_s_quality_run": _median(quality.get("kept_tok_s", [])),
            "peak_train_mb": max((run["peak_tree_mb"] for run in runs), default=math.nan),
        }
        for beam, d in r["decode"].items():
            key = "greedy" if beam == "1" else f"beam{beam}"
            rounds = d if isinstance(d, list) else [d]  # one dict: results written before rounds
            row[f"{key}_sent_s"] = _median([one["sent_s"] for one in rounds])
            row[f"{key}_bleu"] = rounds[0]["bleu"]
        out[name] = row
    return out


ROWS = [
    ("train_tok_s", "train target tok/s (speed rounds)", "{:.0f}"),
    ("train_tok_s_quality_run", "train target tok/s (quality run)", "{:.0f}"),
    ("peak_train_mb", "peak training memory MB", "{:.0f}"),
    ("beam5_sent_s", "beam 5 sentences/s", "{:.1f}"),
    ("greedy_sent_s", "greedy sentences/s", "{:.1f}"),
    ("beam5_bleu", "dev BLEU beam 5", "{:.2f}"),
    ("greedy_bleu", "dev BLEU greedy", "{:.2f}"),
]
RATIOS = [
    ("seqlab", "joeynmt"),
    ("seqlab", "opennmt"),
    ("seqlab-fused", "opennmt"),
    ("seqlab-int8", "opennmt"),
    ("seqlab-bf16", "opennmt"),
]


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else spec.format(value)


def goals(s: dict[str, dict[str, float]]) -> list[str]:
    """The issue's goals, judged on this run's medians (only those whose variants ran)."""
    lines = []

    def ratio(a: str, b: str, key: str) -> float:
        if a in s and b in s and key in s[a] and key in s[b]:
            return s[a][key] / s[b][key]
        return math.nan

    checks = [
        ("training with input feeding >= 1.5x OpenNMT-py", ratio("seqlab", "opennmt", "train_tok_s"), 1.5),
        ("fused path >= 3x OpenNMT-py", ratio("seqlab-fused", "opennmt", "train_tok_s"), 3.0),
        ("beam 5 >= 2x OpenNMT-py", ratio("seqlab", "opennmt", "beam5_sent_s"), 2.0),
        ("greedy >= 2x OpenNMT-py", ratio("seqlab", "opennmt", "greedy_sent_s"), 2.0),
        ("int8 beam 5 >= 2x OpenNMT-py", ratio("seqlab-int8", "opennmt", "beam5_sent_s"), 2.0),
        ("int8 greedy >= 2x OpenNMT-py", ratio("seqlab-int8", "opennmt", "greedy_sent_s"), 2.0),
        ("bf16 training >= 1.5x OpenNMT-py", ratio("seqlab-bf16", "opennmt", "train_tok_s"), 1.5),
    ]
    for text, value, need in checks:
        if not math.isnan(value):
            lines.append(f"{text}: {value:.2f}x -> {'yes' if value >= need else 'NO'}")
    mem = ratio("seqlab", "joeynmt", "peak_train_mb")
    if not math.isnan(mem):
        lines.append(f"peak training memory <= Joey NMT's: {mem:.2f}x -> {'yes' if mem <= 1.0 else 'NO'}")
    for key, label in (("beam5_bleu", "beam 5"), ("greedy_bleu", "greedy")):
        if "seqlab-int8" in s and "seqlab" in s and key in s["seqlab-int8"] and key in s["seqlab"]:
            loss = s["seqlab"][key] - s["seqlab-int8"][key]
            lines.append(
                f"int8 dev BLEU loss ({label}) <= 0.3: {loss:+.2f} -> {'yes' if loss <= 0.3 else 'NO'}"
            )
    if "seqlab-fused" in s and "seqlab" in s and "beam5_bleu" in s["seqlab-fused"]:
        a, b = s["seqlab-fused"]["beam5_bleu"], s["seqlab"]["beam5_bleu"]
        lines.append(f"fused-path dev BLEU (beam 5) {a:.2f} vs input feeding {b:.2f}")
    return lines


def print_table(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    s = summarize(results)
    names = list(s)
    ratios = [(a, b) for a, b in RATIOS if a in s and b in s]
    headers = ["", *names, *(f"{a}/{b}" for a, b in ratios)]
    body = []
    for key, label, spec in ROWS:
        if not any(key in s[n] for n in names):
            continue
        line = [label, *(_fmt(s[n].get(key), spec) for n in names)]
        for a, b in ratios:
            va, vb = s[a].get(key), s[b].get(key)
            line.append(_fmt(va / vb if va and vb else None, "{:.2f}"))
        body.append(line)
    widths = [max(len(h), *(len(row[i]) for row in body)) for i, h in enumerate(headers)]
    print(
        f"\nthreads {args.threads}; train tok/s = median of per-window target tokens/s "
        f"({args.repeats} speed round(s) x {args.speed_steps} steps, windows of {args.speed_log_every} "
        f"after step {args.warmup}); quality run {args.steps} steps; decoding 1,000 dev sentences, "
        f"batch 64, median of {getattr(args, 'decode_repeats', 1)} round(s)"
    )
    print(" | ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths))))
    print("-+-".join("-" * w for w in widths))
    for row in body:
        print(" | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    goal_lines = goals(s)
    for line in goal_lines:
        print(f"  goal: {line}")
    return {"medians": s, "goals": goal_lines}
