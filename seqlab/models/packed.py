"""Recurrent stacks over right-padded batches, run as packed sequences so padding never matters.

``build_recurrent`` in ``lstm.py`` builds the unidirectional stacks of the language model; the
classifier and the tagger need bidirectional ones over variable-length examples. Running them on a
``PackedSequence`` means the recurrence never sees a padding position: an example gives the same
outputs alone as inside a padded batch with longer neighbours (the backward direction starts at the
last *real* token, not at the padding).
"""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqlab.errors import ConfigError, DataError
from seqlab.models.lstm import CELLS


def check_probability(name: str, value: float) -> None:
    """ConfigError unless ``value`` is a number in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value < 1.0:
        raise ConfigError(f"{name} = {value!r}: must be a number in [0, 1)")


def check_positive(**values: int) -> None:
    """ConfigError naming every argument that is not an integer >= 1."""
    bad = [
        f"{k} = {v!r}" for k, v in values.items() if isinstance(v, bool) or not isinstance(v, int) or v < 1
    ]
    if bad:
        raise ConfigError(f"{', '.join(bad)}: must be an integer >= 1")


def build_stack(
    cell: str, input_size: int, hidden_size: int, num_layers: int, dropout: float, bidirectional: bool
) -> nn.Module:
    """``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN(tanh)`` (batch first), optionally bidirectional.

    ``dropout`` applies between layers (ignored for a single layer). Output size is
    ``hidden_size * (2 if bidirectional else 1)``.
    """
    if cell not in CELLS:
        raise ConfigError(f"cell = {cell!r}: must be one of {', '.join(CELLS)}")
    check_probability("dropout", dropout)
    check_positive(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers)
    between = dropout if num_layers > 1 else 0.0  # torch warns about dropout on a single layer
    kwargs = dict(num_layers=num_layers, dropout=between, batch_first=True, bidirectional=bidirectional)
    if cell == "lstm":
        return nn.LSTM(input_size, hidden_size, **kwargs)
    if cell == "gru":
        return nn.GRU(input_size, hidden_size, **kwargs)
    return nn.RNN(input_size, hidden_size, nonlinearity="tanh", **kwargs)


def check_lengths(lengths: Tensor, steps: int) -> None:
    """DataError unless every length is in [1, steps] (``lengths``: LongTensor[B])."""
    if lengths.dim() != 1:
        raise DataError(f"lengths must be a 1-d tensor [B], got shape {tuple(lengths.shape)}")
    if lengths.numel() == 0:
        return
    low, high = int(lengths.min()), int(lengths.max())
    if low < 1:
        raise DataError("an example has length 0: remove empty examples before batching")
    if high > steps:
        raise DataError(f"a length ({high}) exceeds the padded width of the batch ({steps})")


def run_packed(stack: nn.Module, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
    """Run ``stack`` over the real positions of ``x`` only.

    x: [B, T, E] right-padded; lengths: LongTensor[B] with 1 <= length <= T.
    Returns outputs [B, T, D * H] (zeros at padding, T kept) and the last layer's final hidden
    states [D, B, H] (D = 2 if bidirectional; the backward one is the state after position 0).
    """
    check_lengths(lengths, x.shape[1])
    packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    packed_out, hidden = stack(packed)
    outputs, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=x.shape[1])
    h_n = hidden[0] if isinstance(hidden, tuple) else hidden  # LSTM: (h, c); GRU/RNN: h
    directions = 2 if stack.bidirectional else 1
    return outputs, h_n[-directions:]
