"""Batched beam search for encoder-decoder models, over the decoding protocol.

All active sentences x ``beam_size`` hypotheses go through one ``decode_step`` call per step (row
``a * beam_size + k`` is hypothesis k of active sentence a; the first step runs on one ``<bos>`` row
per sentence). Every step, for each sentence:

1. each row's next-token scores come from :func:`seqlab.decoding.step.next_token_scores` (banned
   ids, processors with the row's own history, minimum length, forced ``<eos>`` at the maximum
   length or when every token is banned), added to the row's running score;
2. one ``topk`` over the sentence's ``beam_size * V`` candidates keeps the best ``2 * beam_size``
   (at most ``beam_size`` of them are ``<eos>``, one per row, so ``beam_size`` others remain);
3. the ``<eos>`` candidates among the first ``beam_size`` with a finite score become finished
   hypotheses, scored with the length and coverage penalties (:mod:`seqlab.decoding.penalties`);
4. the first ``beam_size`` other candidates go on (a ``-inf`` one is a dead row that never finishes).

A sentence is done when it has ``beam_size`` finished hypotheses, reached its maximum length, or has
no live hypothesis left; without a length penalty also as soon as its best live hypothesis scores no
better than its ``n_best``-th finished one (a running score never rises: every step adds a
log-probability and the coverage penalty is never positive, so nothing still live could enter the
n-best list; the output is exactly that of searching on). Its rows then leave the compute (the
batch shrinks and the state and memory are reordered with ``.reorder``). Hypotheses within a step
rank by running score, which the length penalty cannot reorder (they share a length) and the
coverage penalty only changes on finishing, as in OpenNMT-py. All of this is tensor work per step;
Python loops only over finished hypotheses (and, in diverse beam search, over the groups: see
:mod:`seqlab.decoding.diversity`; each (sentence, group) is then a sentence of its own here).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from seqlab.decoding.diversity import check_groups, expand_groups, hamming_penalty, merge_groups
from seqlab.decoding.hypothesis import Hypothesis
from seqlab.decoding.penalties import CoveragePenalty, LengthPenalty
from seqlab.decoding.processors import LogitsProcessor
from seqlab.decoding.step import (
    banned_ids,
    check_length_tensors,
    check_prefix,
    check_token_id,
    next_token_scores,
    sentence_attention,
)
from seqlab.errors import ConfigError


def beam_search(
    model: Any,
    memory: Any,
    state: Any,
    *,
    beam_size: int,
    max_lengths: Tensor,
    min_lengths: Tensor,
    length_penalty: LengthPenalty | None = None,
    coverage_penalty: float = 0.0,
    processors: LogitsProcessor | None = None,
    n_best: int = 1,
    bos_id: int,
    eos_id: int,
    stop_early: bool = True,
    prefix: Tensor | None = None,
    diverse_groups: int = 1,
    diversity_strength: float = 0.0,
) -> list[list[Hypothesis]]:
    """Beam search over B sentences -> per sentence (input order) up to ``n_best`` hypotheses, best first.

    ``memory`` / ``state``: from ``model.encode`` / ``model.start_state`` for the B sentences (one
    row each; the search expands them to ``beam_size`` rows). ``max_lengths`` / ``min_lengths``
    LongTensor[B]: output tokens allowed per sentence, ``<eos>`` not counted (see
    :func:`seqlab.decoding.step.length_limits`). ``length_penalty`` (default none) and
    ``coverage_penalty`` (Wu et al.'s beta, 0 = off; needs a model that returns attention) set the
    score of a finished hypothesis. ``processors`` see each hypothesis's own output tokens.
    ``beam_size=1`` gives the same output as :func:`seqlab.decoding.search.greedy_search`, and the
    result for a sentence does not depend on the other sentences in the batch. The caller puts the
    model in eval mode; the search runs under ``torch.no_grad``. ``stop_early=False`` turns off
    the n-best stop of the module doc (the same output after more steps; for checking it).
    ``prefix`` LongTensor[B, t0] (default none): tokens the processors see before each row's
    output (a language model's prompt), not part of the hypotheses. ``diverse_groups`` (default 1:
    plain beam search; must divide ``beam_size``) and ``diversity_strength`` (>= 0) make it diverse
    beam search (:mod:`seqlab.decoding.diversity`): each group keeps ``beam_size / diverse_groups``
    hypotheses and contributes its best ``min(n_best, beam_size / diverse_groups)``. The n-best stop
    then applies to each group only with ``diversity_strength = 0`` (a group that stops would change
    the penalties of the groups after it).
    """
    length_penalty = _check_widths(beam_size, n_best, length_penalty)
    coverage = CoveragePenalty(coverage_penalty)
    check_token_id("bos_id", bos_id)
    check_token_id("eos_id", eos_id)
    groups, strength = check_groups(beam_size, diverse_groups, diversity_strength)
    batch_size = int(memory.lengths.shape[0])
    check_length_tensors(max_lengths, min_lengths, batch_size)
    group_size = beam_size // groups
    with torch.no_grad():
        prefix = check_prefix(prefix, batch_size, memory.lengths.device)
        memory, state, max_lengths, min_lengths, prefix = expand_groups(
            groups, memory, state, max_lengths, min_lengths, prefix
        )
        search = _BeamSearch(model, memory, state, group_size, max_lengths, min_lengths, bos_id, eos_id)
        search.groups, search.strength = groups, strength
        search.history, search.start = prefix, prefix.shape[1]
        # scores only fall without length normalisation: stop a sentence once its n-best are fixed
        exact = stop_early and length_penalty.kind == "none" and (groups == 1 or strength == 0)
        search.stop_at_n_best = min(n_best, group_size) if exact else None
        finished = search.run(length_penalty, coverage, processors)
    return merge_groups(finished, groups, n_best, group_size)


def _check_widths(beam_size: int, n_best: int, length_penalty: LengthPenalty | None) -> LengthPenalty:
    """ConfigError unless 1 <= n_best <= beam_size (integers); the length penalty (default none)."""
    if isinstance(beam_size, bool) or not isinstance(beam_size, int) or beam_size < 1:
        raise ConfigError(f"beam_size = {beam_size!r}: must be an integer >= 1")
    if isinstance(n_best, bool) or not isinstance(n_best, int) or not 1 <= n_best <= beam_size:
        raise ConfigError(f"n_best = {n_best!r}: must be an integer in [1, beam_size = {beam_size}]")
    length_penalty = LengthPenalty("none") if length_penalty is None else length_penalty
    if not isinstance(length_penalty, LengthPenalty):
        raise ConfigError(f"length_penalty = {length_penalty!r}: must be a LengthPenalty")
    return length_penalty


class _BeamSearch:
    """The running beams of the active sentences; ``run`` decodes until every sentence is done."""

    def __init__(
        self,
        model: Any,
        memory: Any,
        state: Any,
        beam_size: int,
        max_lengths: Tensor,
        min_lengths: Tensor,
        bos_id: int,
        eos_id: int,
    ) -> None:
        batch_size = int(memory.lengths.shape[0])
        device = memory.lengths.device
        self.model, self.beam_size, self.eos_id = model, beam_size, eos_id
        self.banned = banned_ids(model, bos_id, eos_id)
        self.source_lengths = memory.lengths.tolist()
        self.finished: list[list[Hypothesis]] = [[] for _ in range(batch_size)]
        self.memory, self.state = memory, state
        self.width = 1  # rows per active sentence: 1 (the <bos> row) at step 0, beam_size after
        self.sentence = torch.arange(batch_size, device=device)  # active sentence -> input position
        self.max_lengths = max_lengths.to(device).long()  # per active sentence
        self.min_lengths = min_lengths.to(device).long()
        self.done_count = torch.zeros(batch_size, dtype=torch.long, device=device)
        self.tokens = torch.full((batch_size,), bos_id, dtype=torch.long, device=device)
        self.history = torch.zeros(batch_size, 0, dtype=torch.long, device=device)  # prefix + output
        self.start = 0  # the prefix's length
        self.attention: Tensor | None = None  # [rows, step, S]
        self.attention_sum: Tensor | None = None  # [rows, S]
        self.score = torch.zeros(batch_size, device=device)  # running processed score per row
        self.log_prob = torch.zeros(batch_size, device=device)  # running model log-probability per row
        self.stop_at_n_best: int | None = None  # see the module doc; None searches on
        self.n_best_score = torch.full((batch_size,), -math.inf, device=device)  # per active sentence
        self.groups, self.strength = 1, 0.0  # diverse beam search: sentences are (sentence, group) rows

    def run(
        self, length_penalty: LengthPenalty, coverage: CoveragePenalty, processors: LogitsProcessor | None
    ) -> list[list[Hypothesis]]:
        step = 0
        while True:
            logits, self.state, attention = self.model.decode_step(self.tokens, self.state, self.memory)
            if attention is None and coverage.beta > 0:
                raise ConfigError(
                    f"coverage_penalty = {coverage.beta}: needs a model with attention; this one returns none"
                )
            k, width = self.beam_size, self.width
            row_max = self.max_lengths.repeat_interleave(width)
            row_min = self.min_lengths.repeat_interleave(width)
            log_probs, scores = next_token_scores(
                logits, self.history, step, row_min, row_max, processors, self.eos_id, self.banned
            )
            vocab = scores.shape[1]
            active = self.sentence.shape[0]
            top_score, top_index, pick = self._select(
                (self.score.unsqueeze(1) + scores).view(active, width, vocab)
            )
            top_token = top_index % vocab
            top_beam = (top_index // vocab).clamp(max=width - 1)  # a padded candidate points at a real row
            top_row = top_beam + torch.arange(active, device=top_index.device).unsqueeze(1) * width
            is_eos = top_token == self.eos_id
            ends = is_eos & (top_score > -math.inf)
            ends[:, k:] = False
            step_attention = None if attention is None else attention.float()
            if bool(ends.any()):
                self._finish(
                    ends, top_row, top_score, log_probs, step_attention, step, length_penalty, coverage
                )
            next_token = top_token.gather(1, pick)
            next_score = top_score.gather(1, pick).masked_fill(next_token == self.eos_id, -math.inf)
            next_row = top_row.gather(1, pick)
            done = (self.done_count >= k) | (self.max_lengths <= step) | ~(next_score[:, 0] > -math.inf)
            if self.stop_at_n_best is not None:
                done |= next_score[:, 0] <= self.n_best_score
            if bool(done.all()):
                break
            self._advance(next_token, next_score, next_row, log_probs, step_attention, done)
            step += 1
        return self.finished

    def _select(self, candidates: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Each active sentence's candidates FloatTensor[active, width, V] (running scores) -> the
        best ``2k`` (scores, flat indices into width x V) [active, 2k] and which ``k`` of them go
        on [active, k]; with diversity, group after group (:mod:`seqlab.decoding.diversity`)."""
        if self.groups == 1 or self.strength == 0:
            return _top(candidates, self.beam_size, self.eos_id)
        active, width, vocab = candidates.shape
        k, device = self.beam_size, candidates.device
        sentence, group = self.sentence // self.groups, self.sentence % self.groups
        counts = candidates.new_zeros(int(sentence.max()) + 1, vocab)  # tokens chosen at this step
        top_score = candidates.new_empty(active, 2 * k)
        top_index = torch.empty(active, 2 * k, dtype=torch.long, device=device)
        pick = torch.empty(active, k, dtype=torch.long, device=device)
        for g in range(self.groups):
            rows = (group == g).nonzero().squeeze(1)
            if rows.numel() == 0:
                continue
            penalised = hamming_penalty(candidates[rows], counts[sentence[rows]], self.strength)
            score, index, chosen = _top(penalised, k, self.eos_id)
            top_score[rows], top_index[rows], pick[rows] = score, index, chosen
            token = index.gather(1, chosen) % vocab
            goes_on = (score.gather(1, chosen) > -math.inf) & (token != self.eos_id)
            owner = sentence[rows].unsqueeze(1).expand_as(token)
            counts.index_put_((owner[goes_on], token[goes_on]), counts.new_ones(()), accumulate=True)
        return top_score, top_index, pick

    def _advance(
        self,
        next_token: Tensor,
        next_score: Tensor,
        next_row: Tensor,
        log_probs: Tensor,
        step_attention: Tensor | None,
        done: Tensor,
    ) -> None:
        """Move the beams one step: drop the sentences that are ``done`` (BoolTensor[active]), then
        keep for each of the others its ``k`` chosen continuations (``next_*``: [active, k]; rows of
        the current ``log_probs``/``step_attention`` [active x width, ...])."""
        k, width = self.beam_size, self.width
        shrink = bool(done.any())
        if shrink:
            keep = (~done).nonzero().squeeze(1)
            next_score, next_token, next_row = next_score[keep], next_token[keep], next_row[keep]
            self.sentence, self.done_count = self.sentence[keep], self.done_count[keep]
            self.max_lengths, self.min_lengths = self.max_lengths[keep], self.min_lengths[keep]
            self.n_best_score = self.n_best_score[keep]
        rows = next_row.reshape(-1)
        self.tokens = next_token.reshape(-1)
        self.score = next_score.reshape(-1)
        self.log_prob = self.log_prob[rows] + log_probs[rows, self.tokens]
        self.history = torch.cat([self.history[rows], self.tokens.unsqueeze(1)], dim=1)
        if step_attention is not None:
            chosen = step_attention[rows]
            if self.attention is None or self.attention_sum is None:
                self.attention, self.attention_sum = chosen.unsqueeze(1), chosen
            else:
                self.attention = torch.cat([self.attention[rows], chosen.unsqueeze(1)], dim=1)
                self.attention_sum = self.attention_sum[rows] + chosen
        self.state = self.state.reorder(rows)
        if shrink or width != k:  # memory rows follow the sentences, not the hypotheses
            self.memory = self.memory.reorder(rows)
        self.width = k

    def _finish(
        self,
        ends: Tensor,
        top_row: Tensor,
        top_score: Tensor,
        log_probs: Tensor,
        step_attention: Tensor | None,
        step: int,
        length_penalty: LengthPenalty,
        coverage: CoveragePenalty,
    ) -> None:
        """Store the finished hypotheses marked in ``ends`` BoolTensor[active, 2k] (length step + 1)."""
        sentence_index, candidate = ends.nonzero(as_tuple=True)
        rows = top_row[sentence_index, candidate]
        score = length_penalty(top_score[sentence_index, candidate], step + 1)
        log_prob = self.log_prob[rows] + log_probs[rows, self.eos_id]
        attentions: list[Tensor | None] = [None] * len(rows)
        if step_attention is not None:
            this_step = step_attention[rows]
            if self.attention is None or self.attention_sum is None:  # step 0
                total, rows_attention = this_step, this_step.unsqueeze(1)
            else:
                total = self.attention_sum[rows] + this_step
                rows_attention = torch.cat([self.attention[rows], this_step.unsqueeze(1)], dim=1)
            if coverage.beta > 0:
                score = score + coverage(total, self.memory.mask[rows])
        ids = self.sentence[sentence_index].tolist()
        if step_attention is not None:
            attentions = list(sentence_attention(rows_attention, [self.source_lengths[i] for i in ids]))
        self.done_count += ends.sum(dim=1)
        token_lists = self.history[rows, self.start :].tolist()
        for i, tokens, value, lp, att in zip(
            ids, token_lists, score.tolist(), log_prob.tolist(), attentions, strict=True
        ):
            self.finished[i].append(Hypothesis(tokens=tokens, score=value, log_prob=lp, attention=att))
        if self.stop_at_n_best is not None:
            n = self.stop_at_n_best
            for active in set(sentence_index.tolist()):
                scores = sorted((h.score for h in self.finished[int(self.sentence[active])]), reverse=True)
                if len(scores) >= n:
                    self.n_best_score[active] = scores[n - 1]


def _top(candidates: Tensor, k: int, eos_id: int) -> tuple[Tensor, Tensor, Tensor]:
    """candidates FloatTensor[n, width, V] -> the best ``2k`` (scores, flat indices into width x V)
    [n, 2k] and ``pick`` LongTensor[n, k]: the first ``k`` of them that are not ``<eos>`` (with fewer
    than ``k`` of those, ``<eos>`` ones fill the gap, as dead rows)."""
    n, width, vocab = candidates.shape
    flat = candidates.reshape(n, width * vocab)
    if flat.shape[1] < 2 * k:  # tiny vocabulary: pad with dead candidates
        flat = torch.cat([flat, flat.new_full((n, 2 * k - width * vocab), -math.inf)], dim=1)
    top_score, top_index = flat.topk(2 * k, dim=1)
    is_eos = top_index % vocab == eos_id
    rank = torch.arange(2 * k, device=top_score.device).expand_as(top_score)
    pick = torch.where(is_eos, rank + 2 * k, rank).topk(k, dim=1, largest=False).indices
    return top_score, top_index, pick
