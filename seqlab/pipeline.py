"""From a validated config to a trained run directory: the glue between data, model and Trainer.

``train(cfg, run_dir, resume)`` is what ``seqlab train`` runs. It builds nothing the run directory
cannot describe: the tokenizer, vocabulary and config are written there before training starts, and
on ``--resume`` they are read back from there (never retrained), so a resumed run sees exactly the
same ids.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from seqlab.config import ExperimentConfig, config_to_dict, load_config, save_config
from seqlab.data.bptt import BPTTBatcher
from seqlab.data.lm_corpus import LMCorpus, load_lm_corpus, reload_lm_corpus
from seqlab.errors import CheckpointError, ConfigError
from seqlab.models.factory import build_model
from seqlab.training.distributed import DistInfo, cleanup, init_distributed
from seqlab.training.rng import seed_everything
from seqlab.training.trainer import Trainer

CONFIG_FILE = "config.yaml"


def with_absolute_paths(cfg: ExperimentConfig) -> ExperimentConfig:
    """``data.train`` / ``data.valid`` made absolute (relative paths are read from the current
    directory), so the run directory's config.yaml means the same files from anywhere."""
    changes = {
        key: str(Path(value).resolve())
        for key in ("train", "valid")
        if (value := getattr(cfg.data, key)) is not None
    }
    return dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, **changes)) if changes else cfg


def _check_same_config(cfg: ExperimentConfig, run_dir: Path) -> None:
    saved = _flatten(config_to_dict(load_config(run_dir / CONFIG_FILE)))
    ours = _flatten(config_to_dict(cfg))
    diffs = [
        f"  - {key}: run has {saved.get(key)!r}, now {value!r}"
        for key, value in ours.items()
        if saved.get(key) != value
    ]
    if diffs:
        raise ConfigError(
            f"--resume with a config that differs from {run_dir / CONFIG_FILE}:\n"
            + "\n".join(diffs)
            + "\nResume with the same config and overrides (or start a new --run-dir)."
        )


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def prepare_corpus(cfg: ExperimentConfig, run_dir: Path, resume: bool, dist: DistInfo) -> LMCorpus:
    """Tokenizer, vocabulary and id tensors; fitted and saved on a fresh run, reloaded on resume."""
    if resume:
        return reload_lm_corpus(cfg.data, run_dir)
    if dist.world_size > 1:
        # rank 0 fits the tokenizer and vocabulary; the others wait and read what it wrote
        if dist.is_main:
            corpus = load_lm_corpus(cfg.data, run_dir)
        torch.distributed.barrier()
        if not dist.is_main:
            corpus = reload_lm_corpus(cfg.data, run_dir)
        return corpus
    return load_lm_corpus(cfg.data, run_dir)


def build_batchers(
    cfg: ExperimentConfig, corpus: LMCorpus, dist: DistInfo
) -> tuple[BPTTBatcher, BPTTBatcher]:
    """Training stream (variable BPTT when configured) and the validation stream, sharded by rank."""
    data = cfg.data
    for name in ("batch_size", "eval_batch_size"):
        if getattr(data, name) % dist.world_size:
            raise ConfigError(
                f"data.{name} = {getattr(data, name)}: must be divisible by the number of processes "
                f"({dist.world_size}); it is the global batch, split across ranks"
            )
    train = BPTTBatcher(
        corpus.train,
        data.batch_size,
        data.bptt,
        variable=data.variable_bptt,
        seed=cfg.training.seed,
        rank=dist.rank,
        world_size=dist.world_size,
    )
    valid = BPTTBatcher(
        corpus.valid, data.eval_batch_size, data.bptt, rank=dist.rank, world_size=dist.world_size
    )
    return train, valid


def train(cfg: ExperimentConfig, run_dir: str | Path, resume: bool = False) -> dict[str, float]:
    """Train ``cfg`` into ``run_dir``; with ``resume`` continue exactly from ``run_dir/last``.

    Returns the Trainer's final metrics (best validation metric and friends).
    """
    run_dir = Path(run_dir)
    cfg = with_absolute_paths(cfg)
    dist = init_distributed()
    try:
        if resume:
            if not (run_dir / CONFIG_FILE).is_file():
                raise CheckpointError(f"{run_dir}: no {CONFIG_FILE} here, nothing to resume; drop --resume")
            _check_same_config(cfg, run_dir)
        elif (run_dir / "last").exists():
            raise CheckpointError(
                f"{run_dir} already holds a training run; pass --resume to continue it "
                f"or choose a new --run-dir"
            )
        if dist.is_main:
            run_dir.mkdir(parents=True, exist_ok=True)
            save_config(cfg, run_dir / CONFIG_FILE)
        if cfg.training.threads is not None:
            torch.set_num_threads(cfg.training.threads)
        seed_everything(cfg.training.seed)  # the model's initial weights come from this seed
        corpus = prepare_corpus(cfg, run_dir, resume, dist)
        train_data, valid_data = build_batchers(cfg, corpus, dist)
        model = build_model(cfg, len(corpus.vocab))
        total_steps = cfg.training.max_steps or cfg.training.max_epochs * len(train_data)
        trainer = Trainer(model, cfg.training, train_data, valid_data, run_dir, total_steps=total_steps)
        return trainer.fit(resume=resume)
    finally:
        cleanup()
