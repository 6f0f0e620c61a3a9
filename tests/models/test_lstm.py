import warnings

import pytest
import torch
from torch import nn

from seqlab.errors import ConfigError
from seqlab.models.lstm import (
    LockedDropout,
    ReferenceLSTM,
    ReferenceLSTMCell,
    WeightDropLSTM,
    build_recurrent,
)

INPUT, HIDDEN, BATCH, STEPS = 5, 4, 3, 6


@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_reference_lstm_equals_nn_lstm(num_layers, with_state, bidirectional):
    torch.manual_seed(0)
    fused = nn.LSTM(INPUT, HIDDEN, num_layers, batch_first=True, bidirectional=bidirectional)
    reference = ReferenceLSTM(INPUT, HIDDEN, num_layers, bidirectional=bidirectional)
    reference.load_state_dict(fused.state_dict())
    x = torch.randn(BATCH, STEPS, INPUT)
    state = None
    if with_state:
        directions = 2 if bidirectional else 1
        shape = (num_layers * directions, BATCH, HIDDEN)
        state = (torch.randn(shape), torch.randn(shape))
    expected_out, (expected_h, expected_c) = fused(x, state)
    out, (h, c) = reference(x, state)
    assert out.shape == expected_out.shape
    torch.testing.assert_close(out, expected_out, atol=1e-5, rtol=0)
    torch.testing.assert_close(h, expected_h, atol=1e-5, rtol=0)
    torch.testing.assert_close(c, expected_c, atol=1e-5, rtol=0)


def test_state_dicts_load_both_ways():
    torch.manual_seed(0)
    reference = ReferenceLSTM(INPUT, HIDDEN, 2)
    fused = nn.LSTM(INPUT, HIDDEN, 2, batch_first=True)
    assert list(reference.state_dict()) == list(fused.state_dict())
    fused.load_state_dict(reference.state_dict())  # strict: same names and shapes
    x = torch.randn(BATCH, STEPS, INPUT)
    torch.testing.assert_close(fused(x)[0], reference(x)[0], atol=1e-5, rtol=0)


def test_reference_lstm_without_bias_matches():
    torch.manual_seed(0)
    fused = nn.LSTM(INPUT, HIDDEN, 2, bias=False, batch_first=True)
    reference = ReferenceLSTM(INPUT, HIDDEN, 2, bias=False)
    reference.load_state_dict(fused.state_dict())
    x = torch.randn(BATCH, STEPS, INPUT)
    torch.testing.assert_close(reference(x)[0], fused(x)[0], atol=1e-5, rtol=0)


def test_reference_cell_equals_nn_lstm_cell():
    torch.manual_seed(0)
    fused = nn.LSTMCell(INPUT, HIDDEN)
    cell = ReferenceLSTMCell(INPUT, HIDDEN)
    cell.load_state_dict(fused.state_dict())
    x, h, c = torch.randn(BATCH, INPUT), torch.randn(BATCH, HIDDEN), torch.randn(BATCH, HIDDEN)
    for got, want in zip(cell(x, (h, c)), fused(x, (h, c))):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


def test_reference_lstm_dropout_between_layers_only_in_training():
    torch.manual_seed(0)
    reference = ReferenceLSTM(INPUT, HIDDEN, 2, dropout=0.5)
    x = torch.randn(BATCH, STEPS, INPUT)
    reference.eval()
    torch.testing.assert_close(reference(x)[0], reference(x)[0])
    reference.train()
    assert not torch.equal(reference(x)[0], reference(x)[0])


def test_locked_dropout_shares_mask_across_time_and_is_identity_in_eval():
    torch.manual_seed(0)
    dropout = LockedDropout(0.5)
    x = torch.ones(4, 7, 10)
    y = dropout(x)
    zeroed = y == 0
    assert zeroed.any() and not zeroed.all()
    assert torch.equal(zeroed, zeroed[:, :1].expand_as(zeroed))  # the same units dropped at every step
    assert set(y.unique().tolist()) == {0.0, 2.0}  # kept units scaled by 1 / (1 - p)
    dropout.eval()
    assert torch.equal(dropout(x), x)


@pytest.mark.parametrize("p", [-0.1, 1.0, True, "0.5"])
def test_locked_dropout_rejects_bad_probability(p):
    with pytest.raises(ConfigError, match="p = "):
        LockedDropout(p)


def test_weight_drop_lstm_drops_in_training_and_is_deterministic_in_eval():
    torch.manual_seed(0)
    lstm = WeightDropLSTM(INPUT, HIDDEN, num_layers=2, weight_drop=0.5)
    names = [name for name, _ in lstm.named_parameters()]
    assert "weight_hh_l0_raw" in names and "weight_hh_l1_raw" in names and "weight_hh_l0" not in names
    x = torch.randn(BATCH, STEPS, INPUT)
    lstm.train()
    assert not torch.equal(lstm(x)[0], lstm(x)[0])
    lstm.eval()
    torch.testing.assert_close(lstm(x)[0], lstm(x)[0], atol=0, rtol=0)


def test_weight_drop_lstm_in_eval_equals_nn_lstm_with_raw_weights():
    torch.manual_seed(0)
    lstm = WeightDropLSTM(INPUT, HIDDEN, num_layers=2, weight_drop=0.5).eval()
    fused = nn.LSTM(INPUT, HIDDEN, 2, batch_first=True)
    fused.load_state_dict({name.removesuffix("_raw"): p for name, p in lstm.state_dict().items()})
    x = torch.randn(BATCH, STEPS, INPUT)
    state = (torch.randn(2, BATCH, HIDDEN), torch.randn(2, BATCH, HIDDEN))
    out, (h, c) = lstm(x, state)
    expected_out, (expected_h, expected_c) = fused(x, state)
    torch.testing.assert_close(out, expected_out)
    torch.testing.assert_close(h, expected_h)
    torch.testing.assert_close(c, expected_c)


def test_weight_drop_gradients_reach_raw_weights():
    torch.manual_seed(0)
    lstm = WeightDropLSTM(INPUT, HIDDEN, num_layers=2, weight_drop=0.5).train()
    out, (h, c) = lstm(torch.randn(BATCH, STEPS, INPUT))
    (out.sum() + h.sum() + c.sum()).backward()
    for name, param in lstm.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    # dropped entries of the recurrent weight get no gradient in that step: some zeros, not all
    assert (lstm.weight_hh_l0_raw.grad == 0).any()


def test_weight_drop_lstm_does_not_warn():
    lstm = WeightDropLSTM(INPUT, HIDDEN, weight_drop=0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lstm(torch.randn(BATCH, STEPS, INPUT))


@pytest.mark.parametrize(("cell", "expected"), [("lstm", nn.LSTM), ("gru", nn.GRU), ("rnn_tanh", nn.RNN)])
def test_build_recurrent_returns_fused_modules(cell, expected):
    module = build_recurrent(cell, INPUT, HIDDEN, 2, 0.1)
    assert type(module) is expected and module.batch_first and module.dropout == 0.1
    out, _ = module(torch.randn(BATCH, STEPS, INPUT))
    assert out.shape == (BATCH, STEPS, HIDDEN)
    if cell == "rnn_tanh":
        assert module.nonlinearity == "tanh"


def test_build_recurrent_single_layer_ignores_dropout_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        module = build_recurrent("lstm", INPUT, HIDDEN, 1, 0.3)
    assert module.dropout == 0.0


def test_build_recurrent_weight_drop_and_errors():
    assert isinstance(build_recurrent("lstm", INPUT, HIDDEN, 2, 0.1, weight_drop=0.2), WeightDropLSTM)
    with pytest.raises(ConfigError, match="cell = 'transformer'.*lstm, gru, rnn_tanh"):
        build_recurrent("transformer", INPUT, HIDDEN, 1, 0.0)
    with pytest.raises(ConfigError, match="weight_drop = 0.2"):
        build_recurrent("gru", INPUT, HIDDEN, 1, 0.0, weight_drop=0.2)
