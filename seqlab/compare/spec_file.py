"""Reading a comparison spec: YAML -> :class:`~seqlab.compare.spec.CompareSpec`, validated at load.

Like :func:`seqlab.config.load_config` (whose section builder it reuses): unknown keys fail with the
valid ones and a did-you-mean, bad values with the key, value and choices, and every contender's
config is built and validated too, so one ConfigError lists every problem before any work starts.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import yaml

from seqlab.compare.spec import (
    BUDGET_KEYS,
    DEFAULT_CONTENDERS,
    FAMILY_SECTIONS,
    METRICS,
    CompareSpec,
    ContenderSpec,
    contender_config,
)
from seqlab.config import build_dataclass, config_to_dict, did_you_mean
from seqlab.errors import ConfigError

_LIST_FIELDS = {"extra_metrics", "contenders"}
_RAW_SECTIONS = ("data", "model", "training", "seq2seq", "lm")


def _string_list(value: Any, key: str, errors: list[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.append(f"{key} = {value!r}: expected a list of strings")
        return ()
    return tuple(value)


def _int_list(value: Any, key: str, errors: list[str]) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        errors.append(f"{key} = {value!r}: expected a list of integers")
        return ()
    return tuple(value)


def _seeds(value: Any, errors: list[str]) -> tuple[int, ...] | None:
    """``seeds``: null (one run, with ``seed``) or a list of integers (non-empty and unique:
    :meth:`CompareSpec.check`)."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        errors.append(f"seeds = {value!r}: expected a list of integers, e.g. [1, 2, 3], or null (one run)")
        return None
    return tuple(value)


def _contenders(value: Any, errors: list[str]) -> tuple[ContenderSpec, ...]:
    if not isinstance(value, list) or not value:
        errors.append(f"contenders = {value!r}: expected a non-empty list of contenders")
        return ()
    result = []
    for index, raw in enumerate(value):
        key = f"contenders[{index}]"
        if not isinstance(raw, dict):
            errors.append(f"{key} = {raw!r}: expected a mapping with name, kind, ...")
            continue
        raw = dict(raw)
        overrides = _string_list(raw.pop("set"), f"{key}.set", errors) if "set" in raw else ()
        for required in ("name", "kind"):
            if required not in raw:
                errors.append(f"{key}.{required}: required")
        if "name" not in raw or "kind" not in raw:
            continue
        built = build_dataclass(ContenderSpec, raw, f"{key}.", errors)
        if built is not None:
            result.append(dataclasses.replace(built, set=overrides))
    names = [c.name for c in result]
    for name in sorted({n for n in names if names.count(n) > 1}):
        errors.append(f"contenders: the name {name!r} is used more than once")
    return tuple(result)


def _check_raw_sections(raw: dict[str, Any], errors: list[str]) -> None:
    for name in _RAW_SECTIONS:
        if name in raw and not isinstance(raw[name], dict):
            errors.append(f"{name} = {raw[name]!r}: expected a section (mapping)")
    for key, remedy in BUDGET_KEYS.items():
        for section in ("training", "seq2seq.training", "lm.training"):
            node = raw
            for part in section.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, dict) and key in node:
                errors.append(f"{section}.{key}: the spec sets it for every contender; use {remedy}")
    for family in ("seq2seq", "lm"):
        section = raw.get(family) or {}
        if not isinstance(section, dict):
            continue
        for key in section:
            if key not in FAMILY_SECTIONS:
                errors.append(
                    f"{family}.{key}: unknown key{did_you_mean(key, FAMILY_SECTIONS)}; "
                    f"valid keys in {family}: {', '.join(FAMILY_SECTIONS)}"
                )


def spec_from_dict(raw: dict[str, Any], source: str = "<spec>") -> CompareSpec:
    """Validate plain data into a :class:`CompareSpec`, then build and validate every contender's
    config; one ConfigError lists every problem."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a YAML mapping at the top level, got {type(raw).__name__}")
    errors: list[str] = []
    if "data" not in raw:
        errors.append("data: required (a seq2seq data section: a catalogue dataset or files)")
    _check_raw_sections(raw, errors)
    scalar = {k: v for k, v in raw.items() if k not in _LIST_FIELDS and k not in _RAW_SECTIONS}
    evaluation = dict(scalar.get("evaluation") or {}) if isinstance(scalar.get("evaluation"), dict) else None
    buckets: tuple[int, ...] = ()
    if evaluation is not None and "length_buckets" in evaluation:
        buckets = _int_list(evaluation.pop("length_buckets"), "evaluation.length_buckets", errors)
        scalar["evaluation"] = evaluation
    seeds = _seeds(scalar.pop("seeds", None), errors)
    spec = build_dataclass(CompareSpec, scalar, "", errors)
    extra = _string_list(raw["extra_metrics"], "extra_metrics", errors) if "extra_metrics" in raw else ()
    contenders = _contenders(raw["contenders"], errors) if "contenders" in raw else DEFAULT_CONTENDERS
    if spec is not None:
        sections = {name: copy.deepcopy(raw.get(name) or {}) for name in _RAW_SECTIONS}
        spec = dataclasses.replace(
            spec,
            **sections,
            extra_metrics=extra,
            contenders=contenders,
            evaluation=dataclasses.replace(spec.evaluation, length_buckets=buckets),
            seeds=seeds,
        )
        for message in spec.evaluation.check():
            if message.startswith("length_buckets"):
                errors.append("evaluation." + message)
        errors.extend(message for message in spec.check() if message.startswith("seeds "))
        errors.extend(_check_spec(spec))
    if errors:
        lines = "\n".join(f"  - {e}" for e in errors)
        raise ConfigError(f"{source}: {len(errors)} problem(s) in the comparison spec:\n{lines}")
    assert spec is not None
    return spec


def _check_spec(spec: CompareSpec) -> list[str]:
    """The extra metrics (set after ``check`` ran) and every contender's config."""
    errors = [
        f"extra_metrics: {name!r} must be one of {', '.join(METRICS)}{did_you_mean(name, METRICS)}"
        for name in spec.extra_metrics
        if name not in METRICS
    ]
    if errors:
        return errors
    for contender in spec.contenders:
        try:
            contender_config(spec, contender, Path("REPORT_DIR") / "contenders" / contender.name)
        except ConfigError as exc:
            errors.append(str(exc).replace("\n", "\n    "))
    return errors


def load_spec(path: str | Path) -> CompareSpec:
    """Read and validate a comparison spec (YAML); ConfigError naming the file and every problem."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such comparison spec")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 at byte {exc.start}") from None
    return spec_from_dict(raw, str(path))


def spec_to_dict(spec: CompareSpec) -> dict[str, Any]:
    """Plain data; ``spec_from_dict`` reads it back equal (saved as REPORT_DIR/spec.yaml)."""
    return config_to_dict(spec)
