"""The tiny G2P comparison spec that lm_sep tests train: the fixture's char -> phoneme pairs, a fifth
held out, one language-model contender; callers add to its sections."""

from __future__ import annotations

from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def tiny_g2p_spec(title: str, data: dict[str, Any], model: dict[str, Any], **rest: Any) -> dict[str, Any]:
    """A compare spec dict over ``fixtures/compare/tiny_g2p.tsv``; ``data`` adds to its data section."""
    return {
        "title": title,
        "seed": 3,
        "metric": "per",
        "data": {
            "format": "tsv",
            "train": str(FIXTURES / "compare" / "tiny_g2p.tsv"),
            "valid_fraction": 0.2,
            "source_tokenizer": {"kind": "char"},
            "target_tokenizer": {"kind": "word"},
            **data,
        },
        "model": model,
        **rest,
    }
