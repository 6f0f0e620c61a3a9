"""Where datasets live: the shared data root (``$SEQLAB_DATA``) and the download cache
(``$SEQLAB_CACHE``). The lowest module of the catalogue side of :mod:`seqlab.data`: it imports
nothing of seqlab."""

from __future__ import annotations

import os
from pathlib import Path


def data_root() -> Path | None:
    """``$SEQLAB_DATA`` if set; else ``../shared/data`` from the working directory or from the
    repository root, whichever exists first; else None."""
    env = os.environ.get("SEQLAB_DATA")
    if env:
        return Path(env).expanduser()
    candidates = (
        Path.cwd().parent / "shared" / "data",
        Path(__file__).resolve().parents[3].parent / "shared" / "data",
    )
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


def cache_dir() -> Path:
    """``$SEQLAB_CACHE`` if set, else ``~/.cache/seqlab`` (not created here)."""
    env = os.environ.get("SEQLAB_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "seqlab"
