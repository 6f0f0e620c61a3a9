"""How varied a set of outputs is, the dialogue measures of dull, generic answers: distinct-n
(Li et al. 2016) and the share of outputs that are one of the most frequent outputs.

Both are on a 0-100 scale and need no reference. They read the outputs as token lists (an item may
also be a plain string, split on whitespace); which tokens they count is the caller's choice (the
Seq2Seq scores count the target tokens: words with a word tokenizer, pieces with sentencepiece).
BLEU-1/BLEU-2, the reference-based half of the dialogue scores, is
:func:`seqlab.metrics.sequences.bleu` with ``max_order`` 1 or 2.

This module imports nothing of seqlab but ``seqlab.errors``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence

from seqlab.errors import ConfigError

TokensOrText = Sequence[Hashable] | str

FREQUENT_TOP = 10  # "the ten most frequent outputs"


def _tokens(item: TokensOrText) -> tuple:
    return tuple(item.split() if isinstance(item, str) else item)


def distinct_n(outputs: Sequence[TokensOrText], n: int) -> float:
    """Distinct-n x100: the number of different n-grams over the number of n-grams, counted over all
    ``outputs`` together (corpus-level, as Li et al. 2016 count it).

    ``["a b", "a c"]`` with n=1 has the unigrams ``a, b, a, c``, three of them different: 75.0.
    Outputs shorter than ``n`` add no n-gram; with no n-gram at all the score is 0.0.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"distinct_n needs an integer n >= 1, got {n!r}")
    grams: Counter[tuple] = Counter()
    for item in outputs:
        tokens = _tokens(item)
        grams.update(tokens[start : start + n] for start in range(len(tokens) - n + 1))
    total = sum(grams.values())
    return 100.0 * len(grams) / total if total else 0.0


def frequent_share(outputs: Sequence[TokensOrText], top: int = FREQUENT_TOP) -> float:
    """The share x100 of ``outputs`` that are one of the ``top`` most frequent outputs (outputs are
    the same when their tokens are): the sum of the ``top`` largest output counts over the number of
    outputs, so ties at the last place do not matter.

    A model that answers "i don't know" to 30 of 100 inputs and something different to each of the
    other 70 scores 30 + 9 = 39.0 with ``top=10``. Every output different: ``top / len(outputs)``
    x100; no outputs: 0.0.
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ConfigError(f"frequent_share needs an integer top >= 1, got {top!r}")
    if not outputs:
        return 0.0
    counts = sorted(Counter(_tokens(item) for item in outputs).values(), reverse=True)
    return 100.0 * sum(counts[:top]) / len(outputs)
