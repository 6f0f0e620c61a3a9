"""Evaluation metrics on plain Python sequences: accuracy, precision/recall/F1, confusion matrix,
token accuracy, BIO span F1 and perplexity.

This module imports nothing of seqlab. Its inputs come from code, not users, so a length
mismatch or an empty input raises ``ValueError``. A ratio whose denominator is zero (a class
never predicted, no gold spans) is 0.0, never an error.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence

Span = tuple[str, int, int]


def _check_lengths(gold: Sequence, pred: Sequence, what: str = "gold and pred") -> None:
    if len(gold) != len(pred):
        raise ValueError(f"{what} differ in length: {len(gold)} != {len(pred)}")


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def _f1(precision: float, recall: float) -> float:
    return _ratio(2 * precision * recall, precision + recall)


def accuracy(gold: Sequence[Hashable], pred: Sequence[Hashable]) -> float:
    """The fraction of positions where ``pred`` equals ``gold``."""
    _check_lengths(gold, pred)
    if not gold:
        raise ValueError("accuracy of an empty sequence is undefined")
    return sum(g == p for g, p in zip(gold, pred)) / len(gold)


def confusion_matrix(
    gold: Sequence[Hashable], pred: Sequence[Hashable], labels: Sequence[Hashable]
) -> list[list[int]]:
    """``matrix[i][j]``: how many examples of gold ``labels[i]`` were predicted ``labels[j]``.

    A gold or predicted label not in ``labels`` raises ValueError.
    """
    _check_lengths(gold, pred)
    index = {label: i for i, label in enumerate(labels)}
    if len(index) != len(labels):
        raise ValueError(f"duplicate labels: {list(labels)}")
    matrix = [[0] * len(labels) for _ in labels]
    for position, (g, p) in enumerate(zip(gold, pred)):
        for name, label in (("gold", g), ("pred", p)):
            if label not in index:
                raise ValueError(f"{name} label {label!r} at position {position} is not in labels")
        matrix[index[g]][index[p]] += 1
    return matrix


def precision_recall_f1(
    gold: Sequence[Hashable], pred: Sequence[Hashable], labels: Sequence[Hashable]
) -> dict[str, dict]:
    """Per-class and averaged precision, recall and F1.

    Returns ``{"per_class": {label: {"precision", "recall", "f1", "support"}},
    "macro": {"precision", "recall", "f1"}, "micro": {"precision", "recall", "f1"}}``.
    Macro averages the per-class figures over ``labels`` (a class never predicted has precision
    and F1 0); macro F1 is the mean of per-class F1s. Micro pools the counts of ``labels``;
    with every label listed, micro P = R = F1 = accuracy.
    """
    matrix = confusion_matrix(gold, pred, labels)
    per_class: dict[Hashable, dict[str, float]] = {}
    true_positives = predicted_total = gold_total = 0
    for i, label in enumerate(labels):
        correct = matrix[i][i]
        support = sum(matrix[i])
        predicted = sum(row[i] for row in matrix)
        precision, recall = _ratio(correct, predicted), _ratio(correct, support)
        per_class[label] = {
            "precision": precision,
            "recall": recall,
            "f1": _f1(precision, recall),
            "support": support,
        }
        true_positives += correct
        predicted_total += predicted
        gold_total += support
    count = len(labels) or 1
    macro = {
        key: sum(scores[key] for scores in per_class.values()) / count
        for key in ("precision", "recall", "f1")
    }
    micro_precision = _ratio(true_positives, predicted_total)
    micro_recall = _ratio(true_positives, gold_total)
    micro = {
        "precision": micro_precision,
        "recall": micro_recall,
        "f1": _f1(micro_precision, micro_recall),
    }
    return {"per_class": per_class, "macro": macro, "micro": micro}


def token_accuracy(gold_seqs: Sequence[Sequence[Hashable]], pred_seqs: Sequence[Sequence[Hashable]]) -> float:
    """The fraction of tokens, over all sequences, whose predicted tag equals the gold one."""
    _check_lengths(gold_seqs, pred_seqs, "gold and pred sequence lists")
    correct = total = 0
    for number, (gold, pred) in enumerate(zip(gold_seqs, pred_seqs)):
        _check_lengths(gold, pred, f"gold and pred of sequence {number}")
        correct += sum(g == p for g, p in zip(gold, pred))
        total += len(gold)
    if not total:
        raise ValueError("token accuracy of no tokens is undefined")
    return correct / total


def _split_tag(tag: str) -> tuple[str, str]:
    if tag == "O":
        return "O", ""
    prefix, dash, kind = tag.partition("-")
    if not dash or prefix not in ("B", "I") or not kind:
        raise ValueError(f"tag {tag!r} is not 'O', 'B-TYPE' or 'I-TYPE'")
    return prefix, kind


def bio_spans(tags: Sequence[str]) -> set[Span]:
    """The labelled spans ``(type, start, end)`` (``end`` exclusive) of one BIO tag sequence.

    IOB1-tolerant, as conlleval: an ``I-X`` that does not continue an ``X`` span (after ``O``,
    at the start, or after a span of another type) starts a new span; ``B-X`` always starts one.
    """
    spans: set[Span] = set()
    start: int | None = None
    current = ""
    for position, tag in enumerate(tags):
        prefix, kind = _split_tag(tag)
        if start is not None and (prefix != "I" or kind != current):
            spans.add((current, start, position))
            start = None
        if prefix == "B" or (prefix == "I" and start is None):
            start, current = position, kind
    if start is not None:
        spans.add((current, start, len(tags)))
    return spans


def span_f1(gold_seqs: Sequence[Sequence[str]], pred_seqs: Sequence[Sequence[str]]) -> dict[str, float]:
    """Exact-match span precision, recall and F1 over all sequences (conlleval's figures).

    A predicted span counts only when its type, start and end all equal a gold span's; a partial
    overlap is wrong. Returns ``{"precision", "recall", "f1"}`` (each 0.0 when undefined).
    """
    _check_lengths(gold_seqs, pred_seqs, "gold and pred sequence lists")
    correct = gold_total = predicted_total = 0
    for number, (gold, pred) in enumerate(zip(gold_seqs, pred_seqs)):
        _check_lengths(gold, pred, f"gold and pred of sequence {number}")
        gold_spans, pred_spans = bio_spans(gold), bio_spans(pred)
        correct += len(gold_spans & pred_spans)
        gold_total += len(gold_spans)
        predicted_total += len(pred_spans)
    precision, recall = _ratio(correct, predicted_total), _ratio(correct, gold_total)
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall)}


def perplexity(nll_sum: float, tokens: int) -> float:
    """``exp(nll_sum / tokens)``: the perplexity of a summed natural-log loss; inf on overflow."""
    if tokens <= 0:
        raise ValueError(f"tokens = {tokens}: perplexity needs at least one token")
    try:
        return math.exp(nll_sum / tokens)
    except OverflowError:
        return math.inf
