"""seqlab: LSTM and Seq2Seq models for NLP, fast and easy to use.

The public API::

    import seqlab
    lm = seqlab.load("runs/ptb")          # a trained run directory
    lm.generate("the market", max_tokens=20, top_p=0.9, seed=1)
    lm.predict_next("the cat sat on the", top_k=5)
    lm.score(["a line of text"])
"""

from seqlab.errors import (
    CheckpointError,
    ConfigError,
    DataError,
    IntegrityError,
    SeqlabError,
    TrainingError,
    TrainingStopped,
)

__version__ = "0.1.0"

__all__ = [
    "CheckpointError",
    "ConfigError",
    "DataError",
    "IntegrityError",
    "SeqlabError",
    "TrainingError",
    "TrainingStopped",
    "load",
    "load_config",
    "train",
]


def load(run_dir, device: str = "cpu", verify: bool = True, int8: bool | None = None):  # noqa: ANN001, ANN201 - re-exported from seqlab.api
    """Load a trained run directory, verified against its manifests; ``int8``: a Seq2Seq run's int8
    decoding (see :func:`seqlab.api.load`)."""
    from seqlab.api import load as _load

    return _load(run_dir, device, verify, int8)


def load_config(path, overrides=()):  # noqa: ANN001, ANN201
    """Read and validate a YAML recipe (see :func:`seqlab.config.load_config`)."""
    from seqlab.config import load_config as _load_config

    return _load_config(path, overrides)


def train(cfg, run_dir, resume: bool = False, overwrite: bool = False, verify: bool = True):  # noqa: ANN001, ANN201
    """Train a config into a run directory (see :func:`seqlab.training.pipeline.train`)."""
    from seqlab.training.pipeline import train as _train

    return _train(cfg, run_dir, resume, overwrite, verify)
