"""What the predictors share: loading weights, batching, pooling choices and the evaluation report."""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from seqlab import metrics
from seqlab.errors import ConfigError
from seqlab.rundir.read import check_run, load_weights, run_weights  # noqa: F401 - the predictors' names

T = TypeVar("T")
logger = logging.getLogger(__name__)
ENCODE_POOLING = ("mean", "max", "last")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of ``items`` of at most ``size`` elements."""
    if size < 1:
        raise ConfigError(f"batch_size = {size}: must be >= 1")
    for start in range(0, len(items), size):
        yield items[start : start + size]


def check_pool(pool: str, choices: Sequence[str] = ENCODE_POOLING) -> None:
    if pool not in choices:
        raise ConfigError(f"pool = {pool!r}: must be one of {', '.join(choices)}")


@dataclass
class Evaluation:
    """Scores of a model on labelled data.

    ``summary``: accuracy, macro precision/recall/F1 (tagger: per token; plus span precision,
    recall and F1 when the tags are BIO); ``per_class``: label -> precision, recall, f1, support;
    ``labels`` and ``confusion`` (``confusion[i][j]``: gold ``labels[i]`` predicted ``labels[j]``).
    """

    summary: dict[str, float]
    per_class: dict[str, dict[str, float]]
    labels: list[str]
    confusion: list[list[int]]
    count: int
    unit: str = "examples"
    notes: list[str] = field(default_factory=list)


def score_labels(
    gold: Sequence[Hashable], pred: Sequence[Hashable], labels: Sequence[str], unit: str
) -> Evaluation:
    """Accuracy, macro-F1, per-class scores and the confusion matrix of ``pred`` against ``gold``.

    Gold labels the model does not know are added to ``labels`` (the model never predicts them).
    """
    labels = list(labels) + sorted({g for g in gold} - set(labels))
    scores = metrics.precision_recall_f1(gold, pred, labels)
    summary = {
        "accuracy": metrics.accuracy(gold, pred),
        "macro_precision": scores["macro"]["precision"],
        "macro_recall": scores["macro"]["recall"],
        "macro_f1": scores["macro"]["f1"],
    }
    return Evaluation(
        summary=summary,
        per_class=scores["per_class"],
        labels=labels,
        confusion=metrics.confusion_matrix(gold, pred, labels),
        count=len(gold),
        unit=unit,
    )
