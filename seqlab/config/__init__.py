"""Experiment configuration: frozen dataclasses, loaded from YAML and validated before any work starts.

Every default is defined once, as a dataclass field in :mod:`~seqlab.config.schema` (the decoding
section in :mod:`~seqlab.config.decoding`). ``load_config`` (:mod:`~seqlab.config.loader`) reads a
YAML recipe, applies ``--set section.key=value`` overrides, and rejects unknown keys and invalid
values with one message that lists every problem, each with the key, the value, the valid choices
and a did-you-mean (:mod:`~seqlab.config.build`); the rules that tie the sections to the task, and
the task tables (formats, metrics), are in :mod:`~seqlab.config.tasks`.
Everything is re-exported here.
"""

from seqlab.config.build import build_dataclass, config_to_dict, did_you_mean
from seqlab.config.decoding import DecodingConfig
from seqlab.config.loader import apply_override, config_from_dict, load_config, save_config
from seqlab.config.schema import (
    DataConfig,
    ModelConfig,
    OptimizerConfig,
    ScheduleConfig,
    TokenizerConfig,
    TrainingConfig,
    VocabConfig,
)
from seqlab.config.tasks import (
    DECODED_METRICS,
    FORMATS_BY_TASK,
    METRICS_BY_TASK,
    TASKS,
    ExperimentConfig,
    seq2seq_errors,
)

__all__ = [
    "DECODED_METRICS",
    "FORMATS_BY_TASK",
    "METRICS_BY_TASK",
    "TASKS",
    "DataConfig",
    "DecodingConfig",
    "ExperimentConfig",
    "ModelConfig",
    "OptimizerConfig",
    "ScheduleConfig",
    "TokenizerConfig",
    "TrainingConfig",
    "VocabConfig",
    "apply_override",
    "build_dataclass",
    "config_from_dict",
    "config_to_dict",
    "did_you_mean",
    "load_config",
    "save_config",
    "seq2seq_errors",
]
