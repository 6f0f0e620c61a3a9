"""Unknown-word replacement: copy the most attended source token in place of each ``<unk>``."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from seqlab.errors import ConfigError


def replace_unk(
    target_tokens: Sequence[str],
    source_tokens: Sequence[str],
    attention: Tensor | Sequence[Sequence[float]] | None,
    unk_token: str = "<unk>",
) -> list[str]:
    """``target_tokens`` with every ``unk_token`` replaced by the source token it attended to most.

    ``attention`` FloatTensor[T, S] (or nested lists): row t is the attention of the step that
    produced ``target_tokens[t]``; T may exceed ``len(target_tokens)`` (e.g. the ``<eos>`` row of a
    :class:`~seqlab.decoding.hypothesis.Hypothesis`). Only the first ``len(source_tokens)`` columns
    compete, so columns without a source token (padding, an appended ``<eos>``) are never copied.
    Without attention (``None``, a model without attention) the tokens come back unchanged.
    """
    tokens = list(target_tokens)
    if attention is None or unk_token not in tokens:
        return tokens
    weights = torch.as_tensor(attention, dtype=torch.float32)
    if weights.dim() != 2 or weights.shape[0] < len(tokens) or weights.shape[1] < len(source_tokens):
        raise ConfigError(
            f"attention: shape {tuple(weights.shape)} does not cover {len(tokens)} target x "
            f"{len(source_tokens)} source tokens"
        )
    if not source_tokens:
        return tokens
    best = weights[: len(tokens), : len(source_tokens)].argmax(dim=1).tolist()
    return [source_tokens[best[t]] if token == unk_token else token for t, token in enumerate(tokens)]
