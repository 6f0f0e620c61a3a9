"""Attention over the encoder states: Bahdanau's additive score and Luong's dot, general and concat.

Every module scores all target steps at once: queries FloatTensor[B, T, Hd] against the memory
states [B, S, He] give weights [B, T, S] and contexts [B, T, He] in one batched operation (one step
is T = 1). The weights come from :func:`masked_softmax`: each row sums to one over the real source
tokens and is exactly zero at padding. The part of the score that depends only on the source is
computed once per sentence (:meth:`Attention.keys`) and cached in the
:class:`~seqlab.models.encoder.EncoderMemory`.

- ``dot`` (Luong): ``score(q, h) = q . h`` (needs Hd == He).
- ``general`` (Luong): ``score(q, h) = q . W h``.
- ``concat`` (Luong) and ``bahdanau`` (additive): ``score(q, h) = v . tanh(W_q q + W_k h)``.
  The two differ in the query the decoder passes: Luong's current top hidden state, Bahdanau's
  previous one (see :mod:`seqlab.models.decoder`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seqlab.errors import ConfigError

SCORES = ("dot", "general", "concat", "additive")


def masked_softmax(scores: Tensor, mask: Tensor) -> Tensor:
    """Softmax over the last axis of ``scores`` [B, T, S] where ``mask`` [B, S] is True.

    Rows sum to one over the real positions; padded positions get exactly 0. Computed in float32.
    Every row needs at least one real position (sources are never empty).
    """
    keep = mask.unsqueeze(1)
    weights = torch.softmax(scores.float().masked_fill(~keep, float("-inf")), dim=-1)
    return weights.masked_fill(~keep, 0.0)


class Attention(nn.Module):
    """One scoring function. ``forward(query [B, T, Hd], states [B, S, He], mask [B, S], keys)``
    -> ``(context [B, T, He], weights [B, T, S])``."""

    def __init__(
        self, score: str, query_size: int, memory_size: int, attention_size: int | None = None
    ) -> None:
        super().__init__()
        if score not in SCORES:
            raise ConfigError(f"attention score = {score!r}: must be one of {', '.join(SCORES)}")
        if score == "dot" and query_size != memory_size:
            raise ConfigError(
                f"dot attention needs queries as wide as the memory states "
                f"(got {query_size} and {memory_size})"
            )
        self.score = score
        self.key_proj: nn.Linear | None = None
        self.query_proj: nn.Linear | None = None
        self.v: nn.Linear | None = None
        if score == "general":
            self.key_proj = nn.Linear(memory_size, query_size, bias=False)
        elif score in ("concat", "additive"):
            size = attention_size or query_size
            self.key_proj = nn.Linear(memory_size, size, bias=False)
            self.query_proj = nn.Linear(query_size, size, bias=True)
            self.v = nn.Linear(size, 1, bias=False)

    def keys(self, states: Tensor) -> Tensor | None:
        """The source-only part of the score, computed once per sentence: [B, S, K] (None for dot)."""
        return None if self.key_proj is None else self.key_proj(states)

    def scores(self, query: Tensor, states: Tensor, keys: Tensor | None) -> Tensor:
        """Raw scores [B, T, S] of queries [B, T, Hd] against the states [B, S, He]."""
        if self.score == "dot":
            return torch.bmm(query, states.transpose(1, 2))
        if keys is None:
            keys = self.keys(states)
        if self.score == "general":
            return torch.bmm(query, keys.transpose(1, 2))
        assert self.query_proj is not None and self.v is not None
        # [B, T, 1, K] + [B, 1, S, K] -> [B, T, S, K] -> [B, T, S]
        hidden = torch.tanh(self.query_proj(query).unsqueeze(2) + keys.unsqueeze(1))
        return self.v(hidden).squeeze(-1)

    def forward(
        self, query: Tensor, states: Tensor, mask: Tensor, keys: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        weights = masked_softmax(self.scores(query, states, keys), mask)
        context = torch.bmm(weights.to(states.dtype), states)
        return context, weights
