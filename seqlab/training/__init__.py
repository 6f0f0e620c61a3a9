"""Training: optimizers and schedules, atomic safetensors checkpoints, the Trainer, DDP helpers."""

from seqlab.rundir.safetensors_io import load_model_weights, read_state_dict, save_model_weights
from seqlab.training.checkpoint import (
    FORMAT_VERSION,
    Checkpoint,
    checkpoint_exists,
    load_checkpoint,
    save_checkpoint,
)
from seqlab.training.distributed import DistInfo, LossModule, cleanup, init_distributed
from seqlab.training.metrics_log import MetricsLog
from seqlab.training.optim import Schedule, build_optimizer, build_scheduler
from seqlab.training.trainer import Trainer

__all__ = [
    "FORMAT_VERSION",
    "Checkpoint",
    "DistInfo",
    "LossModule",
    "MetricsLog",
    "Schedule",
    "Trainer",
    "build_optimizer",
    "build_scheduler",
    "checkpoint_exists",
    "cleanup",
    "init_distributed",
    "load_checkpoint",
    "load_model_weights",
    "read_state_dict",
    "save_checkpoint",
    "save_model_weights",
]
