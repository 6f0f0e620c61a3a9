"""The probe's model: input layer -> one fused recurrent layer (nn.RNN, nn.GRU or nn.LSTM) -> output
head read at the task's answer steps (the last ``answer_steps`` positions)."""

from __future__ import annotations

import torch
from torch import nn

from seqlab.errors import ConfigError
from seqlab.probe.settings import CELLS
from seqlab.probe.tasks import ProbeTask

EMBEDDING_SIZE = 16


class ProbeModel(nn.Module):
    """``forward(inputs) -> outputs[B, answer_steps, output_size]``.

    Token inputs (LongTensor[B, T]) go through an embedding; real-valued inputs (FloatTensor[B, T, F])
    through a linear layer. ``rnn`` is the tanh RNN. ``gate_bias`` initialises the LSTM's forget gate
    and the GRU's update gate bias (the sum of the input and hidden biases) so that a fresh gated cell
    leans towards keeping its state (Gers et al. 2000; Jozefowicz et al. 2015); 0 keeps PyTorch's own
    initialisation. The tanh RNN has no gate and keeps PyTorch's initialisation.
    """

    def __init__(
        self,
        cell: str,
        hidden_size: int,
        output_size: int,
        answer_steps: int,
        *,
        vocab_size: int | None = None,
        input_size: int | None = None,
        gate_bias: float = 1.0,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ConfigError(f"unknown cell {cell!r}; valid: {', '.join(CELLS)}")
        if (vocab_size is None) == (input_size is None):
            raise ConfigError("ProbeModel needs exactly one of vocab_size (tokens) and input_size (features)")
        if hidden_size < 1:
            raise ConfigError(f"hidden size must be >= 1, got {hidden_size}")
        self.cell = cell
        self.answer_steps = answer_steps
        if vocab_size is not None:
            self.input_layer: nn.Module = nn.Embedding(vocab_size, EMBEDDING_SIZE)
        else:
            self.input_layer = nn.Linear(input_size, EMBEDDING_SIZE)
        recurrent_class = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell]
        self.recurrent = recurrent_class(EMBEDDING_SIZE, hidden_size, num_layers=1, batch_first=True)
        self.head = nn.Linear(hidden_size, output_size)
        if gate_bias:
            self._set_gate_bias(gate_bias, hidden_size)

    def _set_gate_bias(self, value: float, hidden_size: int) -> None:
        # nn.LSTM gate order is (input, forget, cell, output); nn.GRU is (reset, update, new)
        gate = {"lstm": 1, "gru": 1}.get(self.cell)
        if gate is None:
            return
        rows = slice(gate * hidden_size, (gate + 1) * hidden_size)
        with torch.no_grad():
            self.recurrent.bias_ih_l0[rows] = value
            self.recurrent.bias_hh_l0[rows] = 0.0

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """``inputs`` LongTensor[B, T] or FloatTensor[B, T, F] -> outputs FloatTensor[B, answer_steps,
        output_size]."""
        states, _ = self.recurrent(self.input_layer(inputs))  # [B, T, H]
        return self.head(states[:, -self.answer_steps :])


def build_probe_model(cell: str, task: ProbeTask, hidden_size: int, gate_bias: float = 1.0) -> ProbeModel:
    """A :class:`ProbeModel` shaped for ``task`` (token inputs for copy, two features for adding)."""
    tokens = getattr(task, "vocab_size", None)
    return ProbeModel(
        cell,
        hidden_size,
        task.output_size,
        task.answer_steps,
        vocab_size=tokens,
        input_size=None if tokens is not None else task.input_size,
        gate_bias=gate_bias,
    )
