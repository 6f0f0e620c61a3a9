"""Reading a trained run directory for inference: which weights file, checked against the manifests.

Used by the predictors (:mod:`seqlab.predictors`) and by warm start (:mod:`seqlab.training.warm_start`);
imports nothing above :mod:`seqlab.rundir`, so loading a model never imports :mod:`seqlab.training`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from torch import nn

from seqlab.errors import CheckpointError
from seqlab.rundir.manifest import verify_run
from seqlab.rundir.names import CONFIG_FILE, LAST, MODEL_FILE
from seqlab.rundir.safetensors_io import load_model_weights

logger = logging.getLogger(__name__)


def require_run_dir(run_dir: Path) -> None:
    """CheckpointError unless ``run_dir`` holds a ``config.yaml`` (the mark of a run directory)."""
    if not (run_dir / CONFIG_FILE).is_file():
        raise CheckpointError(f"{run_dir}: not a seqlab run directory (no {CONFIG_FILE})")


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
    """With ``verify``, check the run's files against its manifests
    (:func:`~seqlab.rundir.manifest.verify_run`) before any of them is read; IntegrityError naming the
    first that differs."""
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
