"""A language model behind the encoder-decoder decoding protocol, so that the one search stack of
:mod:`seqlab.decoding` (greedy, sampling, beam) serves language models too.

``encode(prompts, lengths)`` reads each prompt (right-padded ids) from the model's start state and
keeps, per row, the state after its own last token and the logits that state predicts.
``start_state`` hands both to the search: the search's first ``decode_step`` answers with those
logits without running the model (the token the search feeds there is not read), and every later
step is the model's own ``decode_step``. No attention (None).

With ``end_column`` the logits get one extra column, id V (the vocabulary size), at a logit no real
token is ever below: an end of output that the model never prefers. A search given V as its
``eos_id`` then runs every row to its maximum length, ending it early only when the processors ban
every real token; the model's ``<eos>`` (a line end in a stream) is an ordinary token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from seqlab.models.state import RecurrentState


@dataclass
class PromptMemory:
    """The "memory" of a prompted LM: the prompt lengths LongTensor[B], ``mask`` BoolTensor[B, S]
    (True at real prompt tokens) and, until the search starts, the state after each prompt."""

    lengths: Tensor
    mask: Tensor
    start: PromptState | None = None

    def reorder(self, indices: Tensor) -> PromptMemory:
        indices = indices.to(self.lengths.device)
        start = None if self.start is None else self.start.reorder(indices)
        return PromptMemory(self.lengths[indices], self.mask[indices], start)


@dataclass
class PromptState:
    """The state after each prompt and the logits FloatTensor[B, V] it predicts (the first step's)."""

    state: Any
    logits: Tensor

    def reorder(self, indices: Tensor) -> PromptState:
        return PromptState(self.state.reorder(indices), self.logits[indices])


class PromptedLanguageModel:
    """``model`` (``init_state``, ``decode_step(tokens, state) -> logits, state, _`` and its forward
    ``model(ids [B, T], state) -> logits [B, T, V], state``, which reads the prompts) behind the
    encoder-decoder protocol. ``bos_id`` / ``eos_id`` / ``pad_id`` are what the search reads (the
    search bans ``bos_id`` and ``pad_id``; None bans nothing)."""

    def __init__(
        self,
        model: Any,
        *,
        bos_id: int,
        eos_id: int,
        pad_id: int | None = None,
        end_column: bool = False,
        line_start: int | None = None,
        then: int | None = None,
    ) -> None:
        self.model, self.end_column = model, end_column
        self.line_start, self.then = line_start, then
        self.bos_id, self.eos_id, self.pad_id = bos_id, eos_id, pad_id

    @torch.no_grad()
    def encode(self, src: Tensor, src_lengths: Tensor) -> PromptMemory:
        """src LongTensor[B, S] (right-padded prompt ids), src_lengths LongTensor[B] -> memory holding
        each row's state and logits after its own last token. Each row is read after ``line_start``
        and followed by ``then`` where these are set (lm_sep: ``<eos> source <sep>``); it must
        then have >= 1 token. ``memory.lengths`` are ``src_lengths``.

        The prompts are read by the model's own forward (``model(ids [B, T], state) -> logits
        [B, T, V], state``: the fused recurrent layers that training runs), one call per distinct
        prompt length: rows read together up to the shortest remaining length, the rows that end
        there keep their state and last logits, the rest read on from that state."""
        device = src.device
        given = src_lengths.to(device)
        src, lengths = self._frame(src, given)
        logits, state = self._read(src, lengths, self.model.init_state(src.shape[0], device=device))
        mask = torch.arange(src_lengths.max(), device=device).unsqueeze(0) < given.unsqueeze(1)
        return PromptMemory(given, mask, PromptState(STATELESS if state is None else state, logits))

    def _read(self, src: Tensor, lengths: Tensor, state: Any) -> tuple[Tensor, Any]:
        """src LongTensor[B, S], lengths LongTensor[B] (each >= 1), state at the line start ->
        (logits FloatTensor[B, V] after each row's last token, the state there)."""
        rows = torch.arange(src.shape[0], device=src.device)  # the rows still reading
        logits: Tensor | None = None
        final: Any = None
        start = 0
        for end in sorted(set(lengths.tolist())):
            step_logits, state = self.model(src[rows, start:end], state)
            done = lengths[rows] == end
            if logits is None:
                logits = step_logits.new_empty((src.shape[0], step_logits.shape[-1]))
                final = None if state is None else _empty_like_rows(state, src.shape[0])
            logits[rows[done]] = step_logits[done, -1]
            if state is not None:
                _put_rows(final, rows[done], state.reorder(done.nonzero().squeeze(1)))
            keep = (~done).nonzero().squeeze(1)
            rows, start = rows[keep], end
            if state is not None and len(rows):
                state = state.reorder(keep)
        assert logits is not None  # the caller checks that prompts have tokens
        return logits, final

    def _frame(self, src: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """``src`` with ``line_start`` before and ``then`` after each row -> (ids, lengths)."""
        if self.line_start is not None:
            start = torch.full_like(src[:, :1], self.line_start)
            src, lengths = torch.cat([start, src], dim=1), lengths + 1
        if self.then is not None:
            src = torch.cat([src, torch.zeros_like(src[:, :1])], dim=1)
            src = src.scatter(1, lengths.unsqueeze(1), self.then)
            lengths = lengths + 1
        return src, lengths

    def start_state(self, memory: PromptMemory) -> PromptState:
        assert memory.start is not None  # encode() sets it
        return memory.start

    def decode_step(self, tokens: Tensor, state: Any, memory: PromptMemory) -> tuple[Tensor, Any, None]:
        """tokens LongTensor[R] -> (logits FloatTensor[R, V (+1 with ``end_column``)], state, None)."""
        if isinstance(state, PromptState):  # the first step: the prompt already predicted it
            logits, state = state.logits, state.state
        else:
            logits, state, _ = self.model.decode_step(tokens, None if state is STATELESS else state)
        state = STATELESS if state is None else state
        if self.end_column:
            logits = F.pad(logits, (0, 1), value=torch.finfo(logits.dtype).min / 2)
        return logits, state, None


class _Stateless:
    """The state of a model that keeps none (``None``), with the ``reorder`` searches call."""

    def reorder(self, indices: Tensor) -> _Stateless:
        return self


STATELESS = _Stateless()


def _empty_like_rows(state: RecurrentState, batch: int) -> RecurrentState:
    """An uninitialised state of ``batch`` rows shaped like ``state`` (tensors [L, B, H])."""
    h = state.h.new_empty((state.h.shape[0], batch, state.h.shape[2]))
    return RecurrentState(h, None if state.c is None else torch.empty_like(h))


def _put_rows(into: RecurrentState, rows: Tensor, part: RecurrentState) -> None:
    """Write ``part``'s rows (dimension 1) into ``into`` at ``rows``."""
    into.h[:, rows] = part.h
    if into.c is not None and part.c is not None:
        into.c[:, rows] = part.c
