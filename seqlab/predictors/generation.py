"""Language-model generation over the one search stack: a prompt tensor in, continuations out.

:func:`continuations` puts the model behind :class:`~seqlab.predictors.prompted.PromptedLanguageModel`
and runs the search its :class:`~seqlab.decoding.options.SearchOptions` select (greedy, sampling or
beam) with the prompt as every row's history (the processors see it). :func:`generate` is the tensor
form the tests and scripts use; :func:`next_token_distribution` the next token's probabilities.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from seqlab.decoding.hypothesis import Hypothesis
from seqlab.decoding.options import SearchOptions, search
from seqlab.decoding.processors import LogitsProcessor
from seqlab.decoding.step import inference_mode
from seqlab.errors import ConfigError
from seqlab.predictors.prompted import PromptedLanguageModel


def check_prompt(prompt: Tensor, dims: int) -> None:
    """Raise ConfigError unless ``prompt`` is a non-empty integer tensor with ``dims`` dimensions."""
    if not isinstance(prompt, Tensor) or prompt.dim() != dims or prompt.dtype not in (torch.long, torch.int):
        got = f"{tuple(prompt.shape)} {prompt.dtype}" if isinstance(prompt, Tensor) else type(prompt).__name__
        raise ConfigError(f"prompt: expected a {dims}-D tensor of token ids, got {got}")
    if prompt.shape[-1] == 0:
        raise ConfigError("prompt: has no tokens; give at least one (e.g. the <bos> id)")


def check_beam(beam_size: int, num_samples: int, **sampling: object) -> None:
    """ConfigError unless ``beam_size`` >= 1, and beam search (> 1) comes without ``sampling``
    controls and with at most ``beam_size`` outputs (its n-best)."""
    if isinstance(beam_size, bool) or not isinstance(beam_size, int) or beam_size < 1:
        raise ConfigError(f"beam_size = {beam_size!r}: must be an integer >= 1")
    if beam_size == 1:
        return
    given = [name for name, value in sampling.items() if value is not None]
    if given:
        raise ConfigError(f"beam_size = {beam_size}: beam search does not sample; drop {', '.join(given)}")
    if num_samples > beam_size:
        raise ConfigError(f"num_samples = {num_samples}: at most beam_size ({beam_size}) with beam search")


def continuations(
    model: Any,
    prompt: Tensor,
    max_new_tokens: int,
    opts: SearchOptions,
    processors: LogitsProcessor | None = None,
    eos_id: int | None = None,
    *,
    stop_at_eos: bool = True,
    generator: torch.Generator | None = None,
    banned_id: int | None = None,
) -> list[list[Hypothesis]]:
    """Continue every row of ``prompt`` LongTensor[B, t0] (t0 >= 1) -> per row its hypotheses, best
    first (one for greedy and sampling, up to ``opts.n_best`` for beam).

    A hypothesis's ``tokens`` are its new tokens (at most ``max_new_tokens``). With ``stop_at_eos``
    (and an ``eos_id``) a row ends at ``<eos>``, which its tokens leave out; otherwise ``<eos>`` is
    an ordinary token and a row ends at ``max_new_tokens`` or where the processors ban every token
    (then it has fewer tokens: :func:`ended_early`). Such a row ends on ``banned_id``, an id
    the processors always ban (a predictor's ``<pad>``), or where there is none on an extra column
    of the logits (:class:`~seqlab.predictors.prompted.PromptedLanguageModel`'s ``end_column``;
    sampling then draws from V + 1 entries, so a seed gives other tokens than with ``banned_id``).
    ``opts.min_length`` new tokens come before an
    ``<eos>`` that ends a row. Sampling draws with ``generator`` (default: one seeded with
    ``opts.seed``, if set). The caller puts the model in eval mode under ``torch.no_grad``.
    """
    batch = prompt.shape[0]
    lengths = torch.full((batch,), prompt.shape[1], dtype=torch.long, device=prompt.device)
    adapter = PromptedLanguageModel(model, bos_id=0, eos_id=0)
    memory = adapter.encode(prompt, lengths)
    assert memory.start is not None
    vocab = memory.start.logits.shape[-1]
    if eos_id is not None and eos_id >= vocab:
        raise ConfigError(f"eos_id = {eos_id}: must be < the vocabulary size {vocab}")
    end = eos_id if eos_id is not None and stop_at_eos else vocab if banned_id is None else banned_id
    adapter.end_column = end == vocab  # an extra column, id vocab, ends the rows
    adapter.bos_id = adapter.eos_id = end  # the first fed token is not read; nothing else is banned
    return search(
        adapter, memory, adapter.start_state(memory), opts,
        max_lengths=torch.full_like(lengths, max_new_tokens),
        min_lengths=torch.full_like(lengths, min(opts.min_length, max_new_tokens)),
        processors=processors, bos_id=end, eos_id=end, prefix=prompt, generator=generator,
    )  # fmt: skip


def ended_early(hypothesis: Hypothesis, max_new_tokens: int) -> bool:
    """Whether a hypothesis of :func:`continuations` ended before ``max_new_tokens`` (at ``<eos>``,
    or because every token was banned)."""
    return len(hypothesis.tokens) < max_new_tokens


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
    (with ``stop_at_eos``) or when the processors ban every token (it then gets ``eos_id``; with no
    ``eos_id`` that is a ConfigError); an ended row emits ``pad_id`` (default ``eos_id``), and n is
    the longest row. ``model`` needs ``init_state`` and ``decode_step`` plus ``train``/``eval``: it
    runs in eval mode under ``torch.no_grad`` and gets its previous mode back afterwards.
    """
    check_prompt(prompt, 2)
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 0:
        raise ConfigError(f"max_new_tokens = {max_new_tokens!r}: must be an integer >= 0")
    for name, value in (("eos_id", eos_id), ("pad_id", pad_id)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ConfigError(f"{name} = {value!r}: must be an integer >= 0 or None")
    prompt = prompt.long()
    if max_new_tokens == 0:
        return prompt
    opts = SearchOptions(beam_size=1, sampling=do_sample, min_length=0)
    with inference_mode(model):
        found = continuations(
            model,
            prompt,
            max_new_tokens,
            opts,
            processors,
            eos_id,
            stop_at_eos=stop_at_eos,
            generator=generator,
        )
    rows = []
    for index, (hyp,) in enumerate(found):
        row = list(hyp.tokens)
        if ended_early(hyp, max_new_tokens):
            if eos_id is None:
                raise ConfigError(
                    f"new token {len(row) + 1}: every token is banned in row(s) [{index}] and no eos_id "
                    "was given to end them with: pass eos_id or ban fewer tokens"
                )
            row.append(eos_id)
        rows.append(row)
    fill = eos_id if pad_id is None else pad_id
    width = max(len(row) for row in rows)
    out = torch.full((len(rows), width), -1 if fill is None else fill, dtype=torch.long)
    for index, row in enumerate(rows):
        out[index, : len(row)] = torch.tensor(row, dtype=torch.long)
    return torch.cat([prompt, out.to(prompt.device)], dim=1)


def next_token_distribution(
    model: Any, prompt_ids: Tensor, processors: LogitsProcessor | None = None
) -> Tensor:
    """Probabilities FloatTensor[V] of the token that follows ``prompt_ids`` LongTensor[t0] (t0 >= 1)."""
    check_prompt(prompt_ids, 1)
    prompt = prompt_ids.long().unsqueeze(0)
    adapter = PromptedLanguageModel(model, bos_id=0, eos_id=0)
    with inference_mode(model):
        memory = adapter.encode(prompt, torch.tensor([prompt.shape[1]], device=prompt.device))
        assert memory.start is not None
        scores = memory.start.logits.float()
        if processors is not None:
            scores = processors(scores, prompt)
    return scores.softmax(dim=-1)[0]
