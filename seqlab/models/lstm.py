"""Recurrent layers: a readable gate-by-gate LSTM, variational dropout, and weight-dropped LSTM.

``ReferenceLSTM`` is the LSTM written the way it is taught; it has exactly ``nn.LSTM``'s parameter
names and layout, so the state dicts load both ways and the tests check it equals the fused kernel.
Training uses the fused modules that ``build_recurrent`` returns.

The LSTM equations, for input ``x_t`` and previous state ``(h_{t-1}, c_{t-1})``::

    i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)    input gate: how much new content to write
    f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)    forget gate: how much old memory to keep
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)       candidate: the new content
    o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)    output gate: how much memory to expose
    c_t = f_t * c_{t-1} + i_t * g_t                         cell state (the memory)
    h_t = o_t * tanh(c_t)                                   hidden state (the output)

``nn.LSTM`` stores the four gate matrices stacked in the order i, f, g, o:
``weight_ih_l{k}`` is [4H, E] (layer 0) or [4H, H * directions], ``weight_hh_l{k}`` is [4H, H].
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.errors import ConfigError

LSTMState = tuple[Tensor, Tensor]

CELLS = ("lstm", "gru", "rnn_tanh")


def lstm_cell_step(
    x: Tensor,
    h: Tensor,
    c: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None,
    bias_hh: Tensor | None,
) -> LSTMState:
    """One LSTM time step, gate by gate.

    x: [B, E]; h, c: [B, H]; weight_ih: [4H, E]; weight_hh: [4H, H]; biases: [4H] or None.
    Returns (h_t, c_t), each [B, H].
    """
    # The fused matrices hold the gates stacked in the order input, forget, candidate, output.
    w_ii, w_if, w_ig, w_io = weight_ih.chunk(4, dim=0)
    w_hi, w_hf, w_hg, w_ho = weight_hh.chunk(4, dim=0)
    zeros = x.new_zeros(4 * h.shape[1])
    b_ii, b_if, b_ig, b_io = (bias_ih if bias_ih is not None else zeros).chunk(4)
    b_hi, b_hf, b_hg, b_ho = (bias_hh if bias_hh is not None else zeros).chunk(4)

    input_gate = torch.sigmoid(x @ w_ii.T + b_ii + h @ w_hi.T + b_hi)
    forget_gate = torch.sigmoid(x @ w_if.T + b_if + h @ w_hf.T + b_hf)
    candidate = torch.tanh(x @ w_ig.T + b_ig + h @ w_hg.T + b_hg)
    output_gate = torch.sigmoid(x @ w_io.T + b_io + h @ w_ho.T + b_ho)

    c_next = forget_gate * c + input_gate * candidate
    h_next = output_gate * torch.tanh(c_next)
    return h_next, c_next


class ReferenceLSTMCell(nn.Module):
    """One LSTM step (:func:`lstm_cell_step`) with ``nn.LSTMCell``'s parameter names and layout."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size)) if bias else None
        self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size)) if bias else None
        bound = 1.0 / math.sqrt(hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x: Tensor, state: LSTMState | None = None) -> LSTMState:
        """x: [B, E]; state: (h, c) each [B, H] or None (zeros). Returns (h_t, c_t), each [B, H]."""
        if state is None:
            zeros = x.new_zeros(x.shape[0], self.hidden_size)
            state = (zeros, zeros)
        return lstm_cell_step(
            x, state[0], state[1], self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh
        )


class ReferenceLSTM(nn.Module):
    """A multi-layer LSTM computed step by step with :func:`lstm_cell_step` (batch first).

    Parameters are named and shaped exactly as in ``nn.LSTM(batch_first=True)``: ``weight_ih_l{k}``,
    ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}`` (and ``*_reverse`` when bidirectional).
    Dropout (training only) is applied to the outputs of every layer but the last, as in ``nn.LSTM``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        dropout: float = 0.0,
        bidirectional: bool = False,
    ) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.dropout = dropout
        self.bidirectional = bidirectional
        self.batch_first = True
        self.num_directions = 2 if bidirectional else 1
        bound = 1.0 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self.num_directions
            for suffix in self._suffixes(layer):
                shapes = {
                    "weight_ih": (4 * hidden_size, layer_input),
                    "weight_hh": (4 * hidden_size, hidden_size),
                }
                if bias:
                    shapes.update(bias_ih=(4 * hidden_size,), bias_hh=(4 * hidden_size,))
                for name, shape in shapes.items():
                    param = nn.Parameter(torch.empty(shape).uniform_(-bound, bound))
                    self.register_parameter(f"{name}{suffix}", param)

    def _suffixes(self, layer: int) -> list[str]:
        return [f"_l{layer}", f"_l{layer}_reverse"][: self.num_directions]

    def _weights(self, suffix: str) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
        def get(name: str) -> Tensor:
            return getattr(self, f"{name}{suffix}")

        biases = (get("bias_ih"), get("bias_hh")) if self.bias else (None, None)
        return get("weight_ih"), get("weight_hh"), *biases

    def forward(self, x: Tensor, state: LSTMState | None = None) -> tuple[Tensor, LSTMState]:
        """x: [B, T, E]; state: (h0, c0) each [L * D, B, H] or None (zeros), D = 2 if bidirectional.

        Returns out [B, T, D * H] (the last layer's hidden states) and (h_n, c_n), each [L * D, B, H].
        """
        batch, steps, _ = x.shape
        if state is None:
            zeros = x.new_zeros(self.num_layers * self.num_directions, batch, self.hidden_size)
            state = (zeros, zeros)
        h0, c0 = state
        final_h, final_c = [], []
        layer_input = x
        for layer in range(self.num_layers):
            direction_outputs = []
            for direction, suffix in enumerate(self._suffixes(layer)):
                index = layer * self.num_directions + direction
                h, c = h0[index], c0[index]
                outputs: list[Tensor] = [x] * steps  # placeholders, each overwritten below
                time_order = range(steps) if direction == 0 else range(steps - 1, -1, -1)
                for t in time_order:
                    h, c = lstm_cell_step(layer_input[:, t], h, c, *self._weights(suffix))
                    outputs[t] = h
                direction_outputs.append(torch.stack(outputs, dim=1))
                final_h.append(h)
                final_c.append(c)
            layer_input = torch.cat(direction_outputs, dim=-1)
            if layer < self.num_layers - 1 and self.dropout > 0:
                layer_input = F.dropout(layer_input, self.dropout, self.training)
        return layer_input, (torch.stack(final_h), torch.stack(final_c))


def _check_probability(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value < 1.0:
        raise ConfigError(f"{name} = {value!r}: must be a number in [0, 1)")


class LockedDropout(nn.Module):
    """Variational dropout: one mask per sequence, shared across all time steps (identity in eval).

    x: [B, T, E] -> [B, T, E]; the mask is [B, 1, E], scaled by 1 / (1 - p).
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        _check_probability("p", p)
        self.p = float(p)

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        mask = x.new_empty(x.shape[0], 1, x.shape[2]).bernoulli_(1.0 - self.p) / (1.0 - self.p)
        return x * mask

    def extra_repr(self) -> str:
        return f"p={self.p}"


# cuDNN warns on every call whose weights are not one contiguous buffer; the dropped weight is a
# fresh tensor each step by design, so the warning would only repeat itself.
_NON_CONTIGUOUS_WARNING = ".*not part of single contiguous chunk of memory.*"


class WeightDropLSTM(nn.Module):
    """AWD-LSTM: DropConnect on the hidden-to-hidden weights of a fused LSTM (batch first).

    The undropped weights are the parameters ``weight_hh_l{k}_raw``; the other parameters are named
    as in ``nn.LSTM``. In training each forward draws a dropped copy of every ``weight_hh_l{k}_raw``
    (one mask per batch, shared across time) and runs the fused LSTM kernel with it, so gradients
    flow to the raw weights. In eval the raw weights are used as they are.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
        weight_drop: float = 0.0,
        bias: bool = True,
    ) -> None:
        super().__init__()
        _check_probability("dropout", dropout)
        _check_probability("weight_drop", weight_drop)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = float(dropout)
        self.weight_drop = float(weight_drop)
        self.bias = bias
        bound = 1.0 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size
            shapes = {
                f"weight_ih_l{layer}": (4 * hidden_size, layer_input),
                f"weight_hh_l{layer}_raw": (4 * hidden_size, hidden_size),
            }
            if bias:
                shapes.update(
                    {f"bias_ih_l{layer}": (4 * hidden_size,), f"bias_hh_l{layer}": (4 * hidden_size,)}
                )
            for name, shape in shapes.items():
                self.register_parameter(name, nn.Parameter(torch.empty(shape).uniform_(-bound, bound)))

    def flat_weights(self) -> list[Tensor]:
        """The weights in the order the fused kernel wants, hidden-to-hidden ones dropped in training."""
        weights = []
        for layer in range(self.num_layers):
            weight_hh = getattr(self, f"weight_hh_l{layer}_raw")
            weight_hh = F.dropout(weight_hh, self.weight_drop, self.training)
            weights += [getattr(self, f"weight_ih_l{layer}"), weight_hh]
            if self.bias:
                weights += [getattr(self, f"bias_ih_l{layer}"), getattr(self, f"bias_hh_l{layer}")]
        return weights

    def forward(self, x: Tensor, state: LSTMState | None = None) -> tuple[Tensor, LSTMState]:
        """x: [B, T, E]; state: (h0, c0) each [L, B, H] or None. Returns out [B, T, H], (h_n, c_n)."""
        if state is None:
            zeros = x.new_zeros(self.num_layers, x.shape[0], self.hidden_size)
            state = (zeros, zeros)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_NON_CONTIGUOUS_WARNING, category=UserWarning)
            # The same fused call nn.LSTM.forward makes, with our (possibly dropped) weights.
            out, h_n, c_n = torch._VF.lstm(
                x, state, self.flat_weights(), self.bias, self.num_layers,
                self.dropout, self.training, False, True,
            )  # fmt: skip
        return out, (h_n, c_n)

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
            f"dropout={self.dropout}, weight_drop={self.weight_drop}"
        )


def build_recurrent(
    cell: str,
    input_size: int,
    hidden_size: int,
    num_layers: int,
    dropout: float,
    weight_drop: float = 0.0,
) -> nn.Module:
    """The fused recurrent stack for ``cell`` ('lstm', 'gru' or 'rnn_tanh'), batch first.

    Returns ``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN(nonlinearity='tanh')``, or ``WeightDropLSTM`` when
    ``weight_drop > 0`` (LSTM only). ``dropout`` applies between layers (ignored for one layer).
    The module maps x [B, T, input_size] and a state [num_layers, B, H] (a tuple (h, c) for an
    LSTM) to out [B, T, H] and the final state.
    """
    if cell not in CELLS:
        raise ConfigError(f"cell = {cell!r}: must be one of {', '.join(CELLS)}")
    _check_probability("dropout", dropout)
    _check_probability("weight_drop", weight_drop)
    if weight_drop > 0 and cell != "lstm":
        raise ConfigError(f"weight_drop = {weight_drop}: only supported with cell 'lstm' (got {cell!r})")
    between = dropout if num_layers > 1 else 0.0  # torch warns about dropout on a single layer
    if weight_drop > 0:
        return WeightDropLSTM(input_size, hidden_size, num_layers, between, weight_drop)
    if cell == "lstm":
        return nn.LSTM(input_size, hidden_size, num_layers, dropout=between, batch_first=True)
    if cell == "gru":
        return nn.GRU(input_size, hidden_size, num_layers, dropout=between, batch_first=True)
    return nn.RNN(input_size, hidden_size, num_layers, nonlinearity="tanh", dropout=between, batch_first=True)
