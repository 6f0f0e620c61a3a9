"""Reading a recipe: YAML file, ``--set section.key=value`` overrides, one ConfigError listing every
problem; and writing a config back as YAML (a run directory's ``config.yaml``)."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import yaml

from seqlab.config.build import build, config_to_dict, problems
from seqlab.config.tasks import ExperimentConfig
from seqlab.errors import ConfigError
from seqlab.rundir.files import atomic_write_bytes


def config_from_dict(raw: dict[str, Any], source: str = "<config>") -> ExperimentConfig:
    """Validate plain data into an :class:`ExperimentConfig`; raise one ConfigError listing all problems."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a YAML mapping at the top level, got {type(raw).__name__}")
    errors: list[str] = []
    cfg = build(ExperimentConfig, raw, "", errors, set())
    if errors:
        raise problems(source, errors)
    return cfg


def apply_override(raw: dict[str, Any], override: str, errors: list[str]) -> None:
    if "=" not in override:
        errors.append(f"--set {override!r}: expected section.key=value, e.g. training.optimizer.lr=0.01")
        return
    dotted, text = override.split("=", 1)
    try:
        value = yaml.safe_load(text) if text.strip() else ""
    except yaml.YAMLError:
        value = text
    parts = dotted.strip().split(".")
    node = raw
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            errors.append(f"--set {override!r}: {part} is not a section")
            return
        node = child
    node[parts[-1]] = value


def load_config(path: str | Path | None, overrides: typing.Sequence[str] = ()) -> ExperimentConfig:
    """Read a YAML recipe (or start from defaults when ``path`` is None) and apply overrides.

    Raises ConfigError naming the file and listing every problem at once.
    """
    raw: dict[str, Any] = {}
    source = "<defaults>"
    if path is not None:
        path = Path(path)
        source = str(path)
        if not path.is_file():
            raise ConfigError(f"{path}: no such config file")
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not UTF-8 at byte {exc.start}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: expected a mapping at the top level, got {type(raw).__name__}")
    errors: list[str] = []
    for override in overrides:
        apply_override(raw, override, errors)
    cfg = build(ExperimentConfig, raw, "", errors, set())  # the file's problems beside the overrides'
    if errors:
        raise problems(source, errors)
    return cfg


def save_config(cfg: ExperimentConfig, path: str | Path) -> None:
    """Write ``cfg`` as YAML (every field, defaults included) so a run directory describes itself;
    atomically (a kill mid-write leaves the old file whole)."""
    atomic_write_bytes(path, yaml.safe_dump(config_to_dict(cfg), sort_keys=False).encode("utf-8"))
