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

Beyond the decoding protocol (``decode_step``, ``state.reorder``, ``memory.reorder``) it needs
``state.extend(other)``: the rows of two states in one (the running rows and the newcomers).
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
    check_token_id("bos_id", bos_id)
    check_token_id("eos_id", eos_id)
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ConfigError(f"width = {width!r}: must be an integer >= 1")
    total = int(memory.lengths.shape[0])
    check_length_tensors(max_lengths, min_lengths, total)
    device = memory.lengths.device
    source_lengths = memory.lengths.tolist()
    banned = banned_ids(model, bos_id, eos_id)
    all_max, all_min = max_lengths.to(device).long(), min_lengths.to(device).long()
    results: list[Hypothesis | None] = [None] * total

    entered = min(width, total)
    sentence = torch.arange(entered, device=device)  # row -> sentence
    rows_memory = memory if entered == total else memory.reorder(sentence)
    rows_state = state if entered == total else state.reorder(sentence)
    tokens = torch.full((entered,), bos_id, dtype=torch.long, device=device)
    row_step = torch.zeros(entered, dtype=torch.long, device=device)  # tokens each row has produced
    total_score = torch.zeros(entered, device=device)
    total_log_prob = torch.zeros(entered, device=device)
    outputs: list[list[int]] = [[] for _ in range(entered)]
    attentions: list[list[Tensor]] = [[] for _ in range(entered)]
    with torch.no_grad():
        while True:
            logits, rows_state, attention = model.decode_step(tokens, rows_state, rows_memory)
            rows = tokens.shape[0]
            # each row's step: compare its bounds with its own step count (next_token_scores
            # compares them with one common step, here 0)
            limits_max = all_max.index_select(0, sentence) - row_step
            limits_min = all_min.index_select(0, sentence) - row_step
            log_probs, scores = next_token_scores(
                logits, tokens.new_zeros(rows, 0), 0, limits_min, limits_max, None, eos_id, banned
            )
            tokens = scores.argmax(dim=-1)
            chosen = tokens.unsqueeze(1)
            total_score = total_score + scores.gather(1, chosen).squeeze(1)
            total_log_prob = total_log_prob + log_probs.gather(1, chosen).squeeze(1)
            if attention is not None:
                step_attention = attention.float().cpu()
                for row in range(rows):
                    attentions[row].append(step_attention[row])
            ended_rows: list[int] = []
            for row, token in enumerate(tokens.tolist()):
                if token == eos_id:
                    ended_rows.append(row)
                else:
                    outputs[row].append(token)
            if not ended_rows:
                row_step = row_step + 1
                continue
            _finish(results, ended_rows, sentence, outputs, attentions, total_score, total_log_prob,
                    source_lengths)  # fmt: skip
            ended = set(ended_rows)
            keep_rows = [row for row in range(rows) if row not in ended]
            newcomers = min(len(ended_rows), total - entered)
            if not keep_rows and not newcomers:
                break
            keep = torch.tensor(keep_rows, dtype=torch.long, device=device)
            new = torch.arange(entered, entered + newcomers, device=device)
            entered += newcomers
            sentence = torch.cat([sentence.index_select(0, keep), new])
            rows_memory = memory.reorder(sentence)
            rows_state = rows_state.reorder(keep)
            if newcomers:
                rows_state = rows_state.extend(state.reorder(new))
            fresh = torch.zeros(newcomers, dtype=torch.long, device=device)
            tokens = torch.cat([tokens.index_select(0, keep), fresh + bos_id])
            row_step = torch.cat([row_step.index_select(0, keep) + 1, fresh])
            total_score = torch.cat([total_score.index_select(0, keep), fresh.float()])
            total_log_prob = torch.cat([total_log_prob.index_select(0, keep), fresh.float()])
            outputs = [outputs[row] for row in keep_rows] + [[] for _ in range(newcomers)]
            attentions = [attentions[row] for row in keep_rows] + [[] for _ in range(newcomers)]
    assert all(result is not None for result in results)  # every row ends by its maximum length
    return results  # type: ignore[return-value]


def _finish(
    results: list[Hypothesis | None],
    rows: list[int],
    sentence: Tensor,
    outputs: list[list[int]],
    attentions: list[list[Tensor]],
    total_score: Tensor,
    total_log_prob: Tensor,
    source_lengths: list[int],
) -> None:
    """Store the hypotheses of ``rows``, which just produced ``<eos>``."""
    index = torch.tensor(rows, dtype=torch.long, device=sentence.device)
    ids = sentence.index_select(0, index).tolist()
    scores = total_score.index_select(0, index).tolist()
    log_probs = total_log_prob.index_select(0, index).tolist()
    for row, i, score, log_prob in zip(rows, ids, scores, log_probs, strict=True):
        attention = None
        if attentions[row]:
            attention = torch.stack(attentions[row])[:, : source_lengths[i]].clone()
        results[i] = Hypothesis(tokens=outputs[row], score=score, log_prob=log_prob, attention=attention)
