"""Where and in which precision training runs: device resolution and autocast settings."""

from __future__ import annotations

import warnings
from contextlib import AbstractContextManager, nullcontext

import torch

from seqlab.errors import TrainingError


def resolve_device(requested: str | torch.device | None, local_rank: int = 0) -> torch.device:
    """``auto`` → CUDA when available, else CPU; CUDA under DDP uses ``cuda:LOCAL_RANK``."""
    name = str(requested or "auto")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise TrainingError(f"training.device = {name}: no CUDA device is available; use auto or cpu")
    device = torch.device(name)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", local_rank)
    return device


def amp_dtype(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``training.amp`` (None: float32).

    AMP is used on CUDA only; asked for on another device it warns and returns None (float32).
    """
    if amp == "none":
        return None
    if device.type != "cuda":
        warnings.warn(f"training.amp = {amp} needs CUDA; training in float32 on {device}", stacklevel=3)
        return None
    return torch.bfloat16 if amp == "bf16" else torch.float16


def autocast_context(device: torch.device, dtype: torch.dtype | None) -> AbstractContextManager:
    """``torch.autocast`` for ``dtype`` on ``device``, or a no-op context when ``dtype`` is None."""
    if dtype is None:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)
