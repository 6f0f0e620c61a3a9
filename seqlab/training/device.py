"""Where and in which precision training runs: device resolution and autocast settings."""

from __future__ import annotations

import logging
import warnings
from contextlib import AbstractContextManager, nullcontext

import torch

from seqlab.errors import TrainingError

logger = logging.getLogger(__name__)


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


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 products in hardware (AVX512-BF16 or AMX tiles); without
    them oneDNN emulates bf16 and autocast runs slower than float32."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)


def amp_dtype(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``training.amp`` (None: float32); logs the precision that runs (INFO)
    unless ``amp`` is ``none``.

    ``bf16`` runs on CUDA and on the CPU (torch's CPU autocast: the matrix products and the fused
    LSTM in bfloat16, the weights, the loss and the optimizer in float32); on a CPU without native
    bf16 it warns that it will be slower than float32, and runs as asked. ``fp16`` needs CUDA:
    asked for on another device it warns and returns None (float32). ``auto`` is bf16 where the
    hardware computes it (a CUDA device with bf16, a CPU with AVX512-BF16 or AMX), else float32.
    """
    if amp == "none":
        return None
    dtype = _amp_dtype(amp, device)
    logger.info("precision: %s", precision_line(amp, dtype, device))
    return dtype


def _amp_dtype(amp: str, device: torch.device) -> torch.dtype | None:
    if amp == "auto":
        if device.type == "cuda":
            native = torch.cuda.is_bf16_supported()
        else:
            native = device.type == "cpu" and cpu_has_native_bf16()
        return torch.bfloat16 if native else None
    if amp == "bf16":
        if device.type == "cpu" and not cpu_has_native_bf16():
            warnings.warn(
                "training.amp = bf16 on a CPU without AVX512-BF16 or AMX: bfloat16 is emulated there "
                "and trains slower than float32 (training.amp: none)",
                stacklevel=4,
            )
        return torch.bfloat16
    if device.type != "cuda":
        warnings.warn(f"training.amp = {amp} needs CUDA; training in float32 on {device}", stacklevel=4)
        return None
    return torch.float16


def precision_line(amp: str, dtype: torch.dtype | None, device: torch.device) -> str:
    """What ran, for the log: ``bfloat16 autocast (training.amp: auto, cpu)`` or ``float32 (...)``."""
    precision = "float32" if dtype is None else f"{str(dtype).removeprefix('torch.')} autocast"
    return f"{precision} (training.amp: {amp}, {device})"


def autocast_context(device: torch.device, dtype: torch.dtype | None) -> AbstractContextManager:
    """``torch.autocast`` for ``dtype`` on ``device``, or a no-op context when ``dtype`` is None."""
    if dtype is None:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)
