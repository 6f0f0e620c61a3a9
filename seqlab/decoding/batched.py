"""Decoding a list of encoder-decoder sources in batches: search options -> the right search of this
package over length-sorted, padded batches (:func:`decode_ids`), with the refilling greedy search for
plain greedy decoding. Used by the Seq2Seq predictor (``translate`` / ``evaluate``) and by training's
validation hook (:mod:`seqlab.training.seq2seq_validation`), so both decode the same way.

Copy-attention models take each source's copy ids too (``copy_sources``, one id list per source,
aligned with its tokens): they are padded like the sources and handed to ``model.encode(src,
src_lengths, src_copy)``, the protocol's one optional argument; the hypotheses' ids may then reach
past the target vocabulary (the caller maps them back to source words).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from seqlab.decoding.hypothesis import Hypothesis
from seqlab.decoding.options import SearchOptions, search
from seqlab.decoding.refill import greedy_refill_search
from seqlab.decoding.step import inference_mode, length_limits
from seqlab.text.padding import pad_batch


def start_search(
    model: Any, src: Tensor, src_lengths: Tensor, opts: SearchOptions, src_copy: Tensor | None = None
) -> tuple[Any, Any, Tensor, Tensor]:
    """Encode a padded batch -> (memory, start state, max_lengths, min_lengths LongTensor[B]).
    ``src_copy`` LongTensor[B, S]: the copy ids of a copy-attention model, else None."""
    memory = model.encode(src, src_lengths) if src_copy is None else model.encode(src, src_lengths, src_copy)
    max_lengths, min_lengths = length_limits(
        memory.lengths,
        max_length=opts.max_length,
        max_length_ratio=opts.max_length_ratio,
        min_length=opts.min_length,
        min_length_ratio=opts.min_length_ratio,
    )
    return memory, model.start_state(memory), max_lengths, min_lengths


def run_search(
    model: Any, src: Tensor, src_lengths: Tensor, opts: SearchOptions, src_copy: Tensor | None = None
) -> list[list[Hypothesis]]:
    """Decode one padded batch (src LongTensor[B, S], src_lengths LongTensor[B]) -> per sentence a
    list of hypotheses, best first (one for greedy and sampling, up to ``n_best`` for beam)."""
    memory, state, max_lengths, min_lengths = start_search(model, src, src_lengths, opts, src_copy)
    return search(
        model, memory, state, opts, max_lengths=max_lengths, min_lengths=min_lengths,
        processors=opts.processors() or None, bos_id=model.bos_id, eos_id=model.eos_id,
    )  # fmt: skip


REFILL_WINDOW_BATCHES = 8
REFILL_WINDOW_TOKENS_PER_SENTENCE = 64
"""Greedy decoding encodes up to this many batches of sources at once (fewer for sources longer
than 64 tokens: a window holds at most ``8 x batch_size x 64`` padded source tokens, so its encoder
memory stays that of 8 batches of 64-token sources) and keeps ``batch_size`` of them in the decoder,
refilling rows as sentences end (:func:`seqlab.decoding.greedy_refill_search`)."""


def windows(lengths: Sequence[int], batch_size: int, refill: bool) -> list[list[int]]:
    """Indices of ``lengths`` sorted by length, cut into batches of ``batch_size`` (``refill``:
    into refill windows, bounded in sentences and in padded source tokens, never under a batch)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    if not refill:
        return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
    most = REFILL_WINDOW_BATCHES * batch_size
    budget = most * REFILL_WINDOW_TOKENS_PER_SENTENCE
    cut: list[list[int]] = [[]]
    for i in order:  # ascending lengths: a window's padded size is its size x its last length
        window = cut[-1]
        if len(window) >= batch_size and (len(window) >= most or (len(window) + 1) * lengths[i] > budget):
            window = []
            cut.append(window)
        window.append(i)
    return [window for window in cut if window]


def refills(opts: SearchOptions) -> bool:
    """Whether these options decode by the refilling greedy search: greedy, no processors."""
    return not opts.sampling and opts.beam_size == 1 and opts.coverage_penalty == 0 and not opts.processors()


def run_greedy_refill(
    model: Any,
    src: Tensor,
    src_lengths: Tensor,
    opts: SearchOptions,
    width: int,
    src_copy: Tensor | None = None,
) -> list[list[Hypothesis]]:
    """Greedy decoding of a padded window (src LongTensor[N, S]) with at most ``width`` sentences
    in the decoder at a time -> per sentence a one-hypothesis list."""
    memory, state, max_lengths, min_lengths = start_search(model, src, src_lengths, opts, src_copy)
    found = greedy_refill_search(
        model, memory, state, width=width, max_lengths=max_lengths, min_lengths=min_lengths,
        bos_id=model.bos_id, eos_id=model.eos_id,
    )  # fmt: skip
    return [[h] for h in found]


def decode_ids(
    model: nn.Module,
    sources: Sequence[list[int]],
    opts: SearchOptions,
    batch_size: int,
    progress: Any = None,
    copy_sources: Sequence[list[int]] | None = None,
) -> list[list[Hypothesis]]:
    """Decode id sequences in length-sorted batches; results in input order. ``progress``: an
    optional callable told the number of sentences done after each batch (window, for greedy).
    ``copy_sources``: each source's copy ids (copy-attention models; see the module doc).

    Greedy decoding without processors keeps ``batch_size`` sentences in the decoder and refills a
    row as soon as its sentence ends, over windows of several batches encoded together
    (:func:`windows`); every other search decodes one batch at a time."""
    device = next(model.parameters()).device
    results: list[list[Hypothesis]] = [[] for _ in sources]
    refill = refills(opts)
    if copy_sources is not None and len(copy_sources) != len(sources):
        raise ValueError(f"{len(copy_sources)} copy-id lists for {len(sources)} sources")
    with inference_mode(model):
        for chunk in windows([len(s) for s in sources], batch_size, refill):
            src, lengths = pad_batch([sources[i] for i in chunk], model.pad_id)
            src_copy = None
            if copy_sources is not None:
                src_copy = pad_batch([copy_sources[i] for i in chunk], model.pad_id)[0].to(device)
            if refill:
                found = run_greedy_refill(model, src.to(device), lengths, opts, batch_size, src_copy)
            else:
                found = run_search(model, src.to(device), lengths, opts, src_copy)
            for index, hyps in zip(chunk, found):
                results[index] = hyps
            if progress is not None:
                progress(len(chunk))
    return results
