"""The run directory before training: never overwritten by accident, verified before a resume.

``train`` refuses a ``--run-dir`` that is a file, and a directory that already holds a run (a
``config.yaml`` or weights, e.g. what ``seqlab average`` writes) unless ``--resume`` continues it or
``--overwrite`` replaces it; ``--overwrite`` removes only what training writes (:data:`RUN_FILES`,
checkpoints, the metrics log, the manifest). A resume checks the run's manifest
(:mod:`seqlab.rundir.manifest`) before any file is read, then that the config equals the run's except in
:data:`BUDGET_KEYS`. A fresh run's config is written atomically; its manifest follows once the
tokenizers and vocabularies are written (:func:`seqlab.training.pipeline.train`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import torch

from seqlab.config import ExperimentConfig, config_to_dict, load_config, save_config
from seqlab.errors import CheckpointError, ConfigError
from seqlab.rundir.manifest import replace_file, verify_manifest, write_manifest
from seqlab.rundir.names import (
    BEST,
    CHECKPOINT_PREFIX,
    CONFIG_FILE,
    LAST,
    RUN_FILES,
    TMP_PREFIX,
    TRAINING_STATE,
)
from seqlab.training.checkpoint import checkpoint_exists, remove_path
from seqlab.training.distributed import DistInfo

logger = logging.getLogger(__name__)


# Limits that only decide when training stops: --resume may raise or lower them ("train longer").
BUDGET_KEYS = (
    "training.max_epochs",
    "training.max_steps",
    "training.max_minutes",
    "training.max_target_tokens",
)


def check_same_config(cfg: ExperimentConfig, run_dir: Path, write: bool = True) -> None:
    """Refuse a resume whose config differs from the run's, except in :data:`BUDGET_KEYS`; a new
    budget is logged and (``write``: the main process) written to the run's config.yaml."""
    saved = _flatten(config_to_dict(load_config(run_dir / CONFIG_FILE)))
    ours = _flatten(config_to_dict(cfg))
    changed = {key: value for key, value in ours.items() if saved.get(key) != value}
    diffs = [
        f"  - {key}: run has {saved.get(key)!r}, now {value!r}"
        for key, value in changed.items()
        if key not in BUDGET_KEYS
    ]
    if diffs:
        raise ConfigError(
            f"--resume with a config that differs from {run_dir / CONFIG_FILE}:\n"
            + "\n".join(diffs)
            + "\nResume with the same config and overrides (only "
            + ", ".join(BUDGET_KEYS)
            + " may change), or start a new --run-dir."
        )
    if changed:
        logger.info(
            "resuming with a new budget: %s (a schedule that depends on the total number of steps "
            "follows the new total)",
            ", ".join(f"{key} {saved.get(key)!r} -> {value!r}" for key, value in changed.items()),
        )
        if write:
            replace_file(run_dir / CONFIG_FILE, lambda tmp: save_config(cfg, tmp))


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def check_run_dir(run_dir: Path, resume: bool, overwrite: bool) -> list[str]:
    """Refuse a ``--run-dir`` that is a file; on ``resume``, one without a run to continue; else one that
    already holds a run (a config.yaml or weights) unless ``overwrite``. Returns what ``overwrite``
    will replace (empty when the directory holds no run)."""
    if os.path.lexists(run_dir) and not run_dir.is_dir():
        raise CheckpointError(f"--run-dir {run_dir}: exists and is not a directory; give a directory")
    if resume:
        if not (run_dir / CONFIG_FILE).is_file():
            raise CheckpointError(f"{run_dir}: no {CONFIG_FILE} here, nothing to resume; drop --resume")
        if not checkpoint_exists(run_dir / LAST):
            raise CheckpointError(
                f"{run_dir / LAST}: no checkpoint to resume from; start the run again with --overwrite "
                "instead of --resume"
            )
        return []
    if not run_dir.is_dir():
        return []
    weights = sorted(p.name for p in run_dir.glob("*.safetensors"))
    held = [name for name in (CONFIG_FILE, LAST, BEST) if os.path.lexists(run_dir / name)] + weights
    if held and not overwrite:
        raise CheckpointError(
            f"{run_dir} already holds a run ({', '.join(held)}); pass --resume to continue it or "
            "--overwrite to replace it, or choose a new --run-dir"
        )
    return held


def clear_run(run_dir: Path) -> None:
    """Remove what a training run wrote into ``run_dir`` (:data:`RUN_FILES`, checkpoints, metrics
    log, manifest); other files are left alone."""
    for entry in run_dir.iterdir():
        if entry.name in RUN_FILES + TRAINING_STATE or entry.name.startswith((CHECKPOINT_PREFIX, TMP_PREFIX)):
            remove_path(entry)
    logger.info("--overwrite: removed the earlier run in %s", run_dir)


def start_run_dir(
    cfg: ExperimentConfig, run_dir: Path, resume: bool, overwrite: bool, verify: bool, dist: DistInfo
) -> None:
    """Check ``run_dir`` (every rank, before anyone writes), then verify it (``resume``) or clear it
    (``overwrite``) and write the config (the main process)."""
    held = check_run_dir(run_dir, resume, overwrite)
    if resume:
        verified = verify_manifest(run_dir) if verify else True
        check_same_config(cfg, run_dir, write=dist.is_main)
        if not verified and dist.is_main:  # a run from before manifests gets one now
            write_manifest(run_dir, RUN_FILES)
    if dist.world_size > 1:
        torch.distributed.barrier()  # every rank has checked before the main process writes
    if dist.is_main and not resume:
        if held:
            clear_run(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        save_config(cfg, run_dir / CONFIG_FILE)
