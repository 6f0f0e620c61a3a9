"""Safe tensor files: safetensors only, never pickle; durable writes; tied weights kept tied.

Every tensor seqlab writes goes through :func:`write_tensors` and every tensor it reads through
:func:`read_tensors`, which checks the safetensors header itself before handing the file to
``safetensors.torch.load_file``. A pickle (``torch.save``) or anything else is refused with a
:class:`~seqlab.errors.CheckpointError`; ``torch.load`` is never called, so no code in a file runs.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from seqlab.errors import CheckpointError
from seqlab.rundir.files import fsync_path
from seqlab.rundir.manifest import replace_file

ALIASES_KEY = "seqlab.aliases"
_MAX_HEADER = 100 * 1024 * 1024


def _refusal(path: Path, why: str) -> CheckpointError:
    return CheckpointError(
        f"{path}: not a safetensors file ({why}); seqlab never unpickles checkpoints "
        "(torch.load / pickle can run arbitrary code). Re-export the weights as safetensors "
        "in an environment you trust, e.g. safetensors.torch.save_file(state_dict, path)."
    )


def check_safetensors_header(path: Path) -> None:
    """Raise CheckpointError unless ``path`` starts with a well-formed safetensors header."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            raise _refusal(path, "too short")
        (size,) = struct.unpack("<Q", head)
        if size < 2 or size > _MAX_HEADER or size > path.stat().st_size - 8:
            # judged only now: a real header length can start with the byte 0x80 (e.g. 2432 bytes)
            if head[:1] == b"\x80" or head[:2] == b"PK":
                raise _refusal(path, "it looks like a pickle / torch.save file")
            raise _refusal(path, "bad header length")
        header = handle.read(size)
    try:
        parsed = json.loads(header.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _refusal(path, "header is not JSON") from None
    if not isinstance(parsed, dict):
        raise _refusal(path, "header is not a JSON object")


def read_tensors(path: Path, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """Load every tensor of a safetensors file (refusing anything else, see module doc)."""
    path = Path(path)
    check_safetensors_header(path)
    try:
        return load_file(str(path), device=str(device))
    except (SafetensorError, OSError, ValueError) as exc:
        raise _refusal(path, str(exc)) from None


def read_metadata(path: Path) -> dict[str, str]:
    """The string metadata of a safetensors file (``{}`` when it has none)."""
    path = Path(path)
    check_safetensors_header(path)
    try:
        with safe_open(str(path), framework="pt") as handle:
            return dict(handle.metadata() or {})
    except (SafetensorError, OSError, ValueError) as exc:
        raise _refusal(path, str(exc)) from None


def _storage_key(tensor: torch.Tensor) -> tuple[str, int]:
    return (str(tensor.device), tensor.untyped_storage().data_ptr())


def dedupe_shared(
    tensors: Mapping[str, torch.Tensor],
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Make a dict safetensors accepts: one entry per tied tensor, copies of partial views.

    Returns ``(unique, aliases)``: ``aliases[name] = kept_name`` for every tensor that is the very
    same view of memory as ``kept_name`` (tied weights such as an output layer sharing the
    embedding). Tensors that share storage without being identical views are cloned.
    """
    unique: dict[str, torch.Tensor] = {}
    aliases: dict[str, str] = {}
    seen: dict[tuple[str, int], list[str]] = {}
    views: dict[str, torch.Tensor] = {}
    for name, tensor in tensors.items():
        tensor = tensor.detach()
        if tensor.numel() == 0:
            unique[name] = tensor.clone().contiguous()
            continue
        key = _storage_key(tensor)
        twin = next(
            (
                other
                for other in seen.get(key, [])
                if views[other].shape == tensor.shape
                and views[other].stride() == tensor.stride()
                and views[other].storage_offset() == tensor.storage_offset()
                and views[other].dtype == tensor.dtype
            ),
            None,
        )
        if twin is not None:
            aliases[name] = twin
            continue
        views[name] = tensor
        unique[name] = tensor.clone() if key in seen else tensor
        seen.setdefault(key, []).append(name)
    return unique, aliases


def write_tensors(
    path: Path, tensors: Mapping[str, torch.Tensor], metadata: dict[str, str] | None = None
) -> None:
    """Write ``tensors`` to ``path`` as safetensors and fsync it (tied tensors stored once).

    Tensors are moved to CPU and made contiguous; aliases of tied tensors are recorded in the
    metadata key ``seqlab.aliases`` and restored by :func:`read_state_dict`.
    """
    unique, aliases = dedupe_shared(tensors)
    cpu = {name: t.to("cpu").contiguous() for name, t in unique.items()}
    meta = dict(metadata or {})
    if aliases:
        meta[ALIASES_KEY] = json.dumps(aliases, sort_keys=True)
    save_file(cpu, str(path), metadata=meta or None)
    fsync_path(path)


def read_state_dict(path: Path, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """A model state dict written by :func:`write_tensors`, with tied entries restored."""
    tensors = read_tensors(path, device)
    raw = read_metadata(path).get(ALIASES_KEY)
    if raw:
        for name, kept in json.loads(raw).items():
            if kept not in tensors:
                raise CheckpointError(f"{path}: tied tensor {name!r} points at missing {kept!r}")
            tensors[name] = tensors[kept]
    return tensors


def check_finite(state: Mapping[str, torch.Tensor], source: Path) -> None:
    """CheckpointError naming ``source`` and the first tensor holding NaN or infinity."""
    for name, tensor in state.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(
                f"{source}: tensor {name!r} holds NaN or infinite values, so the model cannot "
                "predict; the weights come from a diverged or damaged run: use another checkpoint "
                "of the run (e.g. best/) or retrain"
            )


def load_into_model(model: nn.Module, state: dict[str, torch.Tensor], source: Path) -> None:
    """``model.load_state_dict(state)`` (in place, so tied parameters stay tied) with a clear error.

    A tensor of another dtype than the model's own (int or float64 where float32 is expected) is
    refused by name: ``load_state_dict`` would cast it silently. Weights holding NaN or infinity are
    refused (:func:`check_finite`).
    """
    own = model.state_dict()
    for name, tensor in state.items():
        if name in own and tensor.dtype != own[name].dtype:
            expected = str(own[name].dtype).removeprefix("torch.")
            raise CheckpointError(
                f"{source}: tensor {name!r} is {str(tensor.dtype).removeprefix('torch.')}, this model "
                f"expects {expected}; seqlab does not cast weights silently"
            )
    check_finite(state, source)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{source}: weights do not fit this model: {exc}") from None


def save_model_weights(path: Path, model: nn.Module) -> None:
    """Write ``model.state_dict()`` to ``path`` atomically (temporary sibling + ``os.replace``), keeping
    the folder's manifest true (:func:`seqlab.rundir.manifest.replace_file`)."""
    state = model.state_dict()
    replace_file(Path(path), lambda tmp: write_tensors(tmp, state))


def load_model_weights(path: Path, model: nn.Module) -> None:
    """Load a safetensors weights file into ``model`` (refuses pickles; keeps tied weights tied)."""
    if os.path.lexists(path) and not Path(path).is_file():
        raise CheckpointError(f"{path}: not a regular file; expected a safetensors weights file")
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    load_into_model(model, read_state_dict(Path(path), device), Path(path))
