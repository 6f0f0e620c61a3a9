"""Sampling: draw each next token from the (processed) softmax distribution.

Also home of :func:`generate`, the one entry point for greedy search and sampling, and of
:func:`next_token_distribution`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from seqlab.decoding.greedy import greedy_generate
from seqlab.decoding.loop import TokenChooser, check_prompt, decode_loop, feed_prompt, inference_mode
from seqlab.decoding.processors import LogitsProcessor


def sample_choice(generator: torch.Generator | None = None) -> TokenChooser:
    """A chooser drawing one token per row from softmax(scores) with ``generator`` (seedable)."""

    def choose(scores: Tensor) -> Tensor:
        probs = scores.softmax(dim=-1)
        return torch.multinomial(probs, num_samples=1, generator=generator).squeeze(1)

    return choose


def sample_generate(
    model: Any,
    prompt: Tensor,
    max_new_tokens: int,
    processors: LogitsProcessor | None = None,
    generator: torch.Generator | None = None,
    eos_id: int | None = None,
    *,
    stop_at_eos: bool = True,
    pad_id: int | None = None,
) -> Tensor:
    """Sampled continuation of ``prompt`` LongTensor[B, t0] -> LongTensor[B, t0 + n], n <= max_new_tokens.

    The same ``generator`` seed (a generator on the prompt's device) gives the same output. Shape
    the distribution with processors such as Temperature, TopK and TopP. See
    :func:`seqlab.decoding.loop.decode_loop` for how rows end.
    """
    choose = sample_choice(generator)
    return decode_loop(
        model, prompt, max_new_tokens, choose, processors, eos_id, stop_at_eos=stop_at_eos, pad_id=pad_id
    )


def generate(
    model: Any,
    prompt: Tensor,
    max_new_tokens: int,
    processors: LogitsProcessor | None = None,
    do_sample: bool = False,
    generator: torch.Generator | None = None,
    eos_id: int | None = None,
    *,
    stop_at_eos: bool = True,
    pad_id: int | None = None,
) -> Tensor:
    """Continue ``prompt`` LongTensor[B, t0] by up to ``max_new_tokens`` tokens -> LongTensor[B, t0 + n].

    ``do_sample=False`` is greedy search (argmax after ``processors``); ``do_sample=True`` draws
    from the processed distribution with ``generator``. A row ends when it produces ``eos_id``
    (with ``stop_at_eos``) or when the processors ban every token (it then gets ``eos_id``); an
    ended row emits ``pad_id`` (default ``eos_id``), and generation stops early once every row has
    ended. ``model`` only needs the decoding protocol (``init_state``, ``decode_step``) plus
    ``train``/``eval``: it runs in eval mode under ``torch.no_grad`` and gets its previous mode back
    afterwards.
    """
    ends = dict(stop_at_eos=stop_at_eos, pad_id=pad_id)
    if do_sample:
        return sample_generate(model, prompt, max_new_tokens, processors, generator, eos_id, **ends)
    return greedy_generate(model, prompt, max_new_tokens, processors, eos_id, **ends)


def next_token_distribution(
    model: Any, prompt_ids: Tensor, processors: LogitsProcessor | None = None
) -> Tensor:
    """Probabilities FloatTensor[V] of the token that follows ``prompt_ids`` LongTensor[t0] (t0 >= 1)."""
    check_prompt(prompt_ids, 1)
    prompt = prompt_ids.long().unsqueeze(0)
    with inference_mode(model):
        logits, _ = feed_prompt(model, prompt)
        scores = logits.float()
        if processors is not None:
            scores = processors(scores, prompt)
    return scores.softmax(dim=-1)[0]
