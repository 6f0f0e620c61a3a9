"""Logits processors: composable controls applied to the next-token scores before a token is chosen.

Each maps ``(logits [B, V] float, generated [B, t] long) -> logits [B, V]`` without changing its
input; ``generated`` holds every token of each row so far, the prompt included. A banned token gets
``-inf``. Arguments are checked in ``__init__``; a bad one raises ConfigError naming it, its value
and the valid range (the real-valued ranges are :mod:`seqlab.ranges`). Greedy, sampling and beam
search all share them.

Given finite logits (any float32) and valid arguments, no processor outputs NaN or ``+inf``, and
the ones that do not ban (temperature, repetition penalty) keep each row's best token allowed. A
row may still have every token banned (e.g. unigram blocking once the vocabulary is used up): the
searches end such a row with ``<eos>``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

import torch
from torch import Tensor

from seqlab.errors import ConfigError
from seqlab.ranges import REPETITION_PENALTY, TEMPERATURE, TOP_P


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} = {value!r}: must be an integer >= {minimum}")
    return value


class LogitsProcessor:
    """Base class: ``processor(logits [B, V], generated [B, t]) -> logits [B, V]``."""

    def __call__(self, logits: Tensor, generated: Tensor) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Temperature(LogitsProcessor):
    """Divide the logits by ``temperature`` (in [0.01, 100]): below 1 sharpens the distribution,
    above 1 flattens it.

    Below 1 each row is first shifted by its largest finite logit (softmax, argmax, top-k and top-p
    do not change), so the largest becomes 0 and no logit can overflow to ``+inf``.
    """

    def __init__(self, temperature: float) -> None:
        self.temperature = TEMPERATURE.check("temperature", temperature)

    def __call__(self, logits: Tensor, generated: Tensor) -> Tensor:
        if self.temperature >= 1.0:
            return logits / self.temperature  # magnitudes only shrink
        top = logits.amax(dim=-1, keepdim=True)
        top = torch.where(top.isfinite(), top, torch.zeros_like(top))  # a row with every token banned
        return (logits - top) / self.temperature


class TopK(LogitsProcessor):
    """Keep the ``k`` (>= 1) highest-scoring tokens of each row; ban the rest."""

    def __init__(self, k: int) -> None:
        self.k = _check_int("k", k, 1)

    def __call__(self, logits: Tensor, generated: Tensor) -> Tensor:
        k = min(self.k, logits.shape[-1])
        top = logits.topk(k, dim=-1)
        return torch.full_like(logits, -math.inf).scatter(-1, top.indices, top.values)


class TopP(LogitsProcessor):
    """Nucleus filtering: keep the smallest set of most likely tokens whose probability sums to >= ``p``.

    ``0 < p <= 1``; the most likely token is always kept, and ``p = 1`` keeps everything.
    """

    def __init__(self, p: float) -> None:
        self.p = TOP_P.check("p", p)

    def __call__(self, logits: Tensor, generated: Tensor) -> Tensor:
        if self.p >= 1.0:
            return logits
        sorted_logits, order = logits.sort(dim=-1, descending=True)
        probs = sorted_logits.float().softmax(dim=-1)
        mass_before = probs.cumsum(dim=-1) - probs  # probability of the strictly more likely tokens
        remove_sorted = mass_before >= self.p  # the set before this token already reaches p
        remove_sorted[..., 0] = False
        remove = torch.zeros_like(remove_sorted).scatter(-1, order, remove_sorted)
        return logits.masked_fill(remove, -math.inf)


class RepetitionPenalty(LogitsProcessor):
    """CTRL-style penalty (``penalty`` in [1, 100]) on every token already in ``generated``.

    A positive logit is divided by the penalty and a negative one multiplied, so the token always
    becomes less likely; ``penalty = 1`` changes nothing. A product past the float range stays the
    lowest finite value: the penalty lowers a token, it never bans one.
    """

    def __init__(self, penalty: float) -> None:
        self.penalty = REPETITION_PENALTY.check("penalty", penalty)

    def __call__(self, logits: Tensor, generated: Tensor) -> Tensor:
        if generated.shape[1] == 0 or self.penalty == 1.0:
            return logits
        scores = logits.gather(-1, generated)
        penalised = torch.where(scores > 0, scores / self.penalty, scores * self.penalty)
        lowest = torch.finfo(penalised.dtype).min
        penalised = torch.where(scores == -math.inf, scores, penalised.clamp(min=lowest))
        return logits.scatter(-1, generated, penalised)


class NoRepeatNGram(LogitsProcessor):
    """Ban every token that would complete an ``n``-gram (``n`` >= 1) already present in the row.

    With ``n = 1`` no token may appear twice. Each row of ``generated`` is its own history (e.g. one
    beam hypothesis per row); the check is tensor work over all rows at once.
    """

    def __init__(self, n: int) -> None:
        self.n = _check_int("n", n, 1)

    def banned_tokens(self, row: list[int]) -> set[int]:
        """Tokens that would repeat an n-gram of ``row`` if appended to it (a readable reference)."""
        n = self.n
        if len(row) < n:
            return set()
        prefix = row[len(row) - (n - 1) :]  # the last n - 1 tokens (none for n = 1)
        return {row[i + n - 1] for i in range(len(row) - n + 1) if row[i : i + n - 1] == prefix}

    def banned_mask(self, generated: Tensor, vocab_size: int) -> Tensor:
        """BoolTensor[B, vocab_size]: True where a token would repeat an n-gram of its row."""
        rows, length = generated.shape
        n = self.n
        if length < n:
            return torch.zeros(rows, vocab_size, dtype=torch.bool, device=generated.device)
        windows = generated.unfold(1, n, 1)  # [B, length - n + 1, n]: every n-gram of the row
        prefix = generated[:, length - n + 1 :].unsqueeze(1)  # [B, 1, n - 1]: the last n - 1 tokens
        match = (windows[:, :, : n - 1] == prefix).all(dim=-1)  # [B, W]: n-grams that start like the tail
        # Matching n-grams ban their last token; the others write into a spare column, dropped below.
        column = torch.where(match, windows[:, :, n - 1], vocab_size)
        banned = torch.zeros(rows, vocab_size + 1, dtype=torch.bool, device=generated.device)
        banned.scatter_(1, column, True)
        return banned[:, :vocab_size]

    def __call__(self, logits: Tensor, generated: Tensor) -> Tensor:
        return logits.masked_fill(self.banned_mask(generated.long(), logits.shape[-1]), -math.inf)


class MinLength(LogitsProcessor):
    """Ban ``eos_id`` while a row is shorter than ``min_length`` (>= 0) tokens.

    The length counts the tokens of ``generated`` after the first ``prompt_length`` (default 0: the
    whole sequence, prompt included; pass the prompt length to count new tokens only).
    """

    def __init__(self, min_length: int, eos_id: int, prompt_length: int = 0) -> None:
        self.min_length = _check_int("min_length", min_length, 0)
        self.eos_id = _check_int("eos_id", eos_id, 0)
        self.prompt_length = _check_int("prompt_length", prompt_length, 0)

    def __call__(self, logits: Tensor, generated: Tensor) -> Tensor:
        if generated.shape[1] - self.prompt_length >= self.min_length:
            return logits
        if self.eos_id >= logits.shape[-1]:
            raise ConfigError(f"eos_id = {self.eos_id}: must be < the vocabulary size {logits.shape[-1]}")
        logits = logits.clone()
        logits[:, self.eos_id] = -math.inf
        return logits


class BanTokens(LogitsProcessor):
    """Never produce the given token ids (e.g. ``<pad>``, ``<bos>``, ``<unk>`` in generated text)."""

    def __init__(self, token_ids: Iterable[int]) -> None:
        ids = list(token_ids)
        for token_id in ids:
            _check_int("token_ids[]", token_id, 0)
        self.token_ids = ids

    def __call__(self, logits: Tensor, generated: Tensor) -> Tensor:
        if not self.token_ids:
            return logits
        if max(self.token_ids) >= logits.shape[-1]:
            raise ConfigError(
                f"token_ids = {self.token_ids}: must be < the vocabulary size {logits.shape[-1]}"
            )
        out = logits.clone()
        out[:, self.token_ids] = float("-inf")
        return out


class ProcessorList(LogitsProcessor):
    """Apply several processors in order."""

    def __init__(self, processors: Iterable[LogitsProcessor] = ()) -> None:
        self.processors = list(processors)
        for index, processor in enumerate(self.processors):
            if not callable(processor):
                raise ConfigError(f"processors[{index}] = {processor!r}: must be a LogitsProcessor")

    def __call__(self, logits: Tensor, generated: Tensor) -> Tensor:
        for processor in self.processors:
            logits = processor(logits, generated)
        return logits

    def __len__(self) -> int:
        return len(self.processors)

    def __iter__(self) -> Iterator[LogitsProcessor]:
        return iter(self.processors)
