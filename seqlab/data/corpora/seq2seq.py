"""Seq2Seq corpora: pairs -> encoded pairs, with the run's tokenizers and vocabularies.

The pairs come from a catalogue entry (``data.dataset``, :mod:`seqlab.data.catalogue.seq2seq_pairs`) or from
files (``format: parallel`` with two aligned files per split, ``tsv``, ``jsonl``, ``dailydialog`` or
``aeslc``). Without validation files, ``data.valid_fraction`` of the training pairs is held out,
seeded by ``training.seed``. Each side has its own tokenizer and vocabulary; with ``data.share_vocab`` one
vocabulary is built from both sides (and, when both sides have the same tokenizer settings, one
tokenizer is fitted on both); sentencepiece keeps ``data.turn_separator`` as one piece when the
training text holds it (dialogue contexts). On a fresh run they are fitted on the training pairs
and saved into the run directory (``source_tokenizer/``, ``target_tokenizer/``, ``source_vocab.json``,
``target_vocab.json``); on resume and at prediction time they are read back from there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from seqlab.config import DataConfig, ExperimentConfig
from seqlab.data.batching.seq2seq import EncodedPair
from seqlab.data.catalogue.seq2seq_pairs import read_dataset_pairs, seq2seq_splits
from seqlab.data.readers.aeslc import read_emails, subject_pairs
from seqlab.data.readers.dialogue import read_dialogue_pairs
from seqlab.data.readers.labelled import holdout
from seqlab.data.readers.parallel import (
    Pair,
    PairReport,
    read_jsonl_pairs,
    read_parallel_files,
    read_tsv_pairs,
)
from seqlab.errors import ConfigError, DataError
from seqlab.rundir.names import (
    SOURCE_TOKENIZER_DIR,
    SOURCE_VOCAB_FILE,
    TARGET_TOKENIZER_DIR,
    TARGET_VOCAB_FILE,
)
from seqlab.text.extended_vocab import SourceCopy, extend_source
from seqlab.text.tokenizers import Tokenizer, build_tokenizer, load_tokenizer
from seqlab.text.vocab import Vocabulary

logger = logging.getLogger(__name__)


@dataclass
class Seq2SeqPipeline:
    """Tokenizers and vocabularies of both sides: saved in (and loaded from) a run directory.
    ``source_truncate`` (the run's ``data.source_truncate``, from its config, not saved here): every
    source is read as its first that many tokens, in training and in every decoding alike."""

    source_tokenizer: Tokenizer
    target_tokenizer: Tokenizer
    source_vocab: Vocabulary
    target_vocab: Vocabulary
    source_truncate: int | None = None

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        self.source_tokenizer.save(directory / SOURCE_TOKENIZER_DIR)
        self.target_tokenizer.save(directory / TARGET_TOKENIZER_DIR)
        self.source_vocab.save(directory / SOURCE_VOCAB_FILE)
        self.target_vocab.save(directory / TARGET_VOCAB_FILE)

    @classmethod
    def load(cls, directory: str | Path, source_truncate: int | None) -> Seq2SeqPipeline:
        """The pipeline saved in ``directory``; ``source_truncate`` is the run's (its config's
        ``data.source_truncate``), required so that no reader decodes other sources than training read."""
        directory = Path(directory)
        return cls(
            source_tokenizer=load_tokenizer(directory / SOURCE_TOKENIZER_DIR),
            target_tokenizer=load_tokenizer(directory / TARGET_TOKENIZER_DIR),
            source_vocab=Vocabulary.load(directory / SOURCE_VOCAB_FILE),
            target_vocab=Vocabulary.load(directory / TARGET_VOCAB_FILE),
            source_truncate=source_truncate,
        )

    def source_tokens(self, text: str, max_length: int | None = None) -> list[str]:
        """The source tokens the model reads: the first ``source_truncate`` (and ``max_length``)
        tokens, at least one (``<unk>`` for a text without tokens)."""
        limits = [n for n in (self.source_truncate, max_length) if n is not None]
        return self.source_tokenizer.tokenize(text)[: min(limits, default=None)] or ["<unk>"]

    def source_ids(self, text: str, max_length: int | None = None) -> list[int]:
        return self.source_vocab.encode(self.source_tokens(text, max_length))

    def source_copy(self, text: str, max_length: int | None = None) -> SourceCopy:
        """The source's copy ids over the extended target vocabulary (copy attention), one per
        token of :meth:`source_tokens`."""
        return extend_source(self.source_tokens(text, max_length), self.target_vocab)

    def target_tokens(self, text: str) -> list[str]:
        return self.target_tokenizer.tokenize(text)

    def target_ids(self, text: str) -> list[int]:
        return self.target_vocab.encode(self.target_tokens(text))

    def target_text(self, tokens: list[str]) -> str:
        """Detokenize output tokens into text."""
        return self.target_tokenizer.detokenize(tokens)


@dataclass
class Seq2SeqCorpus:
    """Encoded training and validation pairs, the raw validation pairs (for decoded metrics) and
    the pipeline."""

    train: list[EncodedPair]
    valid: list[EncodedPair]
    valid_pairs: list[Pair]
    pipeline: Seq2SeqPipeline


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def read_pair_file(cfg: ExperimentConfig, path: str | Path, target: str | Path | None = None) -> PairReport:
    """The pairs of one file in the run's format (``tsv``/``jsonl``/``dailydialog``/``aeslc``), or of
    two aligned files (``path`` the source, ``target`` the target) whatever the format."""
    data = cfg.data
    if target is not None:
        return read_parallel_files(path, target)
    if data.format == "dailydialog":
        return read_dialogue_pairs(path, data.context_turns, data.turn_separator, data.on_error)
    if data.format == "aeslc":
        return subject_pairs(read_emails(path, data.on_error))
    if data.format == "tsv":
        return read_tsv_pairs(path, data.source_field, data.target_field, on_error=data.on_error)
    if data.format == "jsonl":
        return read_jsonl_pairs(path, data.source_field, data.target_field)
    raise ConfigError(
        f"data.format = {data.format!r}: two aligned files are needed (a source file and its target file)"
    )


def read_seq2seq_splits(cfg: ExperimentConfig) -> tuple[PairReport, PairReport]:
    """Training and validation pairs of ``cfg``: dataset, files, or a seeded hold-out."""
    data = cfg.data
    if data.dataset is not None:
        train = read_dataset_pairs(data.dataset, "train", data)
        if data.valid_source is not None:
            valid = read_parallel_files(data.valid_source, data.valid_target)
        elif data.valid is not None:
            valid = read_pair_file(cfg, data.valid)
        elif "valid" in seq2seq_splits(data.dataset):
            valid = read_dataset_pairs(data.dataset, "valid", data)
        else:
            return _holdout(cfg, train, data.dataset)
    else:
        if data.format == "parallel":
            if data.train_source is None or data.train_target is None:
                raise ConfigError("format parallel: set data.train_source and data.train_target")
            train = read_parallel_files(data.train_source, data.train_target)
            valid = read_parallel_files(data.valid_source, data.valid_target) if data.valid_source else None
        else:
            if data.train is None:
                raise ConfigError(f"format {data.format}: set data.train (or data.dataset)")
            train = read_pair_file(cfg, data.train)
            valid = read_pair_file(cfg, data.valid) if data.valid else None
        if valid is None:
            return _holdout(cfg, train, data.train_source or data.train)
    return train, valid


def _holdout(cfg: ExperimentConfig, train: PairReport, what: str | None) -> tuple[PairReport, PairReport]:
    if not cfg.data.valid_fraction:
        raise DataError(
            f"no validation data for {what}: set data.valid_source/valid_target (parallel), data.valid, "
            "or data.valid_fraction (e.g. 0.05) to hold out a seeded random part of the training pairs"
        )
    kept, held = holdout(train.pairs, cfg.data.valid_fraction, cfg.training.seed)
    return PairReport(kept, train.dropped_empty, train.skipped), PairReport(held)


# ---------------------------------------------------------------------------------------------
# Fitting and encoding
# ---------------------------------------------------------------------------------------------


def kept_symbols(data: DataConfig, texts: list[str]) -> tuple[str, ...]:
    """The symbols a sentencepiece tokenizer fitted on ``texts`` must keep whole: the turn separator
    when the texts hold it (dialogue contexts), else none (other recipes' pieces stay as they were)."""
    separator = data.turn_separator
    return (separator,) if any(separator in text for text in texts) else ()


def fit_pipeline(cfg: ExperimentConfig, pairs: list[Pair], directory: Path) -> Seq2SeqPipeline:
    """Tokenizers and vocabularies fitted on the training pairs, saved into ``directory``."""
    data = cfg.data
    directory = Path(directory)
    sources, targets = [p.source for p in pairs], [p.target for p in pairs]
    if data.share_vocab and data.source_tokenizer == data.target_tokenizer:
        source_tok = build_tokenizer(data.source_tokenizer, kept_symbols(data, sources + targets))
        source_tok.fit(sources + targets, directory / SOURCE_TOKENIZER_DIR)
        target_tok = source_tok
    else:
        source_tok = build_tokenizer(data.source_tokenizer, kept_symbols(data, sources))
        source_tok.fit(sources, directory / SOURCE_TOKENIZER_DIR)
        target_tok = build_tokenizer(data.target_tokenizer, kept_symbols(data, targets))
        target_tok.fit(targets, directory / TARGET_TOKENIZER_DIR)
    source_lists = [source_tok.tokenize(s) for s in sources]
    target_lists = [target_tok.tokenize(t) for t in targets]
    if not any(source_lists) or not any(target_lists):
        raise DataError("the training pairs have no tokens on one side")
    if data.share_vocab:
        vocab = Vocabulary.build(
            source_lists + target_lists, data.source_vocab.min_freq, data.source_vocab.max_size
        )
        source_vocab = target_vocab = vocab
    else:
        source_vocab = Vocabulary.build(source_lists, data.source_vocab.min_freq, data.source_vocab.max_size)
        target_vocab = Vocabulary.build(target_lists, data.target_vocab.min_freq, data.target_vocab.max_size)
    pipeline = Seq2SeqPipeline(source_tok, target_tok, source_vocab, target_vocab, data.source_truncate)
    pipeline.save(directory)
    return pipeline


def encode_pairs(
    pipeline: Seq2SeqPipeline,
    pairs: list[Pair],
    max_source_length: int | None = None,
    max_target_length: int | None = None,
    copy: bool = False,
) -> tuple[list[EncodedPair], list[Pair]]:
    """Encode ``pairs``; a pair longer than a limit (in tokens) is dropped and returned as such.
    ``copy``: also the source's copy ids, and target ids over its extended vocabulary."""
    encoded, too_long = [], []
    for pair in pairs:
        source = pipeline.source_ids(pair.source)
        source_copy = None
        if copy:
            extended = pipeline.source_copy(pair.source)
            source_copy = extended.ids
            target = extended.target_ids(pipeline.target_tokens(pair.target), pipeline.target_vocab)
        else:
            target = pipeline.target_ids(pair.target)
        if (max_source_length and len(source) > max_source_length) or (
            max_target_length and len(target) > max_target_length
        ):
            too_long.append(pair)
            continue
        encoded.append(EncodedPair(source, target, source_copy))
    return encoded, too_long


def load_seq2seq_corpus(cfg: ExperimentConfig, directory: str | Path, fit: bool = True) -> Seq2SeqCorpus:
    """Read the splits of ``cfg``; fit and save the pipeline into ``directory`` (``fit``) or load
    the one saved there (resume, other ranks); encode both splits, dropping (and counting) training
    pairs over the length limits."""
    directory = Path(directory)
    train, valid = read_seq2seq_splits(cfg)
    train.log("the training data")
    valid.log("the validation data")
    if not train.pairs:
        raise DataError("no training pairs (every pair had an empty side?)")
    if not valid.pairs:
        raise DataError("no validation pairs (every pair had an empty side?)")
    if fit:
        pipeline = fit_pipeline(cfg, train.pairs, directory)
    else:
        pipeline = Seq2SeqPipeline.load(directory, cfg.data.source_truncate)
    data = cfg.data
    copy = cfg.model.copy_attention
    train_encoded, too_long = encode_pairs(
        pipeline, train.pairs, data.max_source_length, data.max_target_length, copy=copy
    )
    if too_long:
        logger.warning(
            "dropped %d training pair(s) longer than max_source_length=%s / max_target_length=%s (first: %s)",
            len(too_long),
            data.max_source_length,
            data.max_target_length,
            too_long[0].origin,
        )
    if not train_encoded:
        raise DataError("every training pair is longer than data.max_source_length / max_target_length")
    valid_encoded, _ = encode_pairs(pipeline, valid.pairs, copy=copy)
    return Seq2SeqCorpus(train_encoded, valid_encoded, valid.pairs, pipeline)
