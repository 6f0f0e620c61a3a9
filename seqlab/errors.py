"""Errors raised for users: each names what was wrong, where, and how to fix it.

``assert`` guards internal invariants only; anything a user can cause raises one of these.
"""

from __future__ import annotations


class SeqlabError(Exception):
    """Base class of every error seqlab raises for a user to read."""

    exit_code: int = 2  # the command line's exit status: 2 for an error a user can fix in the input


class ConfigError(SeqlabError, ValueError):
    """A recipe or ``--set`` override is invalid. The message lists every problem at once."""


class DataError(SeqlabError, ValueError):
    """An input file is unreadable or malformed. The message names file, line and field."""


class CheckpointError(SeqlabError):
    """A run directory or checkpoint is missing, incompatible or unsafe (e.g. a pickle)."""


class TrainingError(SeqlabError, RuntimeError):
    """Training cannot go on (e.g. too many non-finite losses in a row)."""


class TrainingStopped(TrainingError):
    """A guard stopped training: non-finite losses or weights, or divergence (``training.divergence_*``,
    ``training.max_abs_weight``). The message says what fired, at which step, and which checkpoints are
    kept; the command line exits with status 3."""

    exit_code = 3


class IntegrityError(CheckpointError):
    """A file of a run directory or checkpoint differs from its manifest (changed, missing or not a
    regular file), or the manifest itself is unreadable. ``--no-verify`` / ``verify=False`` skips the
    check for someone repairing a run by hand."""
