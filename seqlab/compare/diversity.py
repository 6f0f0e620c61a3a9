"""How varied each contender's outputs are: distinct-1, distinct-2 and the share of outputs that are
one of the ten most frequent (:mod:`seqlab.metrics.dialogue`, on the output tokens), measured beside
the repeated-n-gram rate without and with n-gram blocking, and their table in the report's
"Repetition and length" section. Dull, generic outputs ("i don't know" to everything) show as low
distinct-n and a high top-10 share, where the repeated-n-gram rate (repeats inside one output) may
not move."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from seqlab.metrics import dialogue

DIVERSITY_KEYS = ("distinct1", "distinct2", "frequent_share")
LABELS = {"distinct1": "distinct-1", "distinct2": "distinct-2", "frequent_share": "top-10 outputs"}


def diversity_block(token_lists: Sequence[Sequence[str]]) -> dict[str, float]:
    """``{"distinct1", "distinct2", "frequent_share"}`` (each 0-100) of one decoding's outputs."""
    return {
        "distinct1": dialogue.distinct_n(token_lists, 1),
        "distinct2": dialogue.distinct_n(token_lists, 2),
        "frequent_share": dialogue.frequent_share(token_lists),
    }


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}%"


def diversity_table(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Per contender: distinct-1, distinct-2 and the top-10 share of its outputs, without and (when
    the spec blocks n-grams) with n-gram blocking; ``-`` where results.json has no figure (results
    written before these were measured)."""
    contenders = results["contenders"]
    blocked_n = next(
        (c["repetition"]["blocked"]["no_repeat_ngram"] for c in contenders if c["repetition"].get("blocked")),
        None,
    )
    header = ["contender", *(LABELS[key] for key in DIVERSITY_KEYS)]
    if blocked_n:
        header += [f"{LABELS[key]}, block {blocked_n}" for key in DIVERSITY_KEYS]
    rows = []
    for c in contenders:
        plain = c["repetition"].get("plain") or {}
        row = [c["name"], *(_cell(plain.get(key)) for key in DIVERSITY_KEYS)]
        if blocked_n:
            blocked = c["repetition"].get("blocked") or {}
            row += [_cell(blocked.get(key)) for key in DIVERSITY_KEYS]
        rows.append(row)
    return header, rows


NOTE = (
    "The diversity table counts the output tokens of all held-out pairs together: distinct-n is the "
    "number of different n-grams over the number of n-grams (Li et al. 2016), the top-10 share the "
    "share of outputs that are one of the ten most frequent outputs; low distinct-n and a high top-10 "
    "share mean dull, repeated answers."
)
