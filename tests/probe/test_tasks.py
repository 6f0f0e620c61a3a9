"""The probe's tasks: deterministic generation and answers correct by construction."""

from __future__ import annotations

import pytest
import torch

from seqlab.errors import ConfigError
from seqlab.probe.tasks import AddingTask, CopyTask, build_task, skill


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("task", [CopyTask(lag=7), AddingTask(lag=25)])
def test_same_seed_gives_identical_batches_and_another_seed_differs(task):
    first, second = _generator(3), _generator(3)
    for _ in range(3):
        a, b = task.sample(16, first), task.sample(16, second)
        assert torch.equal(a.inputs, b.inputs) and torch.equal(a.targets, b.targets)
    other = task.sample(16, _generator(4))
    assert not torch.equal(other.inputs, task.sample(16, _generator(3)).inputs)


def test_copy_layout_symbols_blanks_cue_and_targets():
    task = CopyTask(lag=5, symbols=3, alphabet=6)
    batch = task.sample(32, _generator(0))
    assert batch.inputs.shape == (32, 2 * 3 + 5) == (32, task.length)
    assert batch.targets.shape == (32, 3)
    assert int(batch.targets.min()) >= 0 and int(batch.targets.max()) < 6
    # the symbols come first, as ids 1..alphabet, and are the targets shifted by one
    assert torch.equal(batch.inputs[:, :3], batch.targets + 1)
    # then lag blanks, the cue, and blanks while the answer is written
    assert torch.all(batch.inputs[:, 3:8] == 0)
    assert task.cue_id == 7 and torch.all(batch.inputs[:, 8] == 7)
    assert torch.all(batch.inputs[:, 9:] == 0)


def test_copy_answer_is_read_symbols_plus_lag_steps_after_each_symbol():
    task = CopyTask(lag=4, symbols=2, alphabet=5)
    batch = task.sample(8, _generator(1))
    answer_positions = range(task.length - task.answer_steps, task.length)
    for index, position in enumerate(answer_positions):
        assert position - index == task.symbols + task.lag
        assert torch.equal(batch.inputs[:, index] - 1, batch.targets[:, index])


def test_adding_targets_are_the_sum_of_the_two_marked_values():
    task = AddingTask(lag=30)
    batch = task.sample(64, _generator(2))
    values, markers = batch.inputs[..., 0], batch.inputs[..., 1]
    assert batch.inputs.shape == (64, task.length, 2) and task.length == 30 + 3
    assert torch.all(markers.sum(dim=1) == 2)
    assert torch.allclose((values * markers).sum(dim=1), batch.targets)
    first = markers.argmax(dim=1)
    second = task.length - 1 - markers.flip(1).argmax(dim=1)
    assert torch.all(first < task.window) and torch.all(second >= task.length - task.window)
    # the first marked value lies between lag and lag + window - 1 steps before the read-out
    distance = task.length - 1 - first
    assert torch.all((distance >= 30) & (distance <= 30 + task.window - 1))


def test_skill_against_chance_and_the_memoryless_baseline():
    copy = CopyTask(lag=5, alphabet=4)
    assert skill(copy, 0.25) == pytest.approx(0.0) and skill(copy, 1.0) == pytest.approx(1.0)
    adding = AddingTask(lag=5)
    assert skill(adding, 1 / 12) == pytest.approx(0.0) and skill(adding, 0.0) == pytest.approx(1.0)
    assert skill(adding, adding.chance) == pytest.approx(-1.0)


def test_score_and_loss_of_perfect_and_wrong_answers():
    task = CopyTask(lag=3, symbols=2, alphabet=4)
    batch = task.sample(10, _generator(0))
    perfect = torch.nn.functional.one_hot(batch.targets, 4).float() * 20
    assert task.score(perfect, batch.targets) == 1.0
    assert task.loss(perfect, batch.targets).item() < 1e-6
    assert task.score(perfect.roll(1, dims=-1), batch.targets) == 0.0
    adding = AddingTask(lag=3)
    sums = adding.sample(10, _generator(0))
    assert adding.score(sums.targets.view(-1, 1, 1), sums.targets) == 0.0


def test_bad_task_arguments_name_the_problem():
    with pytest.raises(ConfigError, match="valid: copy, adding"):
        build_task("reverse", 5)
    with pytest.raises(ConfigError, match="lag must be >= 1"):
        CopyTask(lag=0)
    with pytest.raises(ConfigError, match="alphabet"):
        CopyTask(lag=3, alphabet=1)
