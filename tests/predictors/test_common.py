"""Loading a run's weights: model.safetensors (the best), else last/ with a warning naming it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from torch import nn

from seqlab.errors import CheckpointError
from seqlab.predictors.common import load_weights
from seqlab.rundir.safetensors_io import save_model_weights


def test_best_weights_load_without_a_word(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    save_model_weights(tmp_path / "model.safetensors", nn.Linear(2, 2))
    with caplog.at_level(logging.WARNING):
        load_weights(tmp_path, nn.Linear(2, 2))
    assert not caplog.records


def test_falling_back_to_last_says_which_weights_it_loads(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "last").mkdir()
    saved = nn.Linear(2, 2)
    save_model_weights(tmp_path / "last" / "model.safetensors", saved)
    model = nn.Linear(2, 2)
    with caplog.at_level(logging.WARNING):
        load_weights(tmp_path, model)
    assert model.weight.equal(saved.weight)
    [record] = caplog.records
    assert (
        "no model.safetensors" in record.message
        and str(tmp_path / "last" / "model.safetensors") in record.message
    )


def test_a_run_without_weights_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no model.safetensors"):
        load_weights(tmp_path, nn.Linear(2, 2))
