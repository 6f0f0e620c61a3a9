"""Classification and tagging corpora: labelled files -> encoded examples, with the run's
tokenizer, vocabulary and label set.

The data comes from a catalogue entry (``data.dataset``) or files (``data.train``/``data.valid``),
read in ``data.format`` by :mod:`seqlab.data.readers.labelled` or :mod:`seqlab.data.readers.tagged`. Without a
validation file, ``data.valid_fraction`` of the training examples is held out at random, seeded by
``training.seed``. On a fresh run the tokenizer, ``vocab.json``, ``labels.json`` (classes or tags)
and, for a tagger with character features, ``chars.json`` are fitted on the training split and
written into the run directory; on resume (and at prediction time) they are read back from there.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from seqlab.config import DataConfig, ExperimentConfig
from seqlab.data.batching.labelled import EncodedTags, EncodedText
from seqlab.data.catalogue.lookup import get_dataset, resolve_split
from seqlab.data.readers.labelled import LabelledExample, LabelSet, holdout, read_labelled
from seqlab.data.readers.tagged import TaggedSentence, read_brown_zip, read_conll, read_word_tag
from seqlab.errors import ConfigError, DataError
from seqlab.rundir.names import CHARS_FILE, LABELS_FILE, TOKENIZER_DIR, VOCAB_FILE
from seqlab.text.tokenizers import Tokenizer, build_tokenizer, load_tokenizer
from seqlab.text.vocab import Vocabulary

logger = logging.getLogger(__name__)

TAGGER_TOKENIZERS = ("word", "jieba")


@dataclass
class TextPipeline:
    """What turns raw text into ids and ids into labels: saved in (and loaded from) a run directory."""

    tokenizer: Tokenizer
    vocab: Vocabulary
    labels: LabelSet
    chars: Vocabulary | None = None

    def save(self, directory: Path) -> None:
        self.tokenizer.save(directory / TOKENIZER_DIR)
        self.vocab.save(directory / VOCAB_FILE)
        self.labels.save(directory / LABELS_FILE)
        if self.chars is not None:
            self.chars.save(directory / CHARS_FILE)

    @classmethod
    def load(cls, directory: str | Path) -> TextPipeline:
        directory = Path(directory)
        chars = directory / CHARS_FILE
        return cls(
            tokenizer=load_tokenizer(directory / TOKENIZER_DIR),
            vocab=Vocabulary.load(directory / VOCAB_FILE),
            labels=LabelSet.load(directory / LABELS_FILE),
            chars=Vocabulary.load(chars) if chars.is_file() else None,
        )

    # -- encoding -------------------------------------------------------------------------------
    def text_ids(self, text: str, max_length: int | None = None) -> list[int]:
        """The token ids of ``text`` (at least one: ``<unk>`` when it has no tokens), truncated."""
        ids = self.vocab.encode(self.tokenizer.tokenize(text))[:max_length] or [self.vocab.unk_id]
        return ids

    def normalise_word(self, word: str) -> str:
        return word.lower() if self.tokenizer.lowercase else word

    def word_ids(self, words: Sequence[str]) -> tuple[list[int], list[list[int]] | None]:
        """Ids of pre-split ``words`` and, with a char vocabulary, the char ids of each word."""
        ids = self.vocab.encode([self.normalise_word(w) for w in words])
        if self.chars is None:
            return ids, None
        return ids, [self.chars.encode(list(w)) or [self.chars.unk_id] for w in words]


@dataclass
class Corpus:
    """Encoded training and validation examples of a classifier or tagger, and their pipeline."""

    train: list
    valid: list
    pipeline: TextPipeline


# ---------------------------------------------------------------------------------------------
# Where the files are
# ---------------------------------------------------------------------------------------------


def _sources(cfg: DataConfig, task: str) -> tuple[Path, Path | None, float | None]:
    """Training file, validation file (or None) and the entry's own hold-out fraction."""
    if cfg.dataset is None:
        if cfg.train is None:
            raise ConfigError("data.dataset and data.train are both null: name a catalogue dataset or a file")
        return Path(cfg.train), Path(cfg.valid) if cfg.valid else None, None
    entry = get_dataset(cfg.dataset)
    wanted = {"classifier": "cls", "tagger": "tag"}[task]
    if entry.task != wanted:
        raise ConfigError(
            f"data.dataset = {cfg.dataset!r} is a {entry.task} dataset; a {task} needs a {wanted} dataset "
            "(seqlab data list) or data.train"
        )
    split = "all" if "all" in entry.splits else "train"
    train = resolve_split(cfg.dataset, split)
    valid = resolve_split(cfg.dataset, "valid") if "valid" in entry.splits else None
    if cfg.valid is not None:
        valid = Path(cfg.valid)
    return train, valid, entry.valid_fraction


def _read_labelled(cfg: DataConfig, path: Path) -> list[LabelledExample]:
    report = read_labelled(path, cfg.format, cfg.text_field, cfg.label_field, cfg.on_error, cfg.coarse_labels)
    if report.skipped_count:
        logger.warning(
            "skipped %d malformed line(s) in %s (first: %s)", report.skipped_count, path, report.skipped[0]
        )
    return report.examples


def _read_tagged(cfg: DataConfig, path: Path) -> list[TaggedSentence]:
    if cfg.format == "word_tag":
        sentences = read_word_tag(path)
    elif cfg.format == "conll":
        sentences = read_conll(path, cfg.word_column, cfg.tag_column)
    else:
        raise ConfigError(f"data.format = {cfg.format!r}: a separate file needs word_tag or conll")
    if not sentences:
        raise DataError(f"{path}: no tagged sentences")
    return sentences


def read_splits(cfg: ExperimentConfig) -> tuple[list, list]:
    """The raw training and validation examples of ``cfg`` (LabelledExample or TaggedSentence)."""
    data = cfg.data
    train_path, valid_path, entry_fraction = _sources(data, cfg.task)
    if cfg.task == "tagger" and data.format == "brown_zip":
        train, valid = read_brown_zip(train_path, every=data.split_every, simplify=data.coarse_labels)
        if data.valid is not None:
            valid = _read_tagged(_as_word_tag(data), Path(data.valid))
        return train, valid
    read = _read_labelled if cfg.task == "classifier" else _read_tagged
    train = read(data, train_path)
    if valid_path is not None:
        return train, read(data, valid_path)
    fraction = data.valid_fraction if data.valid_fraction > 0 else entry_fraction
    if not fraction:
        raise DataError(
            f"no validation data for {train_path}: set data.valid to a file, or data.valid_fraction "
            "(e.g. 0.1) to hold out a seeded random part of the training examples"
        )
    return holdout(train, fraction, cfg.training.seed)


def _as_word_tag(data: DataConfig) -> DataConfig:
    """A Brown run validating on (or evaluated with) a separate file reads it as ``word_tag``."""
    return dataclasses.replace(data, format="word_tag")


def read_eval_examples(cfg: ExperimentConfig, path: str | Path) -> list:
    """Examples of one evaluation file, read with the run's format and field names."""
    data = cfg.data
    if cfg.task == "classifier":
        return _read_labelled(data, Path(path))
    if data.format == "brown_zip":
        data = _as_word_tag(data)
    return _read_tagged(data, Path(path))


# ---------------------------------------------------------------------------------------------
# Fitting and encoding
# ---------------------------------------------------------------------------------------------


def fit_pipeline(cfg: ExperimentConfig, train: list, directory: Path) -> TextPipeline:
    """Tokenizer, vocabulary, label set (and char vocabulary) from the training examples."""
    data = cfg.data
    tokenizer = build_tokenizer(data.tokenizer)
    if cfg.task == "classifier":
        tokenizer.fit([e.text for e in train], directory / TOKENIZER_DIR)
        token_lists = [tokenizer.tokenize(e.text) for e in train]
        labels = LabelSet.from_examples(train)
        chars = None
    else:
        if data.tokenizer.kind not in TAGGER_TOKENIZERS:
            raise ConfigError(
                f"data.tokenizer.kind = {data.tokenizer.kind!r}: a tagger reads whole words; "
                f"use one of {', '.join(TAGGER_TOKENIZERS)}"
            )
        tokenizer.fit([" ".join(s.words) for s in train], directory / TOKENIZER_DIR)
        lower = data.tokenizer.lowercase
        token_lists = [[w.lower() if lower else w for w in s.words] for s in train]
        labels = LabelSet.build(tag for s in train for tag in s.tags)
        chars = (
            Vocabulary.build([list(w) for s in train for w in s.words]) if cfg.model.char_features else None
        )
    if not any(token_lists):
        raise DataError("the training data has no tokens")
    vocab = Vocabulary.build(token_lists, data.vocab.min_freq, data.vocab.max_size)
    pipeline = TextPipeline(tokenizer, vocab, labels, chars)
    pipeline.save(directory)
    return pipeline


def encode_examples(
    cfg: ExperimentConfig, pipeline: TextPipeline, examples: list, source: str, on_error: str | None = None
) -> list:
    """Encode raw examples; labels outside the label set fail naming file:line (or are skipped
    and counted when ``data.on_error`` is ``skip``)."""
    on_error = on_error or cfg.data.on_error
    max_length = cfg.data.max_length
    if cfg.task == "classifier":
        report = pipeline.labels.check(examples, source, on_error)
        if report.skipped_count:
            logger.warning(
                "skipped %d example(s) of %s with unknown labels (first: %s)",
                report.skipped_count,
                source,
                report.skipped[0],
            )
        return [
            EncodedText(pipeline.text_ids(e.text, max_length), pipeline.labels.index(e.label))
            for e in report.examples
        ]
    encoded = []
    skipped: list[str] = []
    for sentence in examples:
        unknown = [t for t in sentence.tags if t not in pipeline.labels]
        if unknown:
            message = f"{sentence.source}:{sentence.line}: tag {unknown[0]!r} is not one of the training tags"
            if on_error == "fail":
                raise DataError(
                    f"{message} ({len(pipeline.labels)} tags; on_error='skip' drops such sentences)"
                )
            skipped.append(message)
            continue
        words, tags = sentence.words[:max_length], sentence.tags[:max_length]
        ids, chars = pipeline.word_ids(words)
        encoded.append(EncodedTags(ids, [pipeline.labels.index(t) for t in tags], chars))
    if skipped:
        logger.warning("skipped %d sentence(s) of %s (first: %s)", len(skipped), source, skipped[0])
    return encoded


def load_corpus(cfg: ExperimentConfig, directory: str | Path, fit: bool = True) -> Corpus:
    """Read the splits of ``cfg``; fit and save the pipeline into ``directory`` (``fit``) or load
    the one saved there (resume, other ranks); encode both splits."""
    directory = Path(directory)
    train, valid = read_splits(cfg)
    pipeline = fit_pipeline(cfg, train, directory) if fit else TextPipeline.load(directory)
    return Corpus(
        train=encode_examples(cfg, pipeline, train, "the training set"),
        valid=encode_examples(cfg, pipeline, valid, "the validation set"),
        pipeline=pipeline,
    )
