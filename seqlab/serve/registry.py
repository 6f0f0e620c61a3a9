"""The models a server holds: named on the command line, loaded once at start, never from a request.

``seqlab serve DIR [NAME=DIR ...]``: a model is named after its folder unless ``NAME=`` says
otherwise. Only local run directories given at start are loaded (a URL or a missing folder is
refused before the server binds); requests name models, never paths.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seqlab.errors import ConfigError
from seqlab.rundir.names import CONFIG_FILE

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ENDPOINTS = {
    "language_model": ("generate", "next", "chat", "encode"),
    "classifier": ("classify", "encode"),
    "tagger": ("tag", "encode"),
    "seq2seq": ("translate", "chat", "encode"),
}

Loader = Callable[[Path], Any]


@dataclass(frozen=True)
class ModelSpec:
    """A model to serve: its public ``name`` and its run directory."""

    name: str
    path: Path


def parse_model_specs(args: Sequence[str]) -> list[ModelSpec]:
    """``["runs/en-de", "lm=runs/ptb"]`` -> specs; ConfigError naming every bad one."""
    specs, errors = [], []
    for arg in args:
        name, sep, path = arg.partition("=")
        if not sep:
            name, path = Path(arg.rstrip("/")).name, arg
        if "://" in path:
            errors.append(f"{arg}: models load from local run directories only, not URLs")
            continue
        if not NAME_PATTERN.match(name):
            errors.append(
                f"{arg}: model name {name!r} must be 1-64 letters, digits, '_', '.' or '-' "
                "(rename it with NAME=DIR)"
            )
            continue
        run_dir = Path(path)
        if not (run_dir / CONFIG_FILE).is_file():
            errors.append(f"{arg}: {run_dir} is not a seqlab run directory (no {CONFIG_FILE})")
            continue
        specs.append(ModelSpec(name, run_dir.resolve()))
    seen: dict[str, ModelSpec] = {}
    for spec in specs:
        if spec.name in seen:
            errors.append(f"two models are named {spec.name!r}: give one a name with NAME=DIR")
        seen[spec.name] = spec
    if not args:
        errors.append("give at least one run directory to serve")
    if errors:
        raise ConfigError("cannot serve:\n  " + "\n  ".join(errors))
    return specs


def family_of(predictor: Any) -> str:
    """language_model, classifier, tagger or seq2seq."""
    family = getattr(predictor, "family", None) or predictor.config.task
    if family not in ENDPOINTS:
        raise ConfigError(f"task {family!r} cannot be served (served: {', '.join(ENDPOINTS)})")
    return family


def public_config(config: Any) -> dict[str, Any]:
    """The run's config as a dict, without file paths (they describe the server's disk, not the model)."""
    from seqlab.config import config_to_dict

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if not (isinstance(v, str) and os.path.isabs(v))}
        return value

    return strip(config_to_dict(config))


@dataclass
class ModelEntry:
    """One served model and its state: loading, ready (loaded and warmed up) or failed."""

    spec: ModelSpec
    predictor: Any = None
    family: str | None = None
    ready: bool = False
    error: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """``loading``, ``ready`` or ``failed`` (a failed model stays failed: nothing reloads it)."""
        return "failed" if self.error else "ready" if self.ready else "loading"

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.spec.name, "family": self.family, "ready": self.ready}
        if self.error:
            out["error"] = self.error
        if self.predictor is not None and self.family is not None:
            out["endpoints"] = list(ENDPOINTS[self.family])
            out["config"] = public_config(self.predictor.config)
            labels = getattr(self.predictor, "labels", None)
            if self.family in ("classifier", "tagger") and labels is not None:
                out["labels"] = list(labels)
            if self.family == "classifier":
                out["explain"] = getattr(self.predictor.model, "attention", None) is not None
        return out


class Registry:
    """The models by name; each loads on its own, so one failure leaves the others serving."""

    def __init__(self, specs: Sequence[ModelSpec], loader: Loader | None = None) -> None:
        self.entries = {spec.name: ModelEntry(spec) for spec in specs}
        self.loader = loader or _default_loader

    def status(self) -> str:
        """``loading`` while any model loads; then ``ready`` (all ready), ``degraded`` (some failed,
        some ready) or ``failed`` (none ready)."""
        statuses = {entry.status for entry in self.entries.values()}
        if "loading" in statuses:
            return "loading"
        if statuses == {"ready"}:
            return "ready"
        return "degraded" if "ready" in statuses else "failed"

    def load(self, entry: ModelEntry) -> None:
        """Load ``entry``'s run directory (in the model thread)."""
        predictor = self.loader(entry.spec.path)
        entry.family = family_of(predictor)
        entry.predictor = predictor


def _default_loader(path: Path) -> Any:
    from seqlab.api import load

    return load(path)
