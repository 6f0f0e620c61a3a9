"""Seq2Seq decoding glue: search options -> the right search of :mod:`seqlab.decoding`, scoring of
outputs against references, and the validation hook that decodes the validation set.

What the predictor (``translate`` / ``evaluate``) and training validation share:

- :func:`run_search` (greedy, beam or sampling over one padded batch, as its
  :class:`~seqlab.decoding.options.SearchOptions` select);
- :func:`score_outputs`: BLEU and chrF (sacreBLEU), ROUGE-1/2/L, PER (token edit distance over
  target tokens, x100), WER (the share of outputs not exactly right, x100: the G2P word error rate)
  and exact match. A source with several references (a word with two pronunciations) is scored
  against the reference closest to its output;
- :class:`DecodingValidator`: the Trainer's ``extra_validation`` hook (greedy decoding).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from seqlab.config import ExperimentConfig
from seqlab.data.batching.buckets import pad_batch
from seqlab.data.readers.parallel import Pair
from seqlab.decoding import Hypothesis, SearchOptions, greedy_refill_search, length_limits, search
from seqlab.decoding.step import inference_mode
from seqlab.metrics import sequences as seq_metrics

SCORE_NAMES = ("bleu", "chrf", "rouge1", "rouge2", "rouge_l", "per", "wer", "exact_match")


def start_search(
    model: Any, src: Tensor, src_lengths: Tensor, opts: SearchOptions
) -> tuple[Any, Any, Tensor, Tensor]:
    """Encode a padded batch -> (memory, start state, max_lengths, min_lengths LongTensor[B])."""
    memory = model.encode(src, src_lengths)
    max_lengths, min_lengths = length_limits(
        memory.lengths,
        max_length=opts.max_length,
        max_length_ratio=opts.max_length_ratio,
        min_length=opts.min_length,
        min_length_ratio=opts.min_length_ratio,
    )
    return memory, model.start_state(memory), max_lengths, min_lengths


def run_search(model: Any, src: Tensor, src_lengths: Tensor, opts: SearchOptions) -> list[list[Hypothesis]]:
    """Decode one padded batch (src LongTensor[B, S], src_lengths LongTensor[B]) -> per sentence a
    list of hypotheses, best first (one for greedy and sampling, up to ``n_best`` for beam)."""
    memory, state, max_lengths, min_lengths = start_search(model, src, src_lengths, opts)
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
    model: Any, src: Tensor, src_lengths: Tensor, opts: SearchOptions, width: int
) -> list[list[Hypothesis]]:
    """Greedy decoding of a padded window (src LongTensor[N, S]) with at most ``width`` sentences
    in the decoder at a time -> per sentence a one-hypothesis list."""
    memory, state, max_lengths, min_lengths = start_search(model, src, src_lengths, opts)
    found = greedy_refill_search(
        model, memory, state, width=width, max_lengths=max_lengths, min_lengths=min_lengths,
        bos_id=model.bos_id, eos_id=model.eos_id,
    )  # fmt: skip
    return [[h] for h in found]


def decode_ids(
    model: nn.Module, sources: Sequence[list[int]], opts: SearchOptions, batch_size: int, progress: Any = None
) -> list[list[Hypothesis]]:
    """Decode id sequences in length-sorted batches; results in input order. ``progress``: an
    optional callable told the number of sentences done after each batch (window, for greedy).

    Greedy decoding without processors keeps ``batch_size`` sentences in the decoder and refills a
    row as soon as its sentence ends, over windows of several batches encoded together
    (:func:`windows`); every other search decodes one batch at a time."""
    device = next(model.parameters()).device
    results: list[list[Hypothesis]] = [[] for _ in sources]
    refill = refills(opts)
    with inference_mode(model):
        for chunk in windows([len(s) for s in sources], batch_size, refill):
            src, lengths = pad_batch([sources[i] for i in chunk], model.pad_id)
            if refill:
                found = run_greedy_refill(model, src.to(device), lengths, opts, batch_size)
            else:
                found = run_search(model, src.to(device), lengths, opts)
            for index, hyps in zip(chunk, found):
                results[index] = hyps
            if progress is not None:
                progress(len(chunk))
    return results


# ---------------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------------


def _closest(hyp: list[str], refs: Sequence[list[str]]) -> int:
    import editdistance

    return min(range(len(refs)), key=lambda i: editdistance.eval(hyp, refs[i]))


def score_outputs(
    hyp_texts: Sequence[str],
    hyp_tokens: Sequence[list[str]],
    ref_texts: Sequence[Sequence[str]],
    ref_tokens: Sequence[Sequence[list[str]]],
    names: Sequence[str] = SCORE_NAMES,
) -> tuple[dict[str, float], dict[str, str], list[int]]:
    """Scores (0-100) of outputs against their references (one or more per output).

    Returns ``(scores, signatures, chosen)``: sacreBLEU signatures for ``bleu``/``chrf`` and the
    index of the reference each output was scored against (the closest in target tokens).
    """
    chosen = [_closest(h, refs) for h, refs in zip(hyp_tokens, ref_tokens)]
    best_texts = [refs[i] for refs, i in zip(ref_texts, chosen)]
    best_tokens = [refs[i] for refs, i in zip(ref_tokens, chosen)]
    scores: dict[str, float] = {}
    signatures: dict[str, str] = {}
    if "bleu" in names:
        scores["bleu"], signatures["bleu"] = seq_metrics.bleu(list(hyp_texts), best_texts)
    if "chrf" in names:
        scores["chrf"], signatures["chrf"] = seq_metrics.chrf(list(hyp_texts), best_texts)
    if {"rouge1", "rouge2", "rouge_l"} & set(names):
        rouge = seq_metrics.rouge(list(hyp_texts), best_texts)
        scores.update(rouge1=rouge["rouge1"], rouge2=rouge["rouge2"], rouge_l=rouge["rougeL"])
    if "per" in names:
        scores["per"] = seq_metrics.error_rate(list(hyp_tokens), best_tokens)
    if {"wer", "exact_match"} & set(names):
        exact = seq_metrics.exact_match(list(hyp_tokens), best_tokens)
        scores["exact_match"] = exact
        scores["wer"] = 100.0 - exact
    return {k: v for k, v in scores.items() if k in names}, signatures, chosen


def group_references(pairs: Sequence[Pair]) -> OrderedDict[str, list[str]]:
    """Source text -> its reference targets, in first-seen order (G2P words with two pronunciations
    become one source with two references)."""
    grouped: OrderedDict[str, list[str]] = OrderedDict()
    for pair in pairs:
        grouped.setdefault(pair.source, []).append(pair.target)
    return grouped


class DecodingValidator:
    """The Trainer's ``extra_validation`` hook: decode the validation sources greedily and score the
    outputs with ``metrics`` (names of :data:`SCORE_NAMES`).

    ``pipeline``: the run's :class:`~seqlab.data.corpora.seq2seq.Seq2SeqPipeline`; ``cfg``: the run's
    config (its ``decoding`` section bounds the lengths and sets the batch size).
    """

    def __init__(
        self, pairs: Sequence[Pair], pipeline: Any, cfg: ExperimentConfig, metrics: Sequence[str]
    ) -> None:
        grouped = group_references(pairs)
        self.pipeline = pipeline
        self.metrics = tuple(metrics)
        self.sources = [pipeline.source_ids(s) for s in grouped]
        self.ref_texts = list(grouped.values())
        self.ref_tokens = [[pipeline.target_tokens(r) for r in refs] for refs in self.ref_texts]
        self.options = SearchOptions.from_config(cfg.decoding).greedy()
        self.batch_size = cfg.decoding.batch_size

    def __call__(self, model: nn.Module) -> dict[str, float]:
        found = decode_ids(model, self.sources, self.options, self.batch_size)
        vocab = self.pipeline.target_vocab
        tokens = [vocab.decode(hyps[0].tokens) for hyps in found]
        texts = [self.pipeline.target_text(t) for t in tokens]
        scores, _, _ = score_outputs(texts, tokens, self.ref_texts, self.ref_tokens, self.metrics)
        return scores
