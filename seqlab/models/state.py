"""The hidden state a recurrent model carries from one step (or batch) to the next."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class RecurrentState:
    """Hidden state of a stack of recurrent layers.

    ``h``: FloatTensor[L, B, H], the hidden state of every layer.
    ``c``: FloatTensor[L, B, H], the LSTM cell state; ``None`` for GRU and plain RNN cells.
    """

    h: Tensor
    c: Tensor | None = None

    @classmethod
    def from_hidden(cls, hidden: Tensor | tuple[Tensor, Tensor]) -> RecurrentState:
        """Wrap what a torch recurrent module returns: ``(h_n, c_n)`` for an LSTM, ``h_n`` otherwise."""
        if isinstance(hidden, tuple):
            h, c = hidden
            return cls(h, c)
        return cls(hidden)

    @property
    def batch_size(self) -> int:
        return self.h.shape[1]

    @property
    def num_layers(self) -> int:
        return self.h.shape[0]

    def as_tuple(self) -> Tensor | tuple[Tensor, Tensor]:
        """What a torch recurrent module takes: ``(h, c)`` for an LSTM, ``h`` otherwise."""
        return self.h if self.c is None else (self.h, self.c)

    def reorder(self, indices: Tensor) -> RecurrentState:
        """Select batch rows: ``indices`` LongTensor[B'] -> a state with batch size B' (beam search)."""
        indices = indices.to(self.h.device)
        c = None if self.c is None else self.c.index_select(1, indices)
        return RecurrentState(self.h.index_select(1, indices), c)

    def extend(self, other: RecurrentState) -> RecurrentState:
        """The rows of ``self`` then those of ``other`` in one state (batch B + B')."""
        c = None if self.c is None or other.c is None else torch.cat([self.c, other.c], dim=1)
        return RecurrentState(torch.cat([self.h, other.h], dim=1), c)

    def put_rows(self, slots: Tensor, source: RecurrentState, rows: Tensor) -> None:
        """In place: batch rows ``rows`` of ``source`` become this state's rows ``slots``."""
        self.h.index_copy_(1, slots, source.h.index_select(1, rows))
        if self.c is not None and source.c is not None:
            self.c.index_copy_(1, slots, source.c.index_select(1, rows))

    def detach(self) -> RecurrentState:
        """The same values, cut from the autograd graph (truncated backpropagation through time)."""
        return RecurrentState(self.h.detach(), None if self.c is None else self.c.detach())

    def layers(self, start: int, stop: int) -> RecurrentState:
        """Layers ``start:stop`` of the stack, e.g. the slice one single-layer module owns."""
        return RecurrentState(self.h[start:stop], None if self.c is None else self.c[start:stop])

    @classmethod
    def concat(cls, parts: list[RecurrentState]) -> RecurrentState:
        """Stack the states of consecutive layer groups back into one [L, B, H] state."""
        if len(parts) == 1:
            return parts[0]
        h = torch.cat([p.h for p in parts], dim=0)
        c = None if parts[0].c is None else torch.cat([p.c for p in parts], dim=0)  # type: ignore[misc]
        return cls(h, c)

    def to(self, device: torch.device | str) -> RecurrentState:
        return RecurrentState(self.h.to(device), None if self.c is None else self.c.to(device))
