"""Right-padding id sequences into one tensor: the one helper that training batches, the
predictors and the batched search all pad with."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def pad_batch(seqs: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad id sequences into one tensor.

    Returns ``(tokens LongTensor[B, T], lengths LongTensor[B])`` with ``T = max(lengths)`` (0 when
    every sequence is empty or there are none).
    """
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    longest = int(lengths.max()) if len(seqs) else 0
    tokens = torch.full((len(seqs), longest), pad_id, dtype=torch.long)
    for row, seq in enumerate(seqs):
        if len(seq):
            tokens[row, : len(seq)] = torch.as_tensor(list(seq), dtype=torch.long)
    return tokens, lengths
