"""Build the model a recipe asks for (a plain if/elif, no registry)."""

from __future__ import annotations

from torch import nn

from seqlab.config import TASKS, ExperimentConfig
from seqlab.errors import ConfigError
from seqlab.models.language_model import LanguageModel


def build_model(cfg: ExperimentConfig, vocab_size: int) -> nn.Module:
    """The model for ``cfg.task`` with a vocabulary of ``vocab_size`` ids (not yet trained)."""
    if cfg.task == "language_model":
        return LanguageModel(cfg.model, vocab_size)
    raise ConfigError(f"task = {cfg.task!r}: must be one of {', '.join(TASKS)}")
