"""The Seq2Seq encoder: embedding -> stacked LSTM/GRU/RNN (optionally bidirectional) over packed
sequences, and the memory the decoder reads.

The recurrence runs on a ``PackedSequence``, so padding never reaches it: a sentence is encoded the
same alone and in a padded batch, and the backward direction starts at its last real token.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqlab.models.packed import build_stack, check_lengths
from seqlab.models.state import RecurrentState


@dataclass
class EncoderMemory:
    """What the decoder reads from the encoder.

    ``states``: FloatTensor[B, S, He], zeros at padding; ``mask``: BoolTensor[B, S] (True = real
    token); ``lengths``: LongTensor[B] (on the states' device); ``keys``: the attention's cached
    projection of the states (FloatTensor[B, S, K]) or None; ``final``: the encoder's final state,
    every layer, directions concatenated (h, c: [L, B, He]). Copy attention only: ``copy_ids``
    LongTensor[B, S], each source token's id in the target vocabulary extended by its sentence's own
    unknown words (:mod:`seqlab.text.extended_vocab`), and ``extended_size``, the width of the
    output distribution over that vocabulary (V plus the most such words of a sentence in the batch).
    """

    states: Tensor
    mask: Tensor
    lengths: Tensor
    final: RecurrentState
    keys: Tensor | None = None
    copy_ids: Tensor | None = None
    extended_size: int | None = None

    def reorder(self, indices: Tensor) -> EncoderMemory:
        """Select batch rows (beam search): ``indices`` LongTensor[B'] -> a memory of batch B'."""
        indices = indices.to(self.states.device)
        return EncoderMemory(
            states=self.states.index_select(0, indices),
            mask=self.mask.index_select(0, indices),
            lengths=self.lengths.index_select(0, indices),
            final=self.final.reorder(indices),
            keys=None if self.keys is None else self.keys.index_select(0, indices),
            copy_ids=None if self.copy_ids is None else self.copy_ids.index_select(0, indices),
            extended_size=self.extended_size,
        )

    def put_rows(self, slots: Tensor, source: EncoderMemory, rows: Tensor) -> None:
        """In place: rows ``rows`` LongTensor[K] of ``source`` (a memory with the same source width
        S) become this memory's rows ``slots`` LongTensor[K] (greedy refill search: a sentence takes
        the row of one that ended, and no other row is copied)."""
        slots, rows = slots.to(self.states.device), rows.to(self.states.device)
        for name in ("states", "mask", "lengths", "keys", "copy_ids"):
            mine = getattr(self, name)
            if mine is not None:
                mine.index_copy_(0, slots, getattr(source, name).index_select(0, rows))
        self.final.put_rows(slots, source.final, rows)

    def with_keys(self, keys: Tensor | None) -> EncoderMemory:
        return replace(self, keys=keys)

    @property
    def batch_size(self) -> int:
        return self.states.shape[0]


class Encoder(nn.Module):
    """Token ids -> :class:`EncoderMemory`.

    Args:
        embedding: the source embedding (shared with the decoder when ``model.share_embeddings``).
        hidden_size: units per direction; the states are ``hidden_size * (2 if bidirectional else 1)``.
        num_layers, cell, bidirectional, dropout: the recurrent stack (dropout also on embeddings).
    """

    def __init__(
        self,
        embedding: nn.Embedding,
        hidden_size: int,
        num_layers: int,
        cell: str = "lstm",
        bidirectional: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.embedding = embedding
        self.dropout = nn.Dropout(dropout)
        self.rnn = build_stack(cell, embedding.embedding_dim, hidden_size, num_layers, dropout, bidirectional)
        self.directions = 2 if bidirectional else 1
        self.num_layers = num_layers
        self.output_size = hidden_size * self.directions

    def _merge_directions(self, hidden: Tensor) -> Tensor:
        """[L * D, B, H] (torch's layout) -> [L, B, D * H], the directions of a layer side by side."""
        layers_dirs, batch, size = hidden.shape
        hidden = hidden.view(self.num_layers, self.directions, batch, size)
        return hidden.permute(0, 2, 1, 3).reshape(self.num_layers, batch, self.directions * size)

    def forward(self, src: Tensor, lengths: Tensor) -> EncoderMemory:
        """src: LongTensor[B, S] right-padded; lengths: LongTensor[B], 1 <= length <= S."""
        check_lengths(lengths, src.shape[1])
        x = self.dropout(self.embedding(src))
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        packed_out, hidden = self.rnn(packed)
        states, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=src.shape[1])
        if isinstance(hidden, tuple):
            final = RecurrentState(self._merge_directions(hidden[0]), self._merge_directions(hidden[1]))
        else:
            final = RecurrentState(self._merge_directions(hidden))
        device_lengths = lengths.to(src.device)
        mask = torch.arange(src.shape[1], device=src.device).unsqueeze(0) < device_lengths.unsqueeze(1)
        return EncoderMemory(states=self.dropout(states), mask=mask, lengths=device_lengths, final=final)
