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

With ``coverage`` (See et al. 2017, eq. 11) each score also reads the coverage ``cov_i``, the
attention source token i has had at the earlier steps: inside the tanh of ``concat``/``additive``
(``v . tanh(W_q q + W_k h + w_c cov_i)``), as a learned multiple ``w_c cov_i`` added to the
``dot``/``general`` score.
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
        self,
        score: str,
        query_size: int,
        memory_size: int,
        attention_size: int | None = None,
        coverage: bool = False,
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
        self.coverage: nn.Parameter | None = None
        if coverage:
            width = self.v.in_features if self.v is not None else 1
            self.coverage = nn.Parameter(torch.zeros(width))

    def keys(self, states: Tensor) -> Tensor | None:
        """The source-only part of the score, computed once per sentence: [B, S, K] (None for dot)."""
        return None if self.key_proj is None else self.key_proj(states)

    def scores(
        self, query: Tensor, states: Tensor, keys: Tensor | None, coverage: Tensor | None = None
    ) -> Tensor:
        """Raw scores [B, T, S] of queries [B, T, Hd] against the states [B, S, He]; ``coverage``
        [B, T, S] with a coverage attention (see the module doc)."""
        if self.coverage is not None and coverage is None:
            raise ValueError("a coverage attention needs the coverage of each source token")
        if self.score in ("dot", "general"):
            if self.score == "dot":
                scores = torch.bmm(query, states.transpose(1, 2))
            else:
                keys = self.keys(states) if keys is None else keys
                scores = torch.bmm(query, keys.transpose(1, 2))
            if self.coverage is not None and coverage is not None:
                scores = scores + self.coverage * coverage.to(scores.dtype)
            return scores
        if keys is None:
            keys = self.keys(states)
        assert self.query_proj is not None and self.v is not None
        # [B, T, 1, K] + [B, 1, S, K] -> [B, T, S, K] -> [B, T, S]
        hidden = self.query_proj(query).unsqueeze(2) + keys.unsqueeze(1)
        if self.coverage is not None and coverage is not None:
            hidden = hidden + coverage.to(hidden.dtype).unsqueeze(-1) * self.coverage
        return self.v(torch.tanh(hidden)).squeeze(-1)

    def forward(
        self,
        query: Tensor,
        states: Tensor,
        mask: Tensor,
        keys: Tensor | None = None,
        coverage: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        weights = masked_softmax(self.scores(query, states, keys, coverage), mask)
        context = torch.bmm(weights.to(states.dtype), states)
        return context, weights
