"""Turn per-token states into one vector per sequence, looking at real tokens only.

``pool(outputs, lengths, mode)`` covers the parameter-free modes; ``AttentionPooling`` is the learned
one. Padding positions never contribute: 'last' indexes real positions, 'mean' and 'max' mask them,
and attention gives them a weight of exactly 0.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seqlab.errors import ConfigError

POOLING_MODES = ("last", "mean", "max")


def padding_mask(lengths: Tensor, steps: int) -> Tensor:
    """BoolTensor[B, T]: True at the real positions ``t < lengths[b]``."""
    positions = torch.arange(steps, device=lengths.device)
    return positions.unsqueeze(0) < lengths.unsqueeze(1)


def pool(outputs: Tensor, lengths: Tensor, mode: str, bidirectional: bool = False) -> Tensor:
    """Pool ``outputs`` [B, T, D] over the real tokens of each row -> [B, D].

    lengths: LongTensor[B], each >= 1. Modes:
      - 'last': the state at the last real token. When ``bidirectional``, the last dimension is
        [forward H | backward H]; the forward half is taken at the last real token and the backward
        half at position 0 (where the backward direction has read the whole sequence).
      - 'mean': the average over real tokens.
      - 'max': the element-wise maximum over real tokens.
    """
    if mode not in POOLING_MODES:
        raise ConfigError(f"pooling = {mode!r}: must be one of {', '.join(POOLING_MODES)}")
    batch, steps, size = outputs.shape
    lengths = lengths.to(outputs.device)
    if mode == "last":
        index = (lengths - 1).clamp(min=0).view(batch, 1, 1).expand(batch, 1, size)
        last = outputs.gather(1, index).squeeze(1)  # [B, D]
        if not bidirectional:
            return last
        half = size // 2
        return torch.cat([last[:, :half], outputs[:, 0, half:]], dim=-1)
    mask = padding_mask(lengths, steps).unsqueeze(-1)  # [B, T, 1]
    if mode == "mean":
        total = outputs.masked_fill(~mask, 0.0).sum(dim=1)
        return total / lengths.clamp(min=1).unsqueeze(1).to(outputs.dtype)
    return outputs.masked_fill(~mask, float("-inf")).max(dim=1).values


class AttentionPooling(nn.Module):
    """Learned additive attention pooling: ``score_t = v · tanh(W h_t)``, softmax over real tokens.

    Args:
        input_size: D, the size of each state h_t.
        attention_size: size of the hidden projection W (default D).
    """

    def __init__(self, input_size: int, attention_size: int | None = None) -> None:
        super().__init__()
        attention_size = attention_size or input_size
        self.projection = nn.Linear(input_size, attention_size)
        self.score = nn.Linear(attention_size, 1, bias=False)

    def forward(self, outputs: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """outputs: [B, T, D]; lengths: LongTensor[B] (each >= 1).

        Returns pooled [B, D] and weights [B, T]: they sum to one over each row's real tokens and
        are exactly 0 at padding.
        """
        scores = self.score(torch.tanh(self.projection(outputs))).squeeze(-1)  # [B, T]
        mask = padding_mask(lengths.to(outputs.device), outputs.shape[1])
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
        pooled = torch.bmm(weights.unsqueeze(1), outputs).squeeze(1)
        return pooled, weights
