"""Greedy search that keeps its batch full: a row that ends is replaced by the next sentence.

:func:`seqlab.decoding.search.greedy_search` decodes one batch until its last sentence ends; rows
leave as they produce ``<eos>``, so the batch thins out (on the peers benchmark's dev set, 39 of 64
rows on average) and the matrix products of every step run at fewer rows, below the machine's
matrix-product speed, while each step's fixed cost stays. :func:`greedy_refill_search` takes a
window of many sentences (encoded together) and decodes at most ``width`` of them at a time: each
row that ends is finished and its place goes to the next waiting sentence, which starts from its own
first step. Every row's computation is its own (greedy rows never interact), so each sentence gets
the output that :func:`greedy_search` gives it (tested).

The rules of every step are :func:`seqlab.decoding.step.next_token_scores`'s, with each row's own
step count. Logits processors read the output history of every row at one common length, so this
search takes none (the caller falls back to :func:`greedy_search` when there are processors).

A sentence that starts takes the row of one that ended, in place: its memory rows are copied into
that row (``memory.put_rows``) and nothing else moves, so a step where rows end costs a copy of the
newcomers' rows, not of the whole window's memory (states and attention keys, rows x S x H each).
Only when no sentence is left to start do ended rows leave (the memory is reordered, at most
``width`` times). The window's own memory is never written: the rows' memory is a copy
(``memory.reorder``) whenever a sentence is waiting.

Beyond the decoding protocol (``decode_step``, ``state.reorder``, ``memory.reorder``) it needs
``state.extend(other)`` (the rows of two states in one) and ``memory.put_rows(slots, source, rows)``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from seqlab.decoding.hypothesis import Hypothesis
from seqlab.decoding.step import banned_ids, check_length_tensors, check_token_id, next_token_scores
from seqlab.errors import ConfigError


def greedy_refill_search(
    model: Any,
    memory: Any,
    state: Any,
    *,
    width: int,
    max_lengths: Tensor,
    min_lengths: Tensor,
    bos_id: int,
    eos_id: int,
) -> list[Hypothesis]:
    """Greedy decoding of the N sentences of ``memory`` with at most ``width`` rows at a time ->
    one Hypothesis per sentence, in input order (the same as :func:`greedy_search`'s).

    ``memory`` / ``state``: from ``model.encode`` / ``model.start_state`` for all N sentences;
    ``max_lengths`` / ``min_lengths`` LongTensor[N]: output tokens allowed per sentence. Sentences
    enter in their order in ``memory``: sort them by length for rows that end together.
    """
    total = int(memory.lengths.shape[0])
    _check_arguments(width, max_lengths, min_lengths, total, bos_id, eos_id)
    device = memory.lengths.device
    source_lengths = memory.lengths.tolist()
    banned = banned_ids(model, bos_id, eos_id)
    all_max, all_min = max_lengths.to(device).long(), min_lengths.to(device).long()
    results: list[Hypothesis | None] = [None] * total
    entered = min(width, total)
    rows = _Rows(torch.arange(entered, device=device))
    rows_memory = memory if entered == total else memory.reorder(rows.sentence)
    rows_state = state if entered == total else state.reorder(rows.sentence)
    tokens = torch.full((entered,), bos_id, dtype=torch.long, device=device)
    with torch.no_grad():
        while True:
            logits, rows_state, attention = model.decode_step(tokens, rows_state, rows_memory)
            # the bounds minus each row's own step count (next_token_scores sees one step, 0)
            limits_max = all_max.index_select(0, rows.sentence) - rows.step
            limits_min = all_min.index_select(0, rows.sentence) - rows.step
            log_probs, scores = next_token_scores(
                logits, tokens.new_zeros(tokens.shape[0], 0), 0, limits_min, limits_max, None, eos_id, banned
            )
            tokens = scores.argmax(dim=-1)
            ended_rows = rows.add(tokens, scores, log_probs, attention, eos_id)
            if not ended_rows:
                continue
            _finish(results, ended_rows, rows, source_lengths)
            newcomers = min(len(ended_rows), total - entered)
            if newcomers:  # the next sentences take the rows of the first ones that ended, in place
                new, entered = torch.arange(entered, entered + newcomers, device=device), entered + newcomers
                slots = rows.refill(ended_rows[:newcomers], new)
                rows_memory.put_rows(slots, memory, new)
                rows_state = _put_state_rows(rows_state, tokens.shape[0], slots, state.reorder(new))
                tokens = tokens.index_fill(0, slots, bos_id)
            removed = set(ended_rows[newcomers:])
            if removed:  # no sentence left to start: the decoder thins out
                keep = rows.keep([row for row in range(tokens.shape[0]) if row not in removed])
                if keep is None:
                    break
                rows_memory, rows_state = rows_memory.reorder(keep), rows_state.reorder(keep)
                tokens = tokens.index_select(0, keep)
    assert all(result is not None for result in results)  # every row ends by its maximum length
    return results  # type: ignore[return-value]


def _check_arguments(
    width: int, max_lengths: Tensor, min_lengths: Tensor, total: int, bos_id: int, eos_id: int
) -> None:
    """ConfigError unless ``width`` is an integer >= 1, the ids are token ids and the length
    tensors hold one bound per sentence (``total``)."""
    check_token_id("bos_id", bos_id)
    check_token_id("eos_id", eos_id)
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ConfigError(f"width = {width!r}: must be an integer >= 1")
    check_length_tensors(max_lengths, min_lengths, total)


class _Rows:
    """The rows in the decoder, one entry per row: its sentence (index into the window), the tokens
    it has produced (``step``), its running totals, its output ids and attention rows so far."""

    def __init__(self, sentence: Tensor) -> None:
        self.sentence = sentence
        self.step = torch.zeros_like(sentence)
        self.total_score = torch.zeros(sentence.shape[0], device=sentence.device)
        self.total_log_prob = torch.zeros(sentence.shape[0], device=sentence.device)
        self.outputs: list[list[int]] = [[] for _ in range(sentence.shape[0])]
        self.attentions: list[list[Tensor]] = [[] for _ in range(sentence.shape[0])]

    def add(
        self, tokens: Tensor, scores: Tensor, log_probs: Tensor, attention: Tensor | None, eos_id: int
    ) -> list[int]:
        """Count the chosen ``tokens`` LongTensor[rows] (``scores`` / ``log_probs`` FloatTensor[rows,
        V], ``attention`` FloatTensor[rows, S] or None) -> the rows that chose ``eos_id``; every
        row's step count advances (:meth:`refill` restarts the rows that take a new sentence)."""
        chosen = tokens.unsqueeze(1)
        self.total_score = self.total_score + scores.gather(1, chosen).squeeze(1)
        self.total_log_prob = self.total_log_prob + log_probs.gather(1, chosen).squeeze(1)
        if attention is not None:
            step_attention = attention.float().cpu()
            for row in range(tokens.shape[0]):
                self.attentions[row].append(step_attention[row])
        ended: list[int] = []
        for row, token in enumerate(tokens.tolist()):
            if token == eos_id:
                ended.append(row)
            else:
                self.outputs[row].append(token)
        self.step = self.step + 1
        return ended

    def refill(self, slot_rows: list[int], new: Tensor) -> Tensor:
        """Rows ``slot_rows`` start the sentences ``new`` LongTensor[K] afresh; the other rows keep
        theirs. Returns ``slot_rows`` as a LongTensor."""
        slots = torch.tensor(slot_rows, dtype=torch.long, device=self.sentence.device)
        self.sentence = self.sentence.index_copy(0, slots, new)
        self.step = self.step.index_fill(0, slots, 0)
        self.total_score = self.total_score.index_fill(0, slots, 0.0)
        self.total_log_prob = self.total_log_prob.index_fill(0, slots, 0.0)
        for row in slot_rows:
            self.outputs[row] = []
            self.attentions[row] = []
        return slots

    def keep(self, keep_rows: list[int]) -> Tensor | None:
        """Keep only the rows ``keep_rows``, in that order -> them as a LongTensor (None: no row is
        left, and nothing changes)."""
        if not keep_rows:
            return None
        keep = torch.tensor(keep_rows, dtype=torch.long, device=self.sentence.device)
        self.sentence = self.sentence.index_select(0, keep)
        self.step = self.step.index_select(0, keep)
        self.total_score = self.total_score.index_select(0, keep)
        self.total_log_prob = self.total_log_prob.index_select(0, keep)
        self.outputs = [self.outputs[row] for row in keep_rows]
        self.attentions = [self.attentions[row] for row in keep_rows]
        return keep


def _put_state_rows(rows_state: Any, size: int, slots: Tensor, fresh: Any) -> Any:
    """``rows_state`` (``size`` rows) with its rows ``slots`` LongTensor[K] replaced by the K rows of
    ``fresh`` (through the protocol's ``extend`` and ``reorder``: a state is small, the memory is not)."""
    order = torch.arange(size, device=slots.device)
    order[slots] = torch.arange(size, size + slots.shape[0], device=slots.device)
    return rows_state.extend(fresh).reorder(order)


def _finish(
    results: list[Hypothesis | None], ended: list[int], rows: _Rows, source_lengths: list[int]
) -> None:
    """Store the hypotheses of the ``ended`` rows, which just produced ``<eos>``."""
    index = torch.tensor(ended, dtype=torch.long, device=rows.sentence.device)
    ids = rows.sentence.index_select(0, index).tolist()
    scores = rows.total_score.index_select(0, index).tolist()
    log_probs = rows.total_log_prob.index_select(0, index).tolist()
    for row, i, score, log_prob in zip(ended, ids, scores, log_probs, strict=True):
        attention = None
        if rows.attentions[row]:
            attention = torch.stack(rows.attentions[row])[:, : source_lengths[i]].clone()
        results[i] = Hypothesis(tokens=rows.outputs[row], score=score, log_prob=log_prob, attention=attention)
