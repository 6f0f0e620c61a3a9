"""The divergence guard: validation loss far above its start, weights past a bound; exit status 3."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from training_toys import ToyLoader, ToyModel, ToyValid, toy_config

from seqlab.config import OptimizerConfig
from seqlab.errors import TrainingError, TrainingStopped
from seqlab.training.checkpoint import load_checkpoint
from seqlab.training.guard import DivergenceGuard, weight_problem
from seqlab.training.trainer import Trainer

HUGE_LR = OptimizerConfig(name="adam", lr=1e6)


def _trainer(run_dir: Path, **cfg) -> Trainer:
    torch.manual_seed(123)
    return Trainer(ToyModel(), toy_config(**cfg), ToyLoader(), ToyValid(), run_dir)


def test_guard_counts_validations_in_a_row_above_factor_times_the_start():
    guard = DivergenceGuard(patience=2, factor=2.0, start_loss=1.5)
    assert guard.threshold == 3.0
    assert not guard.update(2.9) and guard.above == 0
    assert not guard.update(3.1) and guard.above == 1
    assert not guard.update(1.0) and guard.above == 0  # a validation below resets the count
    assert not guard.update(float("nan")) and guard.above == 1  # non-finite counts as above
    assert guard.update(4.0) and guard.above == 2
    again = DivergenceGuard(patience=2, factor=2.0)
    again.load_state_dict(guard.state_dict())
    assert again == guard


def test_guard_is_off_without_patience_or_start():
    assert not DivergenceGuard(patience=None, start_loss=1.0).update(1e9)
    assert not DivergenceGuard(patience=1, start_loss=None).update(1e9)


def test_weight_problem_names_the_tensor_and_the_figures():
    model = ToyModel()
    assert weight_problem(model, 1e3) is None
    with torch.no_grad():
        model.hidden.weight[1, 2] = -5e3
    problem = weight_problem(model, 1e3)
    assert problem is not None and "hidden.weight" in problem and "5e+03" in problem
    assert weight_problem(model, None) is None
    with torch.no_grad():
        model.hidden.bias[0] = float("nan")
    assert "non-finite" in weight_problem(model, None)


def test_a_huge_learning_rate_stops_with_exit_status_3_and_saves_nothing(tmp_path: Path) -> None:
    with pytest.raises(TrainingStopped) as info:
        _trainer(tmp_path, optimizer=HUGE_LR, validate_every=2).fit()
    message = str(info.value)
    assert info.value.exit_code == 3 and isinstance(info.value, TrainingError)
    assert "training.max_abs_weight = 1000" in message and "lower training.optimizer.lr" in message
    assert "no checkpoint was saved" in message and "no model.safetensors" in message
    assert not (tmp_path / "last").exists() and not (tmp_path / "model.safetensors").exists()


def test_weights_past_the_bound_keep_the_best_checkpoint(tmp_path: Path) -> None:
    trainer = _trainer(tmp_path, validate_every=1, max_steps=10)
    trainer._start(resume=False)
    for batch in trainer.train_data:
        trainer.train_step(batch)
        break
    trainer._validate_and_track(scheduled=True)
    trainer.save()
    best = load_file(tmp_path / "best" / "model.safetensors")
    with torch.no_grad():
        trainer.model.hidden.weight[0, 0] = 1e5
    with pytest.raises(TrainingStopped) as info:
        trainer._validate_and_track(scheduled=True)
    message = str(info.value)
    assert "at step 1" in message and "hidden.weight" in message
    assert f"best checkpoint (step 1, ppl {trainer.state.best_metric:.4g}) is kept" in message
    assert f"{tmp_path / 'last'} holds step 1" in message
    kept = load_file(tmp_path / "model.safetensors")
    assert all(torch.equal(kept[k], best[k]) for k in best)
    assert float(kept["hidden.weight"].abs().max()) < 1e3


def test_validation_loss_far_above_its_start_stops_after_patience(tmp_path: Path) -> None:
    with pytest.raises(TrainingStopped) as info:
        _trainer(tmp_path, optimizer=HUGE_LR, validate_every=1, max_abs_weight=None).fit()
    message = str(info.value)
    assert "at step 3" in message and "3 validations in a row" in message
    assert "training.divergence_patience" in message and "lower training.optimizer.lr" in message


def test_the_count_of_diverging_validations_survives_resume(tmp_path: Path) -> None:
    cfg = dict(optimizer=HUGE_LR, validate_every=1, max_abs_weight=None, divergence_patience=4)
    with pytest.raises(TrainingStopped, match="at step 4"):
        _trainer(tmp_path / "whole", **cfg).fit()
    _trainer(tmp_path / "legs", max_steps=2, **cfg).fit()
    state = load_checkpoint(tmp_path / "legs" / "last").state["divergence"]
    assert state["above"] == 2 and math.isfinite(state["start_loss"])
    with pytest.raises(TrainingStopped, match="at step 4"):
        _trainer(tmp_path / "legs", **cfg).fit(resume=True)


def test_the_guard_never_fires_on_a_healthy_run(tmp_path: Path) -> None:
    trainer = _trainer(
        tmp_path, validate_every=1, max_epochs=3, optimizer=OptimizerConfig(name="adam", lr=0.05)
    )
    result = trainer.fit()
    assert result["stop_reason"] == "max_epochs" and result["step"] == 18
    state = load_checkpoint(tmp_path / "last").state["divergence"]
    assert state["above"] == 0 and result["valid"]["loss"] < state["start_loss"]


def test_bad_steps_before_any_save_do_not_name_a_missing_checkpoint(tmp_path: Path) -> None:
    trainer = Trainer(
        ToyModel(), toy_config(max_bad_steps=3), ToyLoader(poison=frozenset(range(6))), ToyValid(), tmp_path
    )
    with pytest.raises(TrainingStopped) as info:
        trainer.fit()
    message = str(info.value)
    assert info.value.exit_code == 3 and "non-finite loss at step 3" in message
    assert str(tmp_path / "last") not in message and "no checkpoint was saved" in message
    assert not (tmp_path / "last").exists()
