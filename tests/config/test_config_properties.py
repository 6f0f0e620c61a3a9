"""Property tests of the config loader (issue 14, requirement 3): any mapping of known keys with
any values — right or wrong types, NaN, huge numbers, nested lists — gives a valid config or one
ConfigError listing the problems, never another exception."""

from __future__ import annotations

import dataclasses
import math
import tempfile
import typing
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from seqlab.config import ExperimentConfig, config_from_dict, load_config, save_config
from seqlab.errors import ConfigError

EXAMPLES = 80
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_FOLDER = Path(tempfile.mkdtemp(prefix="seqlab-config-properties-"))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(),  # NaN and infinities too
    st.text(max_size=12),
    st.sampled_from(["1e-3", "1E5", "-2e-2", ".5", "nan", ".inf", "0x10", "1_000", "yes", "~", "", "ppl"]),
)
anything = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def _value_for(tp: Any) -> st.SearchStrategy:
    """Values a field of annotation ``tp`` might get: valid ones half the time, anything else too."""
    args = [a for a in get_args(tp) if a is not type(None)]
    if get_origin(tp) in (typing.Union, __import__("types").UnionType) and len(args) == 1:
        return st.one_of(st.none(), _value_for(args[0]))
    if dataclasses.is_dataclass(tp):
        return st.one_of(_section(tp), anything)
    if get_origin(tp) is Literal:
        return st.one_of(st.sampled_from(get_args(tp)), anything)
    valid = {
        int: st.integers(min_value=-3, max_value=300),
        float: st.floats(min_value=-1, max_value=10) | st.sampled_from(["1e-3", "5e-1"]),
        bool: st.booleans(),
        str: st.text(max_size=8),
    }.get(tp, anything)
    return st.one_of(valid, anything)


def _section(cls: type) -> st.SearchStrategy:
    hints = typing.get_type_hints(cls)
    fields = {f.name: _value_for(hints[f.name]) for f in dataclasses.fields(cls)}
    return st.fixed_dictionaries({}, optional=fields)


configs = st.builds(
    lambda raw, extra: {**raw, **extra},
    _section(ExperimentConfig),
    st.dictionaries(st.sampled_from(["tokenizer", "lr", "optimiser"]), anything, max_size=1),
)


def _problem_lines(error: ConfigError) -> list[str]:
    return [line for line in str(error).splitlines()[1:] if line.startswith("  - ")]


@SETTINGS
@given(configs)
def test_any_mapping_of_known_keys_is_a_valid_config_or_one_config_error(raw):
    try:
        cfg = config_from_dict(raw, "recipe.yaml")
    except ConfigError as error:
        event("ConfigError")
        head = str(error).splitlines()[0]
        assert head.startswith("recipe.yaml: ") and "problem(s)" in head
        count = int(head.split(": ")[1].split()[0])
        assert count == len(_problem_lines(error)) >= 1
        return
    event("valid config")
    assert isinstance(cfg, ExperimentConfig)
    for section in (cfg.data, cfg.model, cfg.training, cfg.training.optimizer, cfg.decoding):
        for f in dataclasses.fields(section):
            value = getattr(section, f.name)
            assert not isinstance(value, float) or math.isfinite(value), (f.name, value)
    path = _FOLDER / "saved.yaml"
    save_config(cfg, path)
    assert load_config(path) == cfg


@SETTINGS
@given(configs)
def test_any_yaml_text_of_known_keys_loads_or_is_one_config_error(raw):
    """Through the YAML file: what PyYAML reads back (strings such as 1e-3 included)."""
    path = _FOLDER / "recipe.yaml"
    try:
        path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    except (ValueError, yaml.YAMLError):
        return  # not representable as YAML (e.g. a surrogate character)
    try:
        load_config(path)
    except ConfigError as error:
        assert str(path) in str(error).splitlines()[0]


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["data.train", "training.optimizer.lr", "model", "x.y.z", "data"]),
            st.text(max_size=10),
        ),
        max_size=4,
    )
)
def test_any_set_overrides_give_a_config_or_one_config_error(overrides):
    try:
        load_config(None, [f"{key}={value}" for key, value in overrides])
    except ConfigError as error:
        assert str(error).startswith("<defaults>: ")
