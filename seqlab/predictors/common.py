"""What the predictors share: loading weights, batching, pooling choices and the evaluation report."""

from __future__ import annotations

import logging
import os
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from torch import nn

from seqlab import metrics
from seqlab.errors import CheckpointError, ConfigError
from seqlab.rundir.manifest import verify_run
from seqlab.rundir.names import LAST, MODEL_FILE
from seqlab.rundir.safetensors_io import load_model_weights

T = TypeVar("T")
logger = logging.getLogger(__name__)
ENCODE_POOLING = ("mean", "max", "last")


def run_weights(run_dir: Path) -> Path:
    """``run_dir/model.safetensors`` (the best weights), else ``run_dir/last/model.safetensors`` when
    the run has not validated yet. Something else than a regular file in either place is refused,
    never passed over."""
    for weights in (run_dir / MODEL_FILE, run_dir / LAST / MODEL_FILE):
        if weights.is_file():
            return weights
        if os.path.lexists(weights):
            raise CheckpointError(f"{weights}: not a regular file; expected a safetensors weights file")
    raise CheckpointError(f"{run_dir}: no model.safetensors (has training saved anything yet?)")


def check_run(run_dir: Path, verify: bool) -> None:
    """With ``verify``, check the run's files against its manifests (:func:`.rundir.manifest.verify_run`)
    before any of them is read; IntegrityError naming the first that differs."""
    if verify:
        verify_run(run_dir, run_weights(run_dir))


def load_weights(run_dir: Path, model: nn.Module) -> None:
    """Load the run's weights (:func:`run_weights`) into ``model``; falling back to ``last/`` says so."""
    weights = run_weights(run_dir)
    if weights != run_dir / MODEL_FILE:
        logger.warning(
            "%s: no model.safetensors (no validation improved, or training stopped before one did); "
            "using the latest checkpoint %s",
            run_dir,
            weights,
        )
    load_model_weights(weights, model)


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
