"""Greedy search and sampling for encoder-decoder models, over the decoding protocol.

Both take what the caller got from ``model.encode`` and ``model.start_state`` for a batch of B
sentences and return one :class:`Hypothesis` per sentence. Rows leave the compute as soon as they
produce ``<eos>`` (the batch shrinks: state and memory are reordered with ``.reorder``). The rules
of every step (banned ids, processors, minimum and maximum length, forced ``<eos>``) are those of
:func:`seqlab.decoding.step.next_token_scores`. The caller puts the model in eval mode; the search
runs under ``torch.no_grad``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from seqlab.decoding.hypothesis import Hypothesis
from seqlab.decoding.processors import LogitsProcessor, ProcessorList, Temperature, TopK, TopP
from seqlab.decoding.step import (
    banned_ids,
    check_length_tensors,
    check_prefix,
    check_token_id,
    next_token_scores,
    sentence_attention,
)
from seqlab.errors import ConfigError

Chooser = Callable[[Tensor], Tensor]
"""Picks each row's next token: scores FloatTensor[R, V] (-inf = banned) -> LongTensor[R]."""


def greedy_search(
    model: Any,
    memory: Any,
    state: Any,
    *,
    max_lengths: Tensor,
    min_lengths: Tensor,
    processors: LogitsProcessor | None = None,
    bos_id: int,
    eos_id: int,
    prefix: Tensor | None = None,
) -> list[Hypothesis]:
    """Greedy decoding of B sentences -> one Hypothesis per sentence, in input order.

    ``memory`` / ``state``: from ``model.encode`` / ``model.start_state`` for the B sentences.
    ``max_lengths`` / ``min_lengths`` LongTensor[B]: output tokens allowed per sentence (``<eos>``
    not counted; see :func:`seqlab.decoding.step.length_limits`). Each step takes the highest score
    after the processors (the lowest id on ties). ``score`` is the sum of the processed
    log-probabilities of the chosen tokens, ``log_prob`` the model's. ``prefix`` LongTensor[B, t0]
    (default none): tokens the processors see before each row's output (a language model's prompt);
    they count towards no length and are not part of the hypotheses.
    """
    return _sequential_search(
        model, memory, state, max_lengths, min_lengths, processors, bos_id, eos_id, _argmax, prefix
    )


def sample_search(
    model: Any,
    memory: Any,
    state: Any,
    *,
    max_lengths: Tensor,
    min_lengths: Tensor,
    processors: LogitsProcessor | None = None,
    bos_id: int,
    eos_id: int,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    generator: torch.Generator | None = None,
    prefix: Tensor | None = None,
) -> list[Hypothesis]:
    """Sampling of B sentences -> one Hypothesis per sentence, in input order.

    Like :func:`greedy_search`, but each token is drawn from softmax of the processed scores after
    ``Temperature(temperature)``, ``TopK(top_k)`` (0 = off) and ``TopP(top_p)`` (1 = off), with
    ``generator`` (a seeded generator on the model's device gives the same output every time).
    ``score`` is the sum of the processed log-probabilities before temperature, top-k and top-p.
    """
    shaping: list[LogitsProcessor] = [Temperature(temperature)]
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0:
        raise ConfigError(f"top_k = {top_k!r}: must be an integer >= 0 (0 = off)")
    if top_k > 0:
        shaping.append(TopK(top_k))
    shaping.append(TopP(top_p))
    shape = ProcessorList(shaping)

    def draw(scores: Tensor) -> Tensor:
        probs = shape(scores, scores.new_zeros(scores.shape[0], 0, dtype=torch.long)).softmax(dim=-1)
        return torch.multinomial(probs, num_samples=1, generator=generator).squeeze(1)

    return _sequential_search(
        model, memory, state, max_lengths, min_lengths, processors, bos_id, eos_id, draw, prefix
    )


def _argmax(scores: Tensor) -> Tensor:
    return scores.argmax(dim=-1)


@dataclass
class _Rows:
    """The rows still decoding, one entry per row: its sentence (index into the batch), length
    bounds, token history (prefix first) and running totals of processed and model log-probabilities;
    ``attention`` FloatTensor[rows, steps, S] once the model returns attention."""

    sentence: Tensor
    row_max: Tensor
    row_min: Tensor
    history: Tensor
    total_score: Tensor
    total_log_prob: Tensor
    attention: Tensor | None = None

    def add(self, tokens: Tensor, scores: Tensor, log_probs: Tensor, attention: Tensor | None) -> None:
        """Count the chosen ``tokens`` LongTensor[rows] in the totals (``scores`` / ``log_probs``
        FloatTensor[rows, V]) and append this step's ``attention`` FloatTensor[rows, S]."""
        chosen = tokens.unsqueeze(1)
        self.total_score = self.total_score + scores.gather(1, chosen).squeeze(1)
        self.total_log_prob = self.total_log_prob + log_probs.gather(1, chosen).squeeze(1)
        if attention is not None:
            step = attention.float().unsqueeze(1)
            self.attention = step if self.attention is None else torch.cat([self.attention, step], dim=1)

    def keep(self, index: Tensor) -> None:
        """Keep only the rows at ``index`` LongTensor[kept]."""
        for name in ("sentence", "row_max", "row_min", "history", "total_score", "total_log_prob"):
            setattr(self, name, getattr(self, name)[index])
        if self.attention is not None:
            self.attention = self.attention[index]


def _sequential_search(
    model: Any,
    memory: Any,
    state: Any,
    max_lengths: Tensor,
    min_lengths: Tensor,
    processors: LogitsProcessor | None,
    bos_id: int,
    eos_id: int,
    choose: Chooser,
    prefix: Tensor | None = None,
) -> list[Hypothesis]:
    """One token per row per step; a row leaves the batch when it chooses ``<eos>``."""
    check_token_id("bos_id", bos_id)
    check_token_id("eos_id", eos_id)
    batch_size = int(memory.lengths.shape[0])
    check_length_tensors(max_lengths, min_lengths, batch_size)
    device = memory.lengths.device
    source_lengths = memory.lengths.tolist()
    banned = banned_ids(model, bos_id, eos_id)
    results: list[Hypothesis | None] = [None] * batch_size
    history = check_prefix(prefix, batch_size, device)
    start = history.shape[1]  # the prefix: seen by the processors, not part of the output
    rows = _Rows(
        sentence=torch.arange(batch_size, device=device),
        row_max=max_lengths.to(device).long(),
        row_min=min_lengths.to(device).long(),
        history=history,
        total_score=torch.zeros(batch_size, device=device),
        total_log_prob=torch.zeros(batch_size, device=device),
    )
    tokens = torch.full((batch_size,), bos_id, dtype=torch.long, device=device)
    step = 0
    with torch.no_grad():
        while True:
            logits, state, attention = model.decode_step(tokens, state, memory)
            log_probs, scores = next_token_scores(
                logits, rows.history, step, rows.row_min, rows.row_max, processors, eos_id, banned
            )
            tokens = choose(scores)
            rows.add(tokens, scores, log_probs, attention)
            ended = tokens == eos_id
            if bool(ended.any()):
                _finish(
                    results, ended.nonzero().squeeze(1), rows.sentence, rows.history[:, start:],
                    rows.total_score, rows.total_log_prob, rows.attention, source_lengths,
                )  # fmt: skip
                if bool(ended.all()):
                    break
                keep = (~ended).nonzero().squeeze(1)
                rows.keep(keep)
                tokens = tokens[keep]
                state, memory = state.reorder(keep), memory.reorder(keep)
            rows.history = torch.cat([rows.history, tokens.unsqueeze(1)], dim=1)
            step += 1
    assert all(result is not None for result in results)  # every row ends by its maximum length
    return results  # type: ignore[return-value]


def _finish(
    results: list[Hypothesis | None],
    rows: Tensor,
    sentence: Tensor,
    history: Tensor,
    total_score: Tensor,
    total_log_prob: Tensor,
    attention_history: Tensor | None,
    source_lengths: list[int],
) -> None:
    """Store the hypotheses of the rows that just produced ``<eos>``."""
    ids = sentence[rows].tolist()
    token_lists = history[rows].tolist()
    scores = total_score[rows].tolist()
    log_probs = total_log_prob[rows].tolist()
    attentions: list[Tensor | None] = [None] * len(ids)
    if attention_history is not None:
        attentions = list(sentence_attention(attention_history[rows], [source_lengths[i] for i in ids]))
    for i, tokens, score, log_prob, attention in zip(
        ids, token_lists, scores, log_probs, attentions, strict=True
    ):
        results[i] = Hypothesis(tokens=tokens, score=score, log_prob=log_prob, attention=attention)
