"""Sequence-to-sequence metrics: sacreBLEU BLEU and chrF, ROUGE, edit-distance error rates (PER/WER),
exact match, quality by source-length bucket, the repeated-n-gram rate and the length ratio.

Scales: ``bleu``, ``chrf``, ``rouge``, ``error_rate`` and ``exact_match`` are on a 0-100 scale (as
sacreBLEU prints them; an error rate can pass 100 when the output inserts many tokens);
``repeated_ngram_rate`` is a fraction in [0, 1]; ``length_ratio`` is a plain ratio (1.0 = same length).

Token lists: wherever a function takes token lists, an item may also be a plain string, which is split
on whitespace (``"K AE1 T"`` -> ``["K", "AE1", "T"]``). For the G2P "word error rate" (the fraction of
words whose phoneme string is not exactly right) use ``100 - exact_match(hyps, refs)``.

This module imports nothing of seqlab but ``seqlab.errors``. Mismatched or empty inputs raise
``DataError`` (a ``ValueError``); a bad argument (unknown tokenizer, n < 1, unsorted edges) raises
``ConfigError``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence

from seqlab.errors import ConfigError, DataError

Tokens = Sequence[Hashable]
TokensOrText = Tokens | str
Metric = Callable[[list, list], float]


def _check_pairs(hyps: Sequence, refs: Sequence) -> None:
    if len(hyps) != len(refs):
        raise DataError(f"{len(hyps)} hypotheses but {len(refs)} references: they must pair up one to one")
    if not hyps:
        raise DataError("no hypotheses to score (empty input)")


def _tokens(item: TokensOrText) -> list:
    return item.split() if isinstance(item, str) else list(item)


def _strings(items: Sequence, what: str) -> list[str]:
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise DataError(f"{what}[{index}] is {type(item).__name__}, expected a string (detokenized text)")
    return list(items)


def bleu(
    hyps: Sequence[str], refs: Sequence[str], *, tokenize: str | None = None, max_order: int = 4
) -> tuple[float, str]:
    """Corpus BLEU (sacreBLEU, one reference per hypothesis) on detokenized strings.

    ``tokenize`` is sacreBLEU's tokenizer (``13a`` by default; ``zh`` for Chinese, ``char``, ``intl``,
    ``none``). ``max_order`` is the largest n-gram order: BLEU-n is *cumulative*, the brevity penalty
    times the geometric mean of the 1- to n-gram precisions (sacreBLEU's ``max_ngram_order``; 4 is
    the usual BLEU, 1 and 2 the BLEU-1/BLEU-2 of dialogue papers). Returns ``(score 0-100,
    signature)``, e.g. ``(34.2, "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0")``;
    with ``max_order`` other than 4 the signature ends in ``|ngram:N`` (sacreBLEU's own leaves it out).
    """
    from sacrebleu.metrics import BLEU

    _check_pairs(hyps, refs)
    if tokenize is not None and tokenize not in BLEU.TOKENIZERS:
        raise ConfigError(f"BLEU tokenize={tokenize!r} is unknown; valid: {', '.join(BLEU.TOKENIZERS)}")
    if isinstance(max_order, bool) or not isinstance(max_order, int) or max_order < 1:
        raise ConfigError(f"BLEU max_order = {max_order!r}: must be an integer >= 1")
    metric = BLEU(tokenize=tokenize, max_ngram_order=max_order)
    score = metric.corpus_score(_strings(hyps, "hyps"), [_strings(refs, "refs")]).score
    signature = metric.get_signature().format()
    return min(score, 100.0), signature if max_order == 4 else f"{signature}|ngram:{max_order}"


def chrf(hyps: Sequence[str], refs: Sequence[str], *, word_order: int = 0) -> tuple[float, str]:
    """Corpus chrF (sacreBLEU; ``word_order=2`` gives chrF++). Returns ``(score 0-100, signature)``."""
    from sacrebleu.metrics import CHRF

    _check_pairs(hyps, refs)
    if word_order < 0:
        raise ConfigError(f"chrF word_order must be >= 0, got {word_order}")
    metric = CHRF(word_order=word_order)
    score = metric.corpus_score(_strings(hyps, "hyps"), [_strings(refs, "refs")]).score
    return score, metric.get_signature().format()


class _CallableTokenizer:
    """Adapts a plain ``str -> list[str]`` function to rouge-score's tokenizer interface."""

    def __init__(self, function: Callable[[str], list[str]]) -> None:
        self.function = function

    def tokenize(self, text: str) -> list[str]:
        return list(self.function(text))


def rouge(
    hyps: Sequence[str],
    refs: Sequence[str],
    *,
    use_stemmer: bool = True,
    tokenize: Callable[[str], list[str]] | None = None,
) -> dict[str, float]:
    """ROUGE-1, ROUGE-2 and ROUGE-L F-measure x100 (rouge-score), averaged over the pairs.

    Returns ``{"rouge1", "rouge2", "rougeL"}``. rouge-score's own tokenizer lowercases and keeps only
    ``[a-z0-9]`` runs (English); pass ``tokenize`` (e.g. ``list`` for Chinese characters or
    ``str.split``) for other scripts; the stemmer then does not apply.
    """
    from rouge_score import rouge_scorer

    _check_pairs(hyps, refs)
    names = ("rouge1", "rouge2", "rougeL")
    tokenizer = _CallableTokenizer(tokenize) if tokenize is not None else None
    scorer = rouge_scorer.RougeScorer(list(names), use_stemmer=use_stemmer, tokenizer=tokenizer)
    totals = dict.fromkeys(names, 0.0)
    for hyp, ref in zip(_strings(hyps, "hyps"), _strings(refs, "refs")):
        scores = scorer.score(ref, hyp)  # rouge-score's order is (target, prediction)
        for name in names:
            totals[name] += scores[name].fmeasure
    return {name: 100.0 * total / len(hyps) for name, total in totals.items()}


def error_rate(hyp_token_lists: Sequence[TokensOrText], ref_token_lists: Sequence[TokensOrText]) -> float:
    """Corpus token error rate x100: total Levenshtein distance (substitutions + insertions +
    deletions, on tokens) over the total reference length.

    PER with phoneme lists, WER with word lists. ``editdistance`` computes each distance.
    """
    import editdistance

    _check_pairs(hyp_token_lists, ref_token_lists)
    errors = reference_tokens = 0
    for hyp, ref in zip(hyp_token_lists, ref_token_lists):
        hyp_tokens, ref_tokens = _tokens(hyp), _tokens(ref)
        errors += editdistance.eval(hyp_tokens, ref_tokens)
        reference_tokens += len(ref_tokens)
    if reference_tokens == 0:
        raise DataError("every reference is empty: the error rate is undefined")
    return 100.0 * errors / reference_tokens


def exact_match(hyps: Sequence[TokensOrText], refs: Sequence[TokensOrText]) -> float:
    """Percentage of hypotheses whose tokens equal the reference's exactly (strings compared after
    whitespace splitting, so ``"a  b"`` matches ``"a b"``)."""
    _check_pairs(hyps, refs)
    return 100.0 * sum(_tokens(h) == _tokens(r) for h, r in zip(hyps, refs)) / len(hyps)


def repeated_ngram_rate(token_lists: Sequence[TokensOrText], n: int = 3) -> float:
    """Fraction of all n-grams in the outputs that repeat an earlier n-gram of the same output.

    ``["a b a b a"]`` with n=2 has the bigrams ``ab, ba, ab, ba``: the last two repeat, so 0.5.
    Outputs shorter than ``n`` contribute nothing; with no n-gram at all the rate is 0.0.
    """
    if n < 1:
        raise ConfigError(f"repeated_ngram_rate needs n >= 1, got {n}")
    repeated = total = 0
    for item in token_lists:
        tokens = _tokens(item)
        seen: set[tuple] = set()
        for start in range(len(tokens) - n + 1):
            gram = tuple(tokens[start : start + n])
            repeated += gram in seen
            seen.add(gram)
            total += 1
    return repeated / total if total else 0.0


def length_ratio(hyps: Sequence[TokensOrText], refs: Sequence[TokensOrText]) -> float:
    """Total hypothesis length over total reference length, in tokens (> 1: outputs run long)."""
    _check_pairs(hyps, refs)
    reference_tokens = sum(len(_tokens(r)) for r in refs)
    if reference_tokens == 0:
        raise DataError("every reference is empty: the length ratio is undefined")
    return sum(len(_tokens(h)) for h in hyps) / reference_tokens


METRICS: dict[str, Metric] = {
    "bleu": lambda hyps, refs: bleu(hyps, refs)[0],
    "bleu1": lambda hyps, refs: bleu(hyps, refs, max_order=1)[0],
    "bleu2": lambda hyps, refs: bleu(hyps, refs, max_order=2)[0],
    "chrf": lambda hyps, refs: chrf(hyps, refs)[0],
    "rouge1": lambda hyps, refs: rouge(hyps, refs)["rouge1"],
    "rouge2": lambda hyps, refs: rouge(hyps, refs)["rouge2"],
    "rouge_l": lambda hyps, refs: rouge(hyps, refs)["rougeL"],
    "wer": error_rate,
    "per": error_rate,
    "exact_match": exact_match,
    "length_ratio": length_ratio,
}
"""Metrics by name, each ``(hyps, refs) -> float``, for :func:`length_buckets` and reports."""


def default_edges(src_lengths: Sequence[int], buckets: int = 5) -> list[int]:
    """Bucket edges at the quantiles of ``src_lengths`` (distinct, increasing), for ``buckets`` buckets."""
    if buckets < 1:
        raise ConfigError(f"buckets must be >= 1, got {buckets}")
    ordered = sorted(src_lengths)
    if not ordered:
        raise DataError("no source lengths to bucket")
    edges = {ordered[math.floor(len(ordered) * k / buckets)] for k in range(1, buckets)}
    return sorted(edge for edge in edges if edge > ordered[0])


def length_buckets(
    src_lengths: Sequence[int],
    hyps: Sequence,
    refs: Sequence,
    metric: str | Metric,
    edges: Sequence[int] | None = None,
) -> list[dict]:
    """Quality by source length: one row per bucket, shortest first.

    ``edges`` ``[e1, e2, ...]`` (strictly increasing) cut the lengths into ``[0, e1)``, ``[e1, e2)``,
    ..., ``[ek, inf)``; None picks quantile edges (:func:`default_edges`). ``metric`` is a name of
    :data:`METRICS` or a function ``(hyps, refs) -> float`` (a ``(score, signature)`` result is
    reduced to its score). Each row is JSON-able: ``{"low": int, "high": int | None (inclusive; None =
    no upper bound), "label": "10-19" | "40+", "count": int, "score": float | None (None: no pair in
    the bucket)}``.
    """
    _check_pairs(hyps, refs)
    if len(src_lengths) != len(hyps):
        raise DataError(f"{len(src_lengths)} source lengths but {len(hyps)} hypotheses")
    function = _metric_function(metric)
    edges = list(default_edges(src_lengths) if edges is None else edges)
    if any(b <= a for a, b in zip(edges, edges[1:])) or any(e <= 0 for e in edges):
        raise ConfigError(f"bucket edges must be positive and strictly increasing, got {edges}")
    bounds = list(zip([0, *edges], [*edges, None]))
    rows = []
    for low, high in bounds:
        members = [i for i, n in enumerate(src_lengths) if n >= low and (high is None or n < high)]
        score = None
        if members:
            result = function([hyps[i] for i in members], [refs[i] for i in members])
            score = float(result[0] if isinstance(result, tuple) else result)
        label = f"{low}+" if high is None else f"{low}-{high - 1}"
        last = None if high is None else high - 1
        rows.append({"low": low, "high": last, "label": label, "count": len(members), "score": score})
    return rows


def _metric_function(metric: str | Metric) -> Metric:
    if callable(metric):
        return metric
    if metric not in METRICS:
        raise ConfigError(f"unknown metric {metric!r}; valid: {', '.join(METRICS)}")
    return METRICS[metric]
