"""What is measured on a trained contender: quality, decoding speed, quality by source length,
repetition, diversity (distinct-1/2, the top-10 share) and length ratio (with and without n-gram
blocking), attention examples, sample outputs.

Everything goes through a translator with ``translate(texts, **settings) -> outputs`` whose outputs
have ``text``, ``tokens``, ``source_tokens`` and ``attention`` (the Seq2Seq predictor's
``Translation``, or :class:`~seqlab.compare.lm_sep.LMTranslation`), so every contender is decoded
and scored by the same code.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from seqlab.compare import bootstrap
from seqlab.compare.diversity import diversity_block
from seqlab.compare.spec import CompareSpec
from seqlab.metrics import dialogue
from seqlab.metrics import sequences as seq_metrics

# scored on detokenized strings; the others on tokens
TEXT_METRICS = ("bleu", "bleu1", "bleu2", "chrf", "rouge_l")


def eval_sample(count: int, max_examples: int | None, seed: int) -> list[int]:
    """Indices of the evaluated pairs: all, or a seeded sample of ``max_examples`` in file order
    (a catalogue's validation split may be sorted, so its first N pairs would not be typical)."""
    if max_examples is None or max_examples >= count:
        return list(range(count))
    return sorted(random.Random(seed).sample(range(count), max_examples))


def attention_picks(source_lengths: Sequence[int], count: int) -> list[int]:
    """``count`` example indices spread over the longer half of the sources (the same for every
    contender): attention is most telling on long inputs."""
    if count <= 0 or not source_lengths:
        return []
    order = sorted(range(len(source_lengths)), key=lambda i: (source_lengths[i], i))
    upper = order[len(order) // 2 :] or order
    step = len(upper) / count
    picks = [upper[min(int(step * k + step / 2), len(upper) - 1)] for k in range(count)]
    return sorted(set(picks))


def score(
    metric: str, hyp_texts: list[str], ref_texts: list[str], hyp_tokens: list, ref_tokens: list
) -> float:
    """One metric by name (0-100 scale, see :mod:`seqlab.metrics.sequences`; the dialogue metrics
    distinct-1/2 and the top-10 share count the output tokens, :mod:`seqlab.metrics.dialogue`)."""
    if metric == "bleu":
        return seq_metrics.bleu(hyp_texts, ref_texts)[0]
    if metric in ("bleu1", "bleu2"):
        return seq_metrics.bleu(hyp_texts, ref_texts, max_order=int(metric[-1]))[0]
    if metric in ("distinct1", "distinct2"):
        return dialogue.distinct_n(hyp_tokens, int(metric[-1]))
    if metric == "frequent_share":
        return dialogue.frequent_share(hyp_tokens)
    if metric == "chrf":
        return seq_metrics.chrf(hyp_texts, ref_texts)[0]
    if metric == "rouge_l":
        return seq_metrics.rouge(hyp_texts, ref_texts)["rougeL"]
    if metric in ("per", "wer"):
        return seq_metrics.error_rate(hyp_tokens, ref_tokens)
    if metric == "exact_match":
        return seq_metrics.exact_match(hyp_tokens, ref_tokens)
    raise ValueError(f"unknown metric {metric!r}")  # the spec validated it


def _metric_function(
    metric: str, by_text: dict[int, tuple[str, str]], by_tokens: dict[int, tuple]
) -> Callable:
    """``(indices, indices) -> score`` for :func:`seq_metrics.length_buckets`, which passes the
    members' hyps and refs: here the hyps are example indices, so both views stay available."""

    def function(hyps: list[int], refs: list[int]) -> float:
        texts = [by_text[i] for i in hyps]
        tokens = [by_tokens[i] for i in hyps]
        return score(
            metric,
            [t[0] for t in texts],
            [t[1] for t in texts],
            [t[0] for t in tokens],
            [t[1] for t in tokens],
        )

    return function


def _decode(translator: Any, sources: list[str], settings: dict[str, Any]) -> tuple[list[Any], float]:
    start = time.perf_counter()
    outputs = translator.translate(sources, **settings)
    return outputs, time.perf_counter() - start


def _quality_block(
    spec: CompareSpec, outputs: list[Any], refs: list[str], ref_tokens: list[list[str]]
) -> dict[str, float]:
    hyp_tokens = [list(o.tokens) for o in outputs]
    quality = score(spec.metric, [o.text for o in outputs], refs, hyp_tokens, ref_tokens)
    return {
        "repeated_ngram_rate": seq_metrics.repeated_ngram_rate(hyp_tokens, spec.evaluation.repetition_n),
        "length_ratio": seq_metrics.length_ratio(hyp_tokens, ref_tokens),
        "quality": quality,
        **diversity_block(hyp_tokens),
    }


def _attention_examples(
    translator: Any, sources: list[str], picks: list[int], settings: dict[str, Any]
) -> list[dict]:
    if not picks:
        return []
    outputs = translator.translate([sources[i] for i in picks], **settings, return_attention=True)
    examples = []
    for output in outputs:
        weights = output.attention
        if weights is None:
            return []  # a model without attention
        weights = [
            list(map(float, row)) for row in (weights.tolist() if hasattr(weights, "tolist") else weights)
        ]
        tokens = list(output.tokens)
        if len(weights) == len(tokens) + 1:
            tokens.append("<eos>")
        examples.append(
            {"source_tokens": list(output.source_tokens), "output_tokens": tokens, "weights": weights}
        )
    return examples


def measure(
    translator: Any,
    spec: CompareSpec,
    sources: list[str],
    refs: list[str],
    target_tokenize: Callable[[str], list[str]],
) -> dict[str, Any]:
    """Decode ``sources`` with the spec's settings and score against ``refs``; returns the
    contender fields ``quality``, ``metrics``, ``decode``, ``by_length``, ``repetition``,
    ``attention_examples``, ``examples`` and ``per_example`` (the task metric's statistics of each
    pair, for the paired bootstrap of :mod:`seqlab.compare.bootstrap`) of ``results.json``."""
    settings = spec.decoding.translate_kwargs()
    outputs, seconds = _decode(translator, sources, settings)
    ref_tokens = [target_tokenize(r) for r in refs]
    hyp_tokens = [list(o.tokens) for o in outputs]
    hyp_texts = [o.text for o in outputs]
    metrics = {
        name: score(name, hyp_texts, refs, hyp_tokens, ref_tokens)
        for name in (spec.metric, *spec.extra_metrics)
    }
    by_text = {i: (hyp_texts[i], refs[i]) for i in range(len(refs))}
    by_tokens = {i: (hyp_tokens[i], ref_tokens[i]) for i in range(len(refs))}
    source_lengths = [len(o.source_tokens) for o in outputs]
    edges = list(spec.evaluation.length_buckets) or None
    indices = list(range(len(refs)))
    by_length = seq_metrics.length_buckets(
        source_lengths, indices, indices, _metric_function(spec.metric, by_text, by_tokens), edges
    )
    repetition: dict[str, Any] = {
        "n": spec.evaluation.repetition_n,
        "plain": _quality_block(spec, outputs, refs, ref_tokens),
        "blocked": None,
    }
    blocking = spec.decoding.blocking_ngram
    if blocking:
        blocked, _ = _decode(translator, sources, spec.decoding.translate_kwargs(no_repeat_ngram=blocking))
        repetition["blocked"] = {
            "no_repeat_ngram": blocking,
            **_quality_block(spec, blocked, refs, ref_tokens),
        }
    picks = attention_picks(source_lengths, spec.evaluation.attention_examples)
    shown = eval_sample(len(refs), spec.evaluation.show_examples, spec.seed)
    return {
        "quality": metrics[spec.metric],
        "metrics": metrics,
        "decode": {
            "sentences": len(sources),
            "seconds": seconds,
            "sentences_per_s": len(sources) / seconds if seconds > 0 else None,
        },
        "by_length": by_length,
        "repetition": repetition,
        "attention_examples": _attention_examples(translator, sources, picks, settings),
        "examples": [{"source": sources[i], "reference": refs[i], "output": hyp_texts[i]} for i in shown],
        "per_example": {
            "metric": spec.metric,
            "pairs": bootstrap.pairs_digest(sources, refs),
            "stats": bootstrap.example_stats(spec.metric, hyp_texts, refs, hyp_tokens, ref_tokens),
        },
    }
