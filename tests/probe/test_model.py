"""The probe's model shapes and gate-bias initialisation."""

from __future__ import annotations

import pytest
import torch

from seqlab.errors import ConfigError
from seqlab.probe.model import build_probe_model
from seqlab.probe.tasks import AddingTask, CopyTask


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_outputs_at_the_answer_steps(cell):
    copy = CopyTask(lag=4, symbols=3, alphabet=5)
    batch = copy.sample(6, torch.Generator().manual_seed(0))
    assert build_probe_model(cell, copy, 8)(batch.inputs).shape == (6, 3, 5)
    adding = AddingTask(lag=4)
    batch = adding.sample(6, torch.Generator().manual_seed(0))
    assert build_probe_model(cell, adding, 8)(batch.inputs).shape == (6, 1, 1)


def test_gate_bias_sets_the_forget_and_update_gates_only():
    task = CopyTask(lag=3)
    lstm = build_probe_model("lstm", task, 4, gate_bias=5.0).recurrent
    total = lstm.bias_ih_l0 + lstm.bias_hh_l0
    assert torch.allclose(total[4:8], torch.full((4,), 5.0))  # forget gate (i, f, g, o)
    assert torch.all(total[:4].abs() < 1.5)
    gru = build_probe_model("gru", task, 4, gate_bias=5.0).recurrent
    assert torch.allclose((gru.bias_ih_l0 + gru.bias_hh_l0)[4:8], torch.full((4,), 5.0))  # update (r, z, n)
    torch.manual_seed(0)
    default = build_probe_model("lstm", task, 4, gate_bias=0.0).recurrent
    assert torch.all((default.bias_ih_l0 + default.bias_hh_l0).abs() < 1.5)


def test_unknown_cell_lists_the_choices():
    with pytest.raises(ConfigError, match="rnn, gru, lstm"):
        build_probe_model("transformer", CopyTask(lag=3), 4)
