"""The token-by-token loop that greedy search and sampling share, spoken through the decoding protocol.

A model takes part by offering ``init_state(batch_size, device)`` and
``decode_step(tokens [B], state, memory=None) -> (logits [B, V], state, attention)``; nothing here
looks at model classes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor, nn

from seqlab.decoding.processors import LogitsProcessor
from seqlab.errors import ConfigError

TokenChooser = Callable[[Tensor], Tensor]
"""Picks the next token of every row: scores FloatTensor[B, V] -> LongTensor[B]."""


@contextmanager
def inference_mode(model: nn.Module) -> Iterator[None]:
    """Run ``model`` in eval mode without gradients, then restore its previous mode."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)


def check_prompt(prompt: Tensor, dims: int) -> None:
    """Raise ConfigError unless ``prompt`` is a non-empty integer tensor with ``dims`` dimensions."""
    if not isinstance(prompt, Tensor) or prompt.dim() != dims or prompt.dtype not in (torch.long, torch.int):
        got = f"{tuple(prompt.shape)} {prompt.dtype}" if isinstance(prompt, Tensor) else type(prompt).__name__
        raise ConfigError(f"prompt: expected a {dims}-D tensor of token ids, got {got}")
    if prompt.shape[-1] == 0:
        raise ConfigError("prompt: has no tokens; give at least one (e.g. the <bos> id)")


def feed_prompt(model: Any, prompt: Tensor) -> tuple[Tensor, Any]:
    """Run the prompt [B, t0] through ``decode_step``; return the last logits [B, V] and the state."""
    state = model.init_state(prompt.shape[0], device=prompt.device)
    logits = None
    for t in range(prompt.shape[1]):
        logits, state, _ = model.decode_step(prompt[:, t], state)
    assert logits is not None  # check_prompt guarantees t0 >= 1
    return logits, state


def decode_loop(
    model: Any,
    prompt: Tensor,
    max_new_tokens: int,
    choose: TokenChooser,
    processors: LogitsProcessor | None = None,
    eos_id: int | None = None,
    *,
    stop_at_eos: bool = True,
    pad_id: int | None = None,
) -> Tensor:
    """Extend ``prompt`` LongTensor[B, t0] by up to ``max_new_tokens`` tokens -> LongTensor[B, t0 + n].

    Each step applies ``processors`` to the float logits (with everything generated so far, the
    prompt included) and lets ``choose`` pick the tokens. A row ends when it produces ``eos_id``
    (unless ``stop_at_eos`` is False: an LM stream goes on past a line end) or when the processors
    ban every token, in which case it gets ``eos_id`` (with no ``eos_id``, that is a ConfigError).
    An ended row emits ``pad_id`` (default ``eos_id``) from then on; the loop stops early once every
    row has ended. The model is put in eval mode under ``torch.no_grad`` for the call and its
    previous mode restored afterwards.
    """
    check_prompt(prompt, 2)
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 0:
        raise ConfigError(f"max_new_tokens = {max_new_tokens!r}: must be an integer >= 0")
    for name, value in (("eos_id", eos_id), ("pad_id", pad_id)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ConfigError(f"{name} = {value!r}: must be an integer >= 0 or None")
    fill = eos_id if pad_id is None else pad_id
    generated = prompt.long()
    if max_new_tokens == 0:
        return generated
    with inference_mode(model):
        logits, state = feed_prompt(model, generated)
        ended = torch.zeros(generated.shape[0], dtype=torch.bool, device=generated.device)
        for step in range(max_new_tokens):
            scores = logits.float()
            if processors is not None:
                scores = processors(scores, generated)
            blocked = ~(scores > -math.inf).any(dim=-1)  # every token banned (or NaN)
            if bool(blocked.any()):
                scores = _eos_only(scores, blocked, eos_id, step)
            tokens = choose(scores)
            if eos_id is not None:
                tokens = tokens.masked_fill(ended, fill)  # type: ignore[arg-type]
                ended = ended | blocked
                if stop_at_eos:
                    ended = ended | (tokens == eos_id)
            generated = torch.cat([generated, tokens.unsqueeze(1)], dim=1)
            if step == max_new_tokens - 1 or bool(ended.all()):
                break
            logits, state, _ = model.decode_step(tokens, state)
    return generated


def _eos_only(scores: Tensor, blocked: Tensor, eos_id: int | None, step: int) -> Tensor:
    """``scores`` FloatTensor[B, V] with the ``blocked`` rows (BoolTensor[B]) left only ``eos_id``."""
    if eos_id is None:
        rows = blocked.nonzero().flatten().tolist()
        raise ConfigError(
            f"new token {step + 1}: every token is banned in row(s) {rows} and no eos_id was given to "
            "end them with: pass eos_id or ban fewer tokens"
        )
    if eos_id >= scores.shape[-1]:
        raise ConfigError(f"eos_id = {eos_id}: must be < the vocabulary size {scores.shape[-1]}")
    eos_only = torch.full_like(scores, -math.inf)
    eos_only[:, eos_id] = 0.0
    return torch.where(blocked.unsqueeze(1), eos_only, scores)
