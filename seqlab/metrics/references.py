"""Scoring decoded outputs against their references, one or more per source.

:func:`score_outputs`: BLEU and chrF (sacreBLEU), ROUGE-1/2/L, PER (token edit distance over target
tokens, x100), WER (the share of outputs not exactly right, x100: the G2P word error rate) and exact
match (:data:`DEFAULT_SCORES`, what ``seqlab evaluate`` reports for every Seq2Seq run); and the
dialogue scores (:data:`DIALOGUE_SCORES`): cumulative BLEU-1 and BLEU-2 (sacreBLEU), distinct-1 and
distinct-2 and the share of outputs that are one of the ten most frequent outputs (on the output
tokens, no reference needed; :mod:`seqlab.metrics.dialogue`). A source with several references (a
word with two pronunciations) is scored against the reference closest to its output.
:func:`group_references` groups pairs by source.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

from seqlab.errors import ConfigError
from seqlab.metrics import dialogue
from seqlab.metrics import sequences as seq_metrics

DEFAULT_SCORES = ("bleu", "chrf", "rouge1", "rouge2", "rouge_l", "per", "wer", "exact_match")
DIALOGUE_SCORES = ("bleu1", "bleu2", "distinct1", "distinct2", "frequent_share")
SCORE_NAMES = DEFAULT_SCORES + DIALOGUE_SCORES
"""Every score :func:`score_outputs` can compute, by name."""


class SourceTarget(Protocol):
    """What :func:`group_references` reads of a pair (:class:`seqlab.data.readers.parallel.Pair`)."""

    source: str
    target: str


def _closest(hyp: list[str], refs: Sequence[list[str]]) -> int:
    import editdistance

    return min(range(len(refs)), key=lambda i: editdistance.eval(hyp, refs[i]))


def score_outputs(
    hyp_texts: Sequence[str],
    hyp_tokens: Sequence[list[str]],
    ref_texts: Sequence[Sequence[str]],
    ref_tokens: Sequence[Sequence[list[str]]],
    names: Sequence[str] = DEFAULT_SCORES,
) -> tuple[dict[str, float], dict[str, str], list[int]]:
    """Scores (0-100) of outputs against their references (one or more per output), the ``names``
    of :data:`SCORE_NAMES` asked for.

    Returns ``(scores, signatures, chosen)``: sacreBLEU signatures for ``bleu``/``bleu1``/
    ``bleu2``/``chrf`` and the index of the reference each output was scored against (the closest
    in target tokens). ``distinct1``/``distinct2``/``frequent_share`` count ``hyp_tokens``.
    """
    unknown = [name for name in names if name not in SCORE_NAMES]
    if unknown:
        raise ConfigError(f"unknown score(s) {', '.join(unknown)}; valid: {', '.join(SCORE_NAMES)}")
    chosen = [_closest(h, refs) for h, refs in zip(hyp_tokens, ref_tokens)]
    best_texts = [refs[i] for refs, i in zip(ref_texts, chosen)]
    best_tokens = [refs[i] for refs, i in zip(ref_tokens, chosen)]
    scores: dict[str, float] = {}
    signatures: dict[str, str] = {}
    if "bleu" in names:
        scores["bleu"], signatures["bleu"] = seq_metrics.bleu(list(hyp_texts), best_texts)
    for order in (1, 2):
        if f"bleu{order}" in names:
            found = seq_metrics.bleu(list(hyp_texts), best_texts, max_order=order)
            scores[f"bleu{order}"], signatures[f"bleu{order}"] = found
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
    for order in (1, 2):
        if f"distinct{order}" in names:
            scores[f"distinct{order}"] = dialogue.distinct_n(hyp_tokens, order)
    if "frequent_share" in names:
        scores["frequent_share"] = dialogue.frequent_share(hyp_tokens)
    return {k: v for k, v in scores.items() if k in names}, signatures, chosen


def group_references(pairs: Sequence[SourceTarget]) -> OrderedDict[str, list[str]]:
    """Source text -> its reference targets, in first-seen order (G2P words with two pronunciations
    become one source with two references)."""
    grouped: OrderedDict[str, list[str]] = OrderedDict()
    for pair in pairs:
        grouped.setdefault(pair.source, []).append(pair.target)
    return grouped
