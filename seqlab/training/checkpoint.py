"""Checkpoint folders: safetensors + JSON, written atomically, read without ever unpickling.

A checkpoint ``RUN/last`` (or ``RUN/best``) is a symlink to a real folder ``RUN/ckpt-last-<step>-<id>``
holding::

    model.safetensors      model.state_dict() (tied tensors stored once, aliases in the metadata)
    optimizer.safetensors  every tensor of optimizer.state_dict()["state"], keys "state.{index}.{name}"
    rng.safetensors        torch CPU (and CUDA) RNG states, "torch.cpu", "torch.cuda.{i}";
                           the model's carried state, "carry.{name}"
    state.json             {"format_version": 1, "manifest": "manifest.json",
                            <caller's state: step, epoch, sampler, ...>,
                            "optimizer": {"param_groups", "scalars"}, "rng": {"python", "numpy"}}
    manifest.json          the sha256 of each file above (:mod:`seqlab.rundir.manifest`), written last

Loading verifies the manifest first (``verify=False`` skips it, for repairing a checkpoint by hand)
and refuses an incomplete checkpoint: a state.json that records an optimizer state whose
``optimizer.safetensors`` is missing, or optimizer tensors whose shapes differ from their parameters'.

Saving is atomic: files go into a fresh ``RUN/.tmp-last-<id>`` folder and are fsynced; the folder
is renamed to ``RUN/ckpt-last-<step>-<id>``; a temporary symlink to it is ``os.replace``\\ d onto
``RUN/last`` (the atomic switch); then the previous folder is removed. A crash at any point leaves
``RUN/last`` pointing at a complete checkpoint; leftovers (``.tmp-*`` folders and links, ``ckpt-*``
folders nothing points to) are removed at the start of the next save.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from seqlab.errors import CheckpointError
from seqlab.rundir.manifest import CHECKPOINT_MARKER, verify_manifest, write_manifest
from seqlab.rundir.names import MANIFEST_FILE, MODEL_FILE, OPTIMIZER_FILE, RNG_FILE, STATE_FILE
from seqlab.rundir.safetensors_io import (
    fsync_path,
    load_into_model,
    read_state_dict,
    read_tensors,
    write_tensors,
)
from seqlab.training.rng import capture_rng

FORMAT_VERSION = 1


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` read back (tensors on CPU unless a device was asked for)."""

    path: Path
    state: dict[str, Any]
    model: dict[str, torch.Tensor]
    optimizer: dict[str, Any] | None = None
    rng_json: dict[str, Any] | None = None
    rng_tensors: dict[str, torch.Tensor] = field(default_factory=dict)
    carry: dict[str, torch.Tensor] = field(default_factory=dict)

    def load_model(self, model: nn.Module) -> None:
        """Copy the weights into ``model`` in place (tied parameters stay tied)."""
        load_into_model(model, self.model, self.path / MODEL_FILE)

    def load_optimizer(self, optimizer: torch.optim.Optimizer) -> None:
        """Restore the optimizer state (moved to its parameters' devices by torch)."""
        if self.optimizer is None:
            raise CheckpointError(f"{self.path}: holds no optimizer state (is it a best/ checkpoint?)")
        self._check_optimizer_shapes(optimizer)
        try:
            optimizer.load_state_dict(self.optimizer)
        except (ValueError, KeyError, RuntimeError) as exc:
            raise CheckpointError(f"{self.path}: optimizer state does not fit: {exc}") from None

    def _check_optimizer_shapes(self, optimizer: torch.optim.Optimizer) -> None:
        """Every saved state tensor that is not a scalar (``exp_avg``, a momentum buffer) must have its
        parameter's shape: ``load_state_dict`` does not check, and training would fail later."""
        assert self.optimizer is not None
        params = [p for group in optimizer.param_groups for p in group["params"]]
        source = self.path / OPTIMIZER_FILE
        for index, entry in self.optimizer["state"].items():
            if not 0 <= int(index) < len(params):
                raise CheckpointError(f"{source}: state for parameter {index}, the model has {len(params)}")
            shape = tuple(params[int(index)].shape)
            for name, value in entry.items():
                if isinstance(value, torch.Tensor) and value.dim() > 0 and tuple(value.shape) != shape:
                    raise CheckpointError(
                        f"{source}: tensor 'state.{index}.{name}' has shape {tuple(value.shape)}, its "
                        f"parameter has shape {shape}"
                    )


# ---------------------------------------------------------------------------------------------
# Optimizer state <-> tensors + JSON
# ---------------------------------------------------------------------------------------------


def _plain(value: Any, where: str) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, where) for k, v in value.items()}
    if isinstance(value, torch.Tensor):
        raise CheckpointError(f"cannot store tensor in JSON at {where}")  # a bug in the caller
    return value


def split_optimizer_state(state_dict: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """``optimizer.state_dict()`` → (tensors keyed ``state.{index}.{name}``, JSON-able rest)."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, entry in state_dict["state"].items():
        for name, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{index}.{name}"] = value
            else:
                scalars.setdefault(str(index), {})[name] = _plain(value, f"state.{index}.{name}")
    groups = [_plain(group, "param_groups") for group in state_dict["param_groups"]]
    return tensors, {"param_groups": groups, "scalars": scalars}


def join_optimizer_state(tensors: dict[str, torch.Tensor], json_part: dict[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`split_optimizer_state`."""
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        _, index, name = key.split(".", 2)
        state.setdefault(int(index), {})[name] = value
    for index, entry in json_part.get("scalars", {}).items():
        state.setdefault(int(index), {}).update(entry)
    groups = []
    for group in json_part["param_groups"]:
        group = dict(group)
        if isinstance(group.get("betas"), list):
            group["betas"] = tuple(group["betas"])
        groups.append(group)
    return {"state": state, "param_groups": groups}


# ---------------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------------


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, allow_nan=False)
        handle.flush()
        os.fsync(handle.fileno())


def remove_path(path: Path) -> None:
    """Remove a file, a symlink (not its target) or a folder tree; nothing if absent."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


def _link_target(link: Path) -> Path | None:
    if link.is_symlink():
        return (link.parent / os.readlink(link)).resolve()
    return None


def clean_leftovers(link: Path) -> None:
    """Remove what a crashed save of ``link`` left behind: temporary and orphaned folders/links."""
    parent, name = link.parent, link.name
    if not parent.is_dir():
        return
    current = _link_target(link)
    for entry in parent.iterdir():
        if entry.name.startswith((f".tmp-{name}-", f".tmp-link-{name}-")):
            remove_path(entry)
        elif entry.name.startswith(f"ckpt-{name}-") and entry.resolve() != current:
            remove_path(entry)


def _write_files(
    folder: Path,
    model: nn.Module,
    state: dict[str, Any],
    optimizer: torch.optim.Optimizer | None,
    carry: dict[str, torch.Tensor] | None,
    rng: bool,
) -> None:
    write_tensors(folder / MODEL_FILE, model.state_dict())
    data = {"format_version": FORMAT_VERSION, CHECKPOINT_MARKER: MANIFEST_FILE, **state}
    if optimizer is not None:
        tensors, data["optimizer"] = split_optimizer_state(optimizer.state_dict())
        write_tensors(folder / OPTIMIZER_FILE, tensors)
    extra: dict[str, torch.Tensor] = {}
    if rng:
        data["rng"], rng_tensors = capture_rng()
        extra.update(rng_tensors)
    for name, tensor in (carry or {}).items():
        extra[f"carry.{name}"] = tensor
    if extra:
        write_tensors(folder / RNG_FILE, extra)
    _write_json(folder / STATE_FILE, data)
    write_manifest(folder, [MODEL_FILE, OPTIMIZER_FILE, RNG_FILE, STATE_FILE])  # after what it lists
    fsync_path(folder)


def _switch_link(link: Path, folder: Path) -> None:
    """Atomically point ``link`` at ``folder`` (a sibling), via a temporary link and os.replace."""
    tmp_link = link.parent / f".tmp-link-{link.name}-{secrets.token_hex(4)}"
    os.symlink(folder.name, tmp_link)
    os.replace(tmp_link, link)
    fsync_path(link.parent)


def save_checkpoint(
    link: Path,
    model: nn.Module,
    state: dict[str, Any],
    optimizer: torch.optim.Optimizer | None = None,
    carry: dict[str, torch.Tensor] | None = None,
    rng: bool = True,
) -> Path:
    """Atomically write a checkpoint and point ``link`` (e.g. ``RUN/last``) at it.

    ``state`` is JSON-able data (step, epoch, sampler, schedule, ...); ``rng=True`` also stores the
    python, numpy and torch generator states as they are now. Returns the real folder written.
    """
    link = Path(link)
    link.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(link)
    if link.exists() and not link.is_symlink():  # e.g. a run dir copied with `cp -rL`
        os.replace(link, link.parent / f"ckpt-{link.name}-moved-{secrets.token_hex(4)}")
    previous = _link_target(link)
    token = secrets.token_hex(4)
    tmp = link.parent / f".tmp-{link.name}-{token}"
    tmp.mkdir()
    _write_files(tmp, model, state, optimizer, carry, rng)
    folder = link.parent / f"ckpt-{link.name}-{int(state.get('step', 0))}-{token}"
    os.rename(tmp, folder)
    fsync_path(link.parent)
    _switch_link(link, folder)
    if previous is not None and previous != folder.resolve():
        remove_path(previous)
    return folder


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def read_state_json(path: Path) -> dict[str, Any]:
    """Read and version-check a ``state.json`` (CheckpointError when missing, invalid or too new)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: missing; the checkpoint is incomplete")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: expected a JSON object")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        found = "no format_version" if version is None else f"format_version {version!r}"
        raise CheckpointError(
            f"{path}: {found}; this seqlab reads checkpoints with format_version {FORMAT_VERSION} only"
        )
    return data


def checkpoint_exists(link: Path) -> bool:
    """True when ``link`` (a symlink or folder) is present, even if dangling."""
    return os.path.lexists(link)


def load_checkpoint(link: Path, device: str | torch.device = "cpu", verify: bool = True) -> Checkpoint:
    """Read a checkpoint folder written by :func:`save_checkpoint` (safetensors and JSON only),
    checked against its manifest unless ``verify`` is False (see the module doc)."""
    folder = Path(link)
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: no checkpoint there")
    if verify:
        verify_manifest(folder)
    data = read_state_json(folder / STATE_FILE)
    model = read_state_dict(folder / MODEL_FILE, device)
    optimizer = None
    if "optimizer" in data:
        if not (folder / OPTIMIZER_FILE).is_file():
            raise CheckpointError(
                f"{folder / OPTIMIZER_FILE}: missing, but {STATE_FILE} records an optimizer state; "
                "resuming without it would silently restart the optimizer"
            )
        tensors = read_tensors(folder / OPTIMIZER_FILE, device)
        try:
            optimizer = join_optimizer_state(tensors, data.pop("optimizer"))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CheckpointError(f"{folder / STATE_FILE}: invalid optimizer entry ({exc!r})") from None
    extra = read_tensors(folder / RNG_FILE) if (folder / RNG_FILE).exists() else {}
    carry = {k[len("carry.") :]: v.to(device) for k, v in extra.items() if k.startswith("carry.")}
    rng_tensors = {k: v for k, v in extra.items() if k.startswith("torch.")}
    rng_json = data.pop("rng", None)
    if rng_json is not None and "torch.cpu" not in rng_tensors:
        raise CheckpointError(f"{folder / RNG_FILE}: missing the torch RNG state")
    return Checkpoint(folder, data, model, optimizer, rng_json, rng_tensors, carry)
