"""Language-model corpora: text files -> one long id tensor per split.

``load_lm_corpus`` reads the training (and validation) text named by a ``DataConfig``, trains the
tokenizer on the training lines, builds the vocabulary, saves both into the run directory
(``tokenizer/`` and ``vocab.json``) and encodes every line as its tokens plus ``<eos>``.
``encode_lines`` / ``encode_file`` encode new text with a saved tokenizer and vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from seqlab.config import DataConfig
from seqlab.data.catalogue.lookup import get_dataset, resolve_split
from seqlab.data.catalogue.seq2seq_pairs import READERS, read_dataset_pairs, seq2seq_splits
from seqlab.data.readers.lines import read_lines
from seqlab.errors import ConfigError, DataError
from seqlab.rundir.names import TOKENIZER_DIR, VOCAB_FILE
from seqlab.text.tokenizers import Tokenizer, build_tokenizer, load_tokenizer
from seqlab.text.vocab import Vocabulary


@dataclass
class LMCorpus:
    """A tokenized language-modelling corpus.

    train: LongTensor[N] and valid: LongTensor[M], each the concatenation of its lines' ids.
    train_lines / valid_lines: each line's ids (no ``<eos>``), kept for ``lm_mode: lines`` (else None).
    """

    train: torch.Tensor
    valid: torch.Tensor
    tokenizer: Tokenizer
    vocab: Vocabulary
    train_lines: list[list[int]] | None = None
    valid_lines: list[list[int]] | None = None


def split_for_validation(lines: Sequence[str], fraction: float, source: str) -> tuple[list[str], list[str]]:
    """The first ``1 - fraction`` of the lines and the rest (at least one line each)."""
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"valid_fraction = {fraction}: must be in (0, 1)")
    if len(lines) < 2:
        raise DataError(f"{source}: {len(lines)} line(s): too few to hold out a validation part")
    cut = round(len(lines) * (1.0 - fraction))
    cut = min(max(cut, 1), len(lines) - 1)
    return list(lines[:cut]), list(lines[cut:])


def _read_corpus_lines(cfg: DataConfig) -> tuple[list[str], list[str], str]:
    """Training lines, validation lines and a name for the training source."""
    if cfg.dataset is not None and cfg.train is not None:
        raise ConfigError(
            f"data.dataset = {cfg.dataset!r} and data.train = {cfg.train!r}: set one of them, not both"
        )
    entry_fraction = None
    if cfg.dataset is not None:
        entry = get_dataset(cfg.dataset)
        if cfg.pair_side is not None:
            return _pair_side_lines(cfg, entry.task)
        if entry.task != "lm":
            hint = ", or data.pair_side: source|target to read one side of its pairs"
            raise ConfigError(
                f"data.dataset = {cfg.dataset!r} is a {entry.task} dataset; a language model needs an lm "
                "dataset (seqlab data list) or data.train" + (hint if entry.task == "seq2seq" else "")
            )
        train_path = resolve_split(cfg.dataset, "train")
        valid_path = resolve_split(cfg.dataset, "valid") if "valid" in entry.splits else None
        entry_fraction = entry.valid_fraction
    elif cfg.train is not None:
        train_path, valid_path = Path(cfg.train), None
    else:
        raise ConfigError("data.dataset and data.train are both null: name a catalogue dataset or a file")
    if cfg.valid is not None:
        valid_path = Path(cfg.valid)
    train_lines = read_lines(train_path)
    if valid_path is not None:
        return train_lines, read_lines(valid_path), str(train_path)
    fraction = cfg.valid_fraction if cfg.valid_fraction > 0 else entry_fraction
    if not fraction:
        raise DataError(
            f"no validation text for {train_path}: set data.valid to a file, or data.valid_fraction "
            "(e.g. 0.1) to hold out the last part of the training lines"
        )
    train_lines, valid_lines = split_for_validation(train_lines, fraction, str(train_path))
    return train_lines, valid_lines, str(train_path)


def _pair_side_lines(cfg: DataConfig, task: str) -> tuple[list[str], list[str], str]:
    """The ``pair_side`` texts of a Seq2Seq dataset's ``train`` and ``valid`` pairs (``valid``
    held out of ``train`` by ``valid_fraction`` where the dataset has no such split), read with the
    settings of ``cfg`` (``context_turns`` for dialogue)."""
    name, side = cfg.dataset, cfg.pair_side
    if task != "seq2seq":
        raise ConfigError(
            f"data.pair_side = {side!r}: data.dataset = {name!r} is a {task} dataset, not a seq2seq one; "
            f"seq2seq datasets: {', '.join(sorted(READERS))}"
        )
    source = f"{name} ({side} side)"
    train = [getattr(pair, side) for pair in read_dataset_pairs(name, "train", cfg).pairs]
    if cfg.valid is not None:
        return train, read_lines(Path(cfg.valid)), source
    if "valid" in seq2seq_splits(name):
        valid = [getattr(pair, side) for pair in read_dataset_pairs(name, "valid", cfg).pairs]
        return train, valid, source
    if not cfg.valid_fraction:
        raise DataError(
            f"dataset {name!r} has no valid split: set data.valid to a file, or data.valid_fraction "
            "(e.g. 0.05) to hold out the last part of the training side"
        )
    train, valid = split_for_validation(train, cfg.valid_fraction, source)
    return train, valid, source


def split_lines(cfg: DataConfig) -> tuple[list[str], list[str]]:
    """The training and validation lines ``cfg`` names (after any ``valid_fraction`` hold-out)."""
    train_lines, valid_lines, _ = _read_corpus_lines(cfg)
    return train_lines, valid_lines


def load_lm_corpus(cfg: DataConfig, directory: str | Path) -> LMCorpus:
    """Read, tokenize and number the corpus of ``cfg``; save tokenizer and vocabulary.

    Writes ``directory/tokenizer/`` and ``directory/vocab.json``. Raises DataError / ConfigError
    for missing files, invalid UTF-8 (with file, line and offset), or an empty training text.
    """
    directory = Path(directory)
    train_lines, valid_lines, source = _read_corpus_lines(cfg)
    tokenizer = build_tokenizer(cfg.tokenizer)
    tokenizer.fit(train_lines, directory / TOKENIZER_DIR)
    tokenize = tokenizer.tokenize
    train_tokens = [tokenize(line) for line in train_lines]
    if not any(train_tokens):
        raise DataError(f"{source}: the training text has no tokens")
    vocab = Vocabulary.build(train_tokens, cfg.vocab.min_freq, cfg.vocab.max_size)
    vocab.save(directory / VOCAB_FILE)
    train_ids = line_ids(train_tokens, vocab)
    valid_ids = line_ids((tokenize(line) for line in valid_lines), vocab)
    return _corpus(cfg, train_ids, valid_ids, tokenizer, vocab)


def reload_lm_corpus(cfg: DataConfig, directory: str | Path) -> LMCorpus:
    """Like :func:`load_lm_corpus`, but with the tokenizer and vocabulary already saved in
    ``directory`` (resume, other ranks): nothing is fitted or written."""
    tokenizer, vocab = load_text_pipeline(directory)
    train_lines, valid_lines, _ = _read_corpus_lines(cfg)
    tokenize = tokenizer.tokenize
    train_ids = line_ids((tokenize(line) for line in train_lines), vocab)
    valid_ids = line_ids((tokenize(line) for line in valid_lines), vocab)
    return _corpus(cfg, train_ids, valid_ids, tokenizer, vocab)


def line_ids(token_lists: Iterable[Sequence[str]], vocab: Vocabulary) -> list[list[int]]:
    """Each line's ids (unknown tokens as ``<unk>``), no ``<eos>``."""
    get, unk = vocab.stoi.get, vocab.unk_id
    return [[get(token, unk) for token in tokens] for tokens in token_lists]


def _corpus(
    cfg: DataConfig, train: list[list[int]], valid: list[list[int]], tokenizer: Tokenizer, vocab: Vocabulary
) -> LMCorpus:
    keep = cfg.lm_mode == "lines" or cfg.fresh_line_share > 0
    return LMCorpus(
        train=_stream(train, vocab.eos_id, cfg.add_eos),
        valid=_stream(valid, vocab.eos_id, cfg.add_eos),
        tokenizer=tokenizer,
        vocab=vocab,
        train_lines=train if keep else None,
        valid_lines=valid if keep else None,
    )


def _stream(lines: Iterable[Sequence[int]], eos: int, add_eos: bool) -> torch.Tensor:
    ids: list[int] = []
    for line in lines:
        ids.extend(line)
        if add_eos:
            ids.append(eos)
    return torch.tensor(ids, dtype=torch.long)


def encode_lines(
    lines: Iterable[str], tokenizer: Tokenizer, vocab: Vocabulary, add_eos: bool = True
) -> torch.Tensor:
    """Tokenize and number lines into one stream: LongTensor[N] (each line + ``<eos>`` if set)."""
    tokenize = tokenizer.tokenize
    return _stream(line_ids((tokenize(line) for line in lines), vocab), vocab.eos_id, add_eos)


def load_text_pipeline(directory: str | Path) -> tuple[Tokenizer, Vocabulary]:
    """The tokenizer and vocabulary a run directory saved (``tokenizer/``, ``vocab.json``)."""
    directory = Path(directory)
    return load_tokenizer(directory / TOKENIZER_DIR), Vocabulary.load(directory / VOCAB_FILE)


def encode_file(path: str | Path, directory: str | Path, add_eos: bool = True) -> torch.Tensor:
    """Encode a text file with the tokenizer and vocabulary saved in run ``directory``:
    LongTensor[N] (used by ``seqlab evaluate DIR --data FILE`` and ``seqlab score``)."""
    tokenizer, vocab = load_text_pipeline(directory)
    return encode_lines(read_lines(path), tokenizer, vocab, add_eos)
