"""Fixtures of the serving tests: tiny trained runs (once per session) and a shared server."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tiny_runs  # noqa: E402
from serve_helpers import FAMILIES, Running, running, specs_for  # noqa: E402


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.getbasetemp() / "tiny_runs"
    return {name: tiny_runs.train_tiny(name, base) for name in FAMILIES}


@pytest.fixture(scope="session")
def seq2seq_run(tmp_path_factory) -> Path:
    """A tiny seq2seq run (needs configs/tiny_seq2seq.yaml and the seq2seq predictor)."""
    if not tiny_runs.recipe_exists("seq2seq"):
        pytest.fail("configs/tiny_seq2seq.yaml is missing: the seq2seq serving tests need it")
    return tiny_runs.train_tiny("seq2seq", tmp_path_factory.getbasetemp() / "tiny_runs")


@pytest.fixture(scope="session")
def copy_server(tmp_path_factory) -> Iterator[Running]:
    """The tiny copy-attention model (configs/tiny_copy.yaml) under the name ``copy``."""
    run = tiny_runs.train_tiny("copy", tmp_path_factory.getbasetemp() / "tiny_runs")
    with running(specs_for({"copy": run})) as srv:
        yield srv


@pytest.fixture(scope="session")
def server(runs) -> Iterator[Running]:
    """The three tiny models with the default settings (no token)."""
    with running(specs_for(runs)) as srv:
        yield srv


@pytest.fixture(scope="session")
def s2s_server(seq2seq_run) -> Iterator[Running]:
    """The tiny seq2seq model (learning to reverse letters) under the name ``s2s``."""
    with running(specs_for({"s2s": seq2seq_run})) as srv:
        yield srv
