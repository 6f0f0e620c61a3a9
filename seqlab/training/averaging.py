"""Checkpoint averaging: the element-wise mean of the weights of several runs or checkpoints.

``average_checkpoints([A, B, ...], OUT)`` takes run directories (their ``model.safetensors``, the
best weights) or checkpoint folders (``RUN/last``, ``RUN/best``, ``RUN/ckpt-*``) whose run
directories hold identical configurations, averages every tensor (in float64, stored in the original
dtype) and writes ``OUT`` as a run directory that ``seqlab.load`` reads: the first run's
``config.yaml``, tokenizers and vocabularies, and the averaged ``model.safetensors``, then its
``manifest.json``. The inputs are checked against their manifests first unless ``verify`` is False.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import yaml

from seqlab.errors import CheckpointError, ConfigError
from seqlab.rundir.manifest import verify_run, write_manifest
from seqlab.rundir.names import (
    BEST,
    CONFIG_FILE,
    LAST,
    MANIFEST_FILE,
    METRICS_FILE,
    MODEL_FILE,
    TENSORBOARD_DIR,
    TRAIN_LOG,
)
from seqlab.rundir.safetensors_io import read_metadata, read_tensors, write_tensors

WEIGHTS = MODEL_FILE
CONFIG = CONFIG_FILE
# what a run directory holds besides its pipeline files: never copied into the averaged run
_RUN_STATE = {LAST, BEST, METRICS_FILE, TENSORBOARD_DIR, WEIGHTS, TRAIN_LOG, MANIFEST_FILE}


def locate(path: str | Path) -> tuple[Path, Path]:
    """``(weights file, run directory)`` of a run directory or a checkpoint folder inside one."""
    path = Path(path)
    if (path / CONFIG).is_file():
        weights = path / WEIGHTS
        if not weights.is_file():
            weights = path / LAST / WEIGHTS
        if not weights.is_file():
            raise CheckpointError(f"{path}: a run directory without {WEIGHTS} (has it trained yet?)")
        return weights, path
    if (path / WEIGHTS).is_file() and (path.resolve().parent / CONFIG).is_file():
        return path / WEIGHTS, path.resolve().parent
    raise CheckpointError(
        f"{path}: neither a run directory (with {CONFIG}) nor a checkpoint folder inside one "
        f"(with {WEIGHTS}, e.g. RUN/last)"
    )


def _config(run_dir: Path) -> dict:
    return yaml.safe_load((run_dir / CONFIG).read_text(encoding="utf-8"))


def _config_differences(first: dict, other: dict, prefix: str = "") -> list[str]:
    diffs = []
    for key in sorted(set(first) | set(other)):
        a, b = first.get(key), other.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            diffs.extend(_config_differences(a, b, f"{prefix}{key}."))
        elif a != b and not (prefix == "training." or key in ("train", "valid")):
            diffs.append(f"{prefix}{key}: {a!r} vs {b!r}")
    return diffs


def average_checkpoints(paths: Sequence[str | Path], output: str | Path, verify: bool = True) -> Path:
    """Average the weights of ``paths`` into the new run directory ``output`` (see the module doc).

    Raises ConfigError when the runs' model, data or decoding settings differ (training settings
    may differ), CheckpointError when the tensors do not match or ``output`` is not empty.
    """
    if len(paths) < 2:
        raise ConfigError(f"average: give at least two runs or checkpoints (got {len(paths)})")
    output = Path(output)
    if output.exists() and any(output.iterdir()):
        raise CheckpointError(f"{output}: exists and is not empty; choose a new output directory")
    located = [locate(p) for p in paths]
    if verify:
        for weights, run_dir in located:
            verify_run(run_dir, weights)
    first_run = located[0][1]
    first_config = _config(first_run)
    for _, run_dir in located[1:]:
        diffs = _config_differences(first_config, _config(run_dir))
        if diffs:
            raise ConfigError(
                f"cannot average {run_dir} with {first_run}: their configurations differ:\n  - "
                + "\n  - ".join(diffs)
            )
    first_weights = located[0][0]
    first = read_tensors(first_weights)
    sums = {name: t.double() for name, t in first.items()}
    for weights, _ in located[1:]:
        tensors = read_tensors(weights)
        if set(tensors) != set(sums):
            missing = sorted(set(sums) ^ set(tensors))
            raise CheckpointError(f"{weights}: holds other tensors than {first_weights} (e.g. {missing[:3]})")
        for name, tensor in tensors.items():
            if tensor.shape != sums[name].shape:
                raise CheckpointError(
                    f"{weights}: {name} has shape {tuple(tensor.shape)}, {first_weights} has "
                    f"{tuple(sums[name].shape)}"
                )
            sums[name] += tensor.double()
    # floating tensors are averaged; any integer tensor (a counter) is kept from the first
    averaged = {
        name: (total / len(located)).to(first[name].dtype) if first[name].is_floating_point() else first[name]
        for name, total in sums.items()
    }
    copied = _copy_pipeline(first_run, output)
    write_tensors(output / WEIGHTS, averaged, metadata=read_metadata(first_weights))
    write_manifest(output, [*copied, WEIGHTS])
    return output


def _copy_pipeline(run_dir: Path, output: Path) -> list[str]:
    """Copy the run's config, tokenizers, vocabularies and labels (not its checkpoints or logs);
    returns the names copied."""
    output.mkdir(parents=True, exist_ok=True)
    copied = []
    for item in run_dir.iterdir():
        if item.name in _RUN_STATE or item.name.startswith(("ckpt-", ".tmp-")) or item.suffix == ".png":
            continue
        if item.is_dir() and not item.is_symlink():
            shutil.copytree(item, output / item.name)
        elif item.is_file():
            shutil.copy2(item, output / item.name)
        else:
            continue
        copied.append(item.name)
    return copied
