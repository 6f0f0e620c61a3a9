"""The Trainer: exact resume, run-dir safety, non-finite policy, early stopping, logs, best weights."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from training_toys import ToyLoader, ToyModel, ToyValid, toy_config

from seqlab.config import OptimizerConfig, ScheduleConfig
from seqlab.errors import CheckpointError, TrainingError
from seqlab.rundir.safetensors_io import load_model_weights
from seqlab.training.checkpoint import load_checkpoint
from seqlab.training.trainer import Trainer


def _trainer(
    run_dir: Path, loader: ToyLoader | None = None, total_steps: int | None = None, **cfg
) -> Trainer:
    torch.manual_seed(123)  # the model's initial weights
    loader = loader or ToyLoader()
    return Trainer(ToyModel(), toy_config(**cfg), loader, ToyValid(), run_dir, total_steps=total_steps)


RESUME_CASES = {
    # name: (config, steps of the first leg)
    "adam-cosine-mid-epoch": (
        dict(
            validate_every=4,
            schedule=ScheduleConfig(name="cosine", warmup_steps=3),
            optimizer=OptimizerConfig(name="adam", lr=0.05),
        ),
        5,
    ),
    "sgd-plateau-epoch-boundary": (
        dict(
            schedule=ScheduleConfig(name="plateau", patience=0, factor=0.5),
            optimizer=OptimizerConfig(name="sgd", lr=0.5, momentum=0.9),
            save_every=2,
        ),
        6,
    ),
    "asgd-step-early-stopping": (
        dict(
            validate_every=2,
            metric="constant",
            early_stopping_patience=4,
            schedule=ScheduleConfig(name="step", step_size=2),
            optimizer=OptimizerConfig(name="asgd", lr=0.3),
        ),
        3,
    ),
    "adam-bf16-autocast": (
        dict(amp="bf16", validate_every=3, optimizer=OptimizerConfig(name="adam", lr=0.05)),
        4,
    ),
}


@pytest.mark.parametrize("case", sorted(RESUME_CASES))
def test_resume_equals_uninterrupted(tmp_path: Path, case: str) -> None:
    cfg, first_leg = RESUME_CASES[case]
    total = 14  # the planned steps (cosine's horizon) stay the same in both legs
    full = _trainer(tmp_path / "full", max_steps=total, max_epochs=3, total_steps=total, **cfg)
    full_result = full.fit()

    part = _trainer(tmp_path / "part", max_steps=first_leg, max_epochs=3, total_steps=total, **cfg)
    assert part.fit()["step"] == first_leg
    resumed = _trainer(tmp_path / "part", max_steps=total, max_epochs=3, total_steps=total, **cfg)
    result = resumed.fit(resume=True)

    assert result["step"] == full_result["step"] and result["stop_reason"] == full_result["stop_reason"]
    for (name, a), b in zip(full.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
    assert torch.equal(full.model.carry, resumed.model.carry)
    assert full.schedule.lr == resumed.schedule.lr
    # the metrics log of the resumed run holds each step once
    steps = [
        json.loads(line)["step"]
        for line in (tmp_path / "part" / "metrics.jsonl").read_text().splitlines()
        if json.loads(line)["split"] == "train"
    ]
    assert steps == sorted(set(steps))


def test_resume_needs_a_checkpoint_and_fresh_run_refuses_one(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="drop --resume"):
        _trainer(tmp_path, max_steps=1).fit(resume=True)
    _trainer(tmp_path, max_steps=1).fit()
    with pytest.raises(CheckpointError, match="--resume.*--run-dir"):
        _trainer(tmp_path, max_steps=2).fit()


def test_resuming_a_finished_run_does_nothing(tmp_path: Path) -> None:
    _trainer(tmp_path, max_steps=3).fit()
    lines = (tmp_path / "metrics.jsonl").read_text()
    result = _trainer(tmp_path, max_steps=3).fit(resume=True)
    assert result["step"] == 3 and result["stop_reason"] == "max_steps"
    assert (tmp_path / "metrics.jsonl").read_text() == lines


def test_non_finite_loss_is_skipped_and_counted(tmp_path: Path) -> None:
    trainer = _trainer(tmp_path, ToyLoader(poison=frozenset({2})), max_epochs=1, log_every=6)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    result = trainer.fit()
    assert result["skipped_steps"] == 1 and result["step"] == 6
    assert all(torch.isfinite(v).all() for v in trainer.model.state_dict().values())
    assert any(not torch.equal(before[k], v) for k, v in trainer.model.state_dict().items())
    train = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["skipped_steps"] for r in train if r["split"] == "train"] == [1]
    assert trainer.schedule.num_updates == 5


def test_too_many_bad_steps_abort(tmp_path: Path) -> None:
    trainer = _trainer(tmp_path, ToyLoader(poison=frozenset(range(6))), max_bad_steps=3)
    with pytest.raises(TrainingError, match="non-finite loss at step 3: 3 bad steps in a row"):
        trainer.fit()


def test_non_finite_weights_are_never_saved(tmp_path: Path) -> None:
    trainer = _trainer(tmp_path, max_steps=2, validate_every=1)
    trainer._start(resume=False)
    with torch.no_grad():
        trainer.model.hidden.weight[0, 0] = float("inf")
    with pytest.raises(TrainingError, match="non-finite weights"):
        trainer.save()
    assert not (tmp_path / "last").exists()


def test_early_stopping_after_patience(tmp_path: Path) -> None:
    trainer = _trainer(tmp_path, validate_every=1, metric="constant", early_stopping_patience=2, max_epochs=5)
    result = trainer.fit()
    assert result["stop_reason"] == "early_stopping"
    assert result["step"] == 3  # best at 1, no improvement at 2 and 3
    assert load_checkpoint(tmp_path / "last").state["early_stopping"]["stopped"] is True
    again = _trainer(tmp_path, validate_every=1, metric="constant", early_stopping_patience=2, max_epochs=5)
    assert again.fit(resume=True)["step"] == 3


def test_metrics_log_and_best_weights(tmp_path: Path) -> None:
    trainer = _trainer(tmp_path, max_epochs=2, log_every=2)
    result = trainer.fit()
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in records if r["split"] == "train"]
    valid = [r for r in records if r["split"] == "valid"]
    assert [r["step"] for r in train] == [2, 4, 6, 8, 10, 12]
    assert [r["step"] for r in valid] == [6, 12]  # once per epoch
    for record in records:
        assert {"split", "step", "epoch", "loss", "lr", "tokens_per_s", "elapsed_s"} <= set(record)
    assert {"ppl"} <= set(valid[0])
    assert result["stop_reason"] == "max_epochs" and result["epoch"] == 2
    best = load_checkpoint(tmp_path / "best")
    assert best.state["step"] == result["best"]["step"]
    fresh = ToyModel()
    load_model_weights(tmp_path / "model.safetensors", fresh)
    assert fresh.out.weight is fresh.embed.weight
    assert (tmp_path / "last").is_symlink()


def test_final_validation_when_stopping_mid_epoch(tmp_path: Path) -> None:
    result = _trainer(tmp_path, max_steps=2).fit()
    assert result["stop_reason"] == "max_steps"
    assert result["valid"] and (tmp_path / "model.safetensors").exists()


def test_max_minutes_budget(tmp_path: Path) -> None:
    result = _trainer(tmp_path, max_minutes=1e-9).fit()
    assert result["stop_reason"] == "max_minutes" and result["step"] == 1


def test_target_token_budget_stops_and_survives_resume(tmp_path: Path) -> None:
    per_step = next(iter(ToyLoader())).num_tokens
    result = _trainer(tmp_path / "a", max_target_tokens=3 * per_step).fit()
    assert result["stop_reason"] == "max_target_tokens"
    assert result["step"] == 3 and result["target_tokens"] == 3 * per_step
    # stopped by steps, then resumed with a token budget: the count carried over
    _trainer(tmp_path / "b", max_steps=2).fit()
    resumed = _trainer(tmp_path / "b", max_steps=10, max_target_tokens=5 * per_step).fit(resume=True)
    assert resumed["stop_reason"] == "max_target_tokens" and resumed["step"] == 5


def test_fp16_on_cpu_warns_and_trains_fp32(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="needs CUDA"):
        trainer = _trainer(tmp_path, amp="fp16", max_steps=1)
    assert trainer.amp_dtype is None
    trainer.fit()
    assert trainer.model.hidden.weight.dtype == torch.float32


def test_bf16_on_cpu_trains_under_autocast_with_float32_weights(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("seqlab.training.device.cpu_has_native_bf16", lambda: True)
    trainer = _trainer(tmp_path, amp="bf16", max_steps=3)
    seen: list[torch.dtype] = []
    trainer.model.hidden.register_forward_hook(lambda module, args, out: seen.append(out.dtype))
    result = trainer.fit()
    assert result["step"] == 3
    assert seen and set(seen) == {torch.bfloat16}  # the training steps' and validation's products
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())
    assert all(s["exp_avg"].dtype == torch.float32 for s in trainer.optimizer.state.values())


def test_bf16_on_a_cpu_without_native_bf16_warns_and_runs_as_asked(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("seqlab.training.device.cpu_has_native_bf16", lambda: False)
    with pytest.warns(UserWarning, match="emulated"):
        trainer = _trainer(tmp_path, amp="bf16", max_steps=1)
    assert trainer.amp_dtype == torch.bfloat16


@pytest.mark.parametrize(("native", "expected"), [(True, torch.bfloat16), (False, None)])
def test_auto_amp_is_bf16_only_where_the_cpu_computes_it(
    tmp_path, monkeypatch, caplog, native, expected
) -> None:
    monkeypatch.setattr("seqlab.training.device.cpu_has_native_bf16", lambda: native)
    with caplog.at_level("INFO", logger="seqlab"):
        trainer = _trainer(tmp_path, amp="auto", max_steps=1)  # no warning either way
    assert trainer.amp_dtype == expected
    word = "bfloat16 autocast" if native else "float32"
    assert f"precision: {word} (training.amp: auto, cpu)" in caplog.text


def test_unknown_metric_is_explained(tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match="choose one of .*ppl"):
        _trainer(tmp_path, max_steps=1, metric="bleu").fit()
