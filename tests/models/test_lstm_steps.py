"""LSTMSteps: the same cell as nn.LSTM, one position at a time, with the token share hoisted."""

import pytest
import torch
from torch import nn

from seqlab.models.lstm_steps import LSTMSteps


def run_module(lstm, tokens, extras, h, c):
    outs = []
    for t in range(tokens.shape[1]):
        x = tokens[:, t] if extras is None else torch.cat([tokens[:, t], extras[:, t]], dim=1)
        out, (h, c) = lstm(x.unsqueeze(1), (h, c))
        outs.append(out[:, 0])
    return torch.stack(outs, 1), h, c


def run_steps(lstm, tokens, extras, h, c, token_size):
    steps = LSTMSteps(lstm, token_size, lstm.training)
    gates = steps.project_tokens(tokens)
    outs = []
    for t in range(tokens.shape[1]):
        out, h, c = steps.step(gates[:, t], None if extras is None else extras[:, t], h, c)
        outs.append(out)
    return torch.stack(outs, 1), h, c


@pytest.mark.parametrize(("layers", "extra", "bias"), [(1, 0, True), (2, 5, True), (3, 4, False)])
def test_outputs_states_and_gradients_equal_nn_lstm(layers, extra, bias):
    torch.manual_seed(layers)
    batch, steps_, token_size, hidden = 3, 4, 6, 7
    lstm = nn.LSTM(token_size + extra, hidden, layers, batch_first=True, bias=bias)
    tokens = torch.randn(batch, steps_, token_size)
    extras = torch.randn(batch, steps_, extra) if extra else None
    h, c = torch.randn(layers, batch, hidden), torch.randn(layers, batch, hidden)
    expected = run_module(lstm, tokens, extras, h, c)
    grads_expected = torch.autograd.grad(sum(x.sum() for x in expected), list(lstm.parameters()))
    got = run_steps(lstm, tokens, extras, h, c, token_size)
    grads = torch.autograd.grad(sum(x.sum() for x in got), list(lstm.parameters()))
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    for a, b in zip(grads, grads_expected, strict=True):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_dropout_between_layers_only_in_training():
    torch.manual_seed(0)
    lstm = nn.LSTM(4, 5, 2, batch_first=True, dropout=0.5)
    tokens = torch.randn(2, 3, 4)
    h = c = torch.zeros(2, 2, 5)
    lstm.eval()
    torch.testing.assert_close(
        run_steps(lstm, tokens, None, h, c, 4)[0], run_module(lstm, tokens, None, h, c)[0]
    )
    lstm.train()
    first = run_steps(lstm, tokens, None, h, c, 4)[0]
    second = run_steps(lstm, tokens, None, h, c, 4)[0]
    assert not torch.equal(first, second)  # a fresh dropout mask between the layers


def test_rejects_what_it_cannot_step():
    with pytest.raises(ValueError, match="unidirectional"):
        LSTMSteps(nn.LSTM(4, 5, bidirectional=True, batch_first=True), 4, False)
    with pytest.raises(ValueError, match="token_size = 9"):
        LSTMSteps(nn.LSTM(4, 5, batch_first=True), 9, False)


def test_int8_steps_stay_close_to_float_steps_and_refuse_training():
    torch.manual_seed(3)
    batch, steps_, token_size, extra, hidden = 4, 6, 5, 3, 16
    lstm = nn.LSTM(token_size + extra, hidden, 2, batch_first=True).eval()
    tokens = torch.randn(batch, steps_, token_size)
    extras = torch.rand(batch, steps_, extra) * 2 - 1  # the decoder's step inputs lie in [-1, 1]
    h, c = torch.rand(2, batch, hidden) * 2 - 1, torch.randn(2, batch, hidden)
    with torch.no_grad():
        expected = run_steps(lstm, tokens, extras, h, c, token_size)
        steps = LSTMSteps(lstm, token_size, False, int8=True)
        gates = steps.project_tokens(tokens)
        outs, hh, cc = [], h, c
        for t in range(steps_):
            out, hh, cc = steps.step(gates[:, t], extras[:, t], hh, cc)
            outs.append(out)
    got = (torch.stack(outs, 1), hh, cc)
    for a, b in zip(got, expected, strict=True):
        assert 0 < (a - b).abs().max() < 0.03
    with pytest.raises(ValueError, match="inference"):
        LSTMSteps(lstm, token_size, True, int8=True)
