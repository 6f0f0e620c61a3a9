"""Building frozen dataclasses from plain data (YAML), collecting every problem at once: unknown keys
with a did-you-mean, wrong types and values with the valid choices, each section's own ``check()``.

Generic: :mod:`seqlab.config.loader` builds an :class:`~seqlab.config.tasks.ExperimentConfig` with it,
:mod:`seqlab.compare.spec_file` a comparison spec.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

from seqlab.errors import ConfigError


def did_you_mean(word: str, choices: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _is_optional(tp: Any) -> tuple[bool, Any]:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(get_args(tp)) == 2:
            return True, args[0]
    return False, tp


_INVALID = object()  # what _convert returns for a wrong value (its error is already recorded)
# A float as YAML 1.2 writes it. PyYAML follows YAML 1.1, which needs a dot: ``1e-3`` arrives as a
# string, and learning rates are written that way.
_FLOAT_TEXT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")


def _convert(value: Any, tp: Any, key: str, errors: list[str], failed: set[str]) -> Any:
    """Check ``value`` against the annotation ``tp``: the converted value, or ``_INVALID`` with the
    problem added to ``errors`` (a section comes back built, its wrong fields in ``failed``)."""
    optional, inner = _is_optional(tp)
    if value is None:
        if optional:
            return None
        errors.append(f"{key} = null: a value is required")
        return _INVALID
    tp = inner
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            errors.append(f"{key} = {value!r}: expected a section (mapping) with keys {_field_names(tp)}")
            return _INVALID
        return build(tp, value, key + ".", errors, failed)
    origin = get_origin(tp)
    if origin is Literal:
        choices = get_args(tp)
        if not isinstance(value, str) or value not in choices:
            listed = ", ".join(str(c) for c in choices)
            errors.append(f"{key} = {value!r}: must be one of {listed}{did_you_mean(value, choices)}")
            return _INVALID
        return value
    if origin is tuple:
        args = get_args(tp)
        if not isinstance(value, list | tuple) or len(value) != len(args):
            errors.append(f"{key} = {value!r}: expected a list of {len(args)} values")
            return _INVALID
        items = tuple(
            _convert(v, a, f"{key}[{i}]", errors, failed) for i, (v, a) in enumerate(zip(value, args))
        )
        return _INVALID if any(item is _INVALID for item in items) else items
    if tp is bool:
        if not isinstance(value, bool):
            errors.append(f"{key} = {value!r}: expected true or false")
            return _INVALID
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(f"{key} = {value!r}: expected an integer")
            return _INVALID
        return value
    if tp is float:
        return _convert_float(value, key, errors)
    if tp is str:
        if not isinstance(value, str):
            errors.append(f"{key} = {value!r}: expected a string")
            return _INVALID
        return value
    raise TypeError(f"unsupported config annotation {tp!r} for {key}")  # a bug in this module


def _convert_float(value: Any, key: str, errors: list[str]) -> Any:
    """A finite float from a number, or from a YAML 1.2 float PyYAML left as text (``1e-3``)."""
    if isinstance(value, str) and _FLOAT_TEXT.fullmatch(value.strip()):
        value = float(value)
    number = math.nan
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an integer past the float range
            number = math.inf
    if not math.isfinite(number):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        errors.append(f"{key} = {shown}: expected a finite number")
        return _INVALID
    return number


def _field_names(cls: type) -> str:
    return ", ".join(f.name for f in dataclasses.fields(cls))


def _mentions(message: str, name: str) -> bool:
    """Whether ``message`` names the field ``name`` (dotted, relative) or its last part."""
    return any(
        re.search(rf"(?<![\w.]){re.escape(part)}(?!\w)", message) for part in {name, name.rsplit(".", 1)[-1]}
    )


def build_dataclass(cls: type, raw: dict[str, Any], prefix: str, errors: list[str]) -> Any:
    """``cls`` built from ``raw`` with every problem added to ``errors`` (see :func:`build`);
    None when a value was wrong."""
    failed: set[str] = set()
    obj = build(cls, raw, prefix, errors, failed)
    return None if failed else obj


def build(cls: type, raw: dict[str, Any], prefix: str, errors: list[str], failed: set[str]) -> Any:
    """``cls`` built from ``raw``, every problem added to ``errors``: unknown keys, wrong values
    (their dotted keys go into ``failed`` and their defaults stand in) and the range and
    cross-field rules of ``cls.check()``, except those that name a failed field: judged on a
    default instead of the value given, such a rule would invent a problem. A class whose every
    rule reads some fields lists them in ``CHECK_NEEDS``; when one failed, no rule runs."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    for key in raw:
        if key not in names:
            errors.append(
                f"{prefix}{key}: unknown key{did_you_mean(key, names)}; valid keys in "
                f"{prefix.rstrip('.') or 'the top level'}: {', '.join(names)}"
            )
    kwargs: dict[str, Any] = {}
    for name in names:
        if name in raw:
            value = _convert(raw[name], hints[name], prefix + name, errors, failed)
            if value is _INVALID:
                failed.add(prefix + name)
            else:
                kwargs[name] = value
        elif dataclasses.is_dataclass(hints[name]):  # an absent section: its defaults, checked too
            kwargs[name] = build(hints[name], {}, prefix + name + ".", errors, failed)
    obj = cls(**kwargs)
    wrong = [key[len(prefix) :] for key in failed if key.startswith(prefix)]
    if any(name in wrong for name in getattr(cls, "CHECK_NEEDS", ())):
        return obj
    for message in obj.check():
        if not any(_mentions(message, name) for name in wrong):
            errors.append(prefix + message)
    return obj


def problems(source: str, errors: list[str]) -> ConfigError:
    """One ConfigError listing every problem found in ``source``."""
    lines = "\n".join(f"  - {e}" for e in errors)
    return ConfigError(f"{source}: {len(errors)} problem(s) in the configuration:\n{lines}")


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """Plain data (lists, dicts, scalars) for YAML; ``config_from_dict`` reads it back equal."""

    def plain(value: Any) -> Any:
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return plain(dataclasses.asdict(cfg))
