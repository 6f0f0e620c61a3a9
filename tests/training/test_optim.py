"""Optimizers build and step; schedules follow their curves and resume exactly."""

from __future__ import annotations

import json
import math

import pytest
import torch

from seqlab.config import OptimizerConfig, ScheduleConfig
from seqlab.training.optim import build_optimizer, build_scheduler


def _param() -> torch.nn.Parameter:
    return torch.nn.Parameter(torch.ones(3))


@pytest.mark.parametrize("name", ["adam", "adamw", "sgd", "asgd"])
def test_each_optimizer_builds_and_steps(name: str) -> None:
    param = _param()
    momentum = 0.9 if name == "sgd" else 0.0
    optimizer = build_optimizer([param], OptimizerConfig(name=name, lr=0.1, momentum=momentum))
    (param**2).sum().backward()
    optimizer.step()
    assert torch.all(param < 1.0)
    if name == "asgd":
        group = optimizer.param_groups[0]
        assert group["t0"] == 0 and group["lambd"] == 0
    if name == "sgd":
        assert optimizer.param_groups[0]["momentum"] == 0.9


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_adam_takes_the_fused_kernel_on_cpu_and_matches_the_per_tensor_one(name: str) -> None:
    torch.manual_seed(0)
    start = [torch.randn(4, 3), torch.randn(3)]
    cfg = OptimizerConfig(name=name, lr=0.05, weight_decay=0.01)
    fused_params = [torch.nn.Parameter(t.clone()) for t in start]
    fused = build_optimizer(fused_params, cfg)
    assert fused.param_groups[0]["fused"] is True
    plain_params = [torch.nn.Parameter(t.clone()) for t in start]
    optimizer_class = torch.optim.Adam if name == "adam" else torch.optim.AdamW
    plain = optimizer_class(plain_params, lr=0.05, betas=cfg.betas, weight_decay=0.01)
    for _ in range(5):
        for params, optimizer in ((fused_params, fused), (plain_params, plain)):
            optimizer.zero_grad()
            (params[0].sin().sum() + (params[1] ** 2).sum()).backward()
            optimizer.step()
    for a, b in zip(fused_params, plain_params, strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)
    assert not torch.allclose(fused_params[0], start[0])


def test_fused_kernel_only_for_dense_float_parameters_on_one_supported_device() -> None:
    from seqlab.training.optim import fused_supported

    assert fused_supported([torch.nn.Parameter(torch.ones(2))])
    assert not fused_supported([torch.nn.Parameter(torch.ones(2, dtype=torch.float64), requires_grad=True),
                                torch.nn.Parameter(torch.ones(2, device="meta"))])  # fmt: skip
    assert not fused_supported([torch.nn.Parameter(torch.ones(2, device="meta"))])


def _lrs(cfg: ScheduleConfig, total: int, updates: int, base: float = 1.0) -> list[float]:
    """The learning rate used by updates 1..updates."""
    optimizer = torch.optim.SGD([_param()], lr=base)
    schedule = build_scheduler(optimizer, cfg, total)
    lrs = []
    for _ in range(updates):
        lrs.append(schedule.lr)
        schedule.after_update()
    return lrs


def test_constant_with_linear_warmup() -> None:
    lrs = _lrs(ScheduleConfig(name="constant", warmup_steps=4), total=10, updates=6)
    assert lrs == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0, 1.0])


def test_cosine_warms_up_then_ends_at_min_lr() -> None:
    lrs = _lrs(ScheduleConfig(name="cosine", warmup_steps=2, min_lr=0.1), total=10, updates=12)
    assert lrs[:2] == pytest.approx([0.5, 1.0])
    assert all(a >= b for a, b in zip(lrs[1:], lrs[2:]))  # non-increasing after warmup
    assert lrs[9] == pytest.approx(0.1)  # update 10 == total_steps
    assert lrs[10:] == pytest.approx([0.1, 0.1])
    midpoint = 2 + (10 - 2) // 2
    assert lrs[midpoint - 1] == pytest.approx(0.1 + 0.9 * 0.5)


def test_inverse_sqrt() -> None:
    lrs = _lrs(ScheduleConfig(name="inverse_sqrt", warmup_steps=4), total=100, updates=16)
    assert lrs[3] == pytest.approx(1.0)
    assert lrs[15] == pytest.approx(math.sqrt(4 / 16))
    assert _lrs(ScheduleConfig(name="inverse_sqrt"), total=9, updates=9)[8] == pytest.approx(1 / 3)


def test_step_schedule_multiplies_every_step_size() -> None:
    lrs = _lrs(ScheduleConfig(name="step", step_size=3, factor=0.5), total=100, updates=7)
    assert lrs == pytest.approx([1, 1, 1, 0.5, 0.5, 0.5, 0.25])


def test_plateau_reduces_after_patience_and_floors() -> None:
    optimizer = torch.optim.SGD([_param()], lr=1.0)
    schedule = build_scheduler(
        optimizer, ScheduleConfig(name="plateau", patience=2, factor=0.5, min_lr=0.3), 10
    )
    schedule.after_validation(5.0)  # best
    schedule.after_validation(5.0)  # bad 1
    schedule.after_validation(6.0)  # bad 2
    assert schedule.lr == 1.0
    schedule.after_validation(5.5)  # bad 3 > patience
    assert schedule.lr == 0.5
    schedule.after_validation(4.0)  # improvement resets the count
    for _ in range(3):
        schedule.after_validation(4.0)
    assert schedule.lr == pytest.approx(0.3)  # 0.25 floored at min_lr
    schedule.after_validation(3.0, mode="max")  # non-plateau ignores; here: not better in max mode
    assert optimizer.param_groups[0]["lr"] == schedule.lr


def test_plateau_max_mode_and_other_schedules_ignore_validation() -> None:
    optimizer = torch.optim.SGD([_param()], lr=1.0)
    schedule = build_scheduler(optimizer, ScheduleConfig(name="plateau", patience=0), 10)
    schedule.after_validation(0.5, mode="max")
    schedule.after_validation(0.6, mode="max")
    assert schedule.lr == 1.0
    schedule.after_validation(0.6, mode="max")
    assert schedule.lr == 0.5
    constant = build_scheduler(torch.optim.SGD([_param()], lr=1.0), ScheduleConfig(), 10)
    for _ in range(5):
        constant.after_validation(1.0)
    assert constant.lr == 1.0


@pytest.mark.parametrize("name", ["cosine", "inverse_sqrt", "step", "plateau"])
def test_schedule_state_resumes_exactly(name: str) -> None:
    cfg = ScheduleConfig(name=name, warmup_steps=3, step_size=2, min_lr=0.01)

    def run(schedule, updates: range) -> list[float]:
        out = []
        for i in updates:
            schedule.after_update()
            if i % 4 == 0:
                schedule.after_validation(float(i % 3))
            out.append(schedule.lr)
        return out

    full = build_scheduler(torch.optim.SGD([_param()], lr=0.5), cfg, 20)
    expected = run(full, range(20))
    first = build_scheduler(torch.optim.SGD([_param()], lr=0.5), cfg, 20)
    run(first, range(8))
    saved = json.loads(json.dumps(first.state_dict()))
    optimizer = torch.optim.SGD([_param()], lr=0.5)
    second = build_scheduler(optimizer, cfg, 20)
    second.load_state_dict(saved)
    assert run(second, range(8, 20)) == expected[8:]
    assert optimizer.param_groups[0]["lr"] == expected[-1]
