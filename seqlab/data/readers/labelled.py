"""Readers for labelled text (classification): files -> ``LabelledExample`` lists, strictly.

Three formats, one example per line (files are strict UTF-8, ``.gz`` transparent, via
:func:`seqlab.data.readers.lines.read_lines`):

- ``tsv``: ``text<TAB>label``; the *last* tab separates the label (ChnSentiCorp style).
- ``label_text``: ``label text ...``; the first whitespace-separated token is the label
  (SST-2 ``1 a gorgeous film``, TREC ``DESC:manner How did ...``).
- ``jsonl``: one JSON object per line with a ``text_field`` (a string) and a ``label_field``
  (a string, int or bool, stored as ``str(label)``).

Text and label are stripped of surrounding whitespace (so a ``\\r`` of a CRLF file goes).
Every line must hold an example: a blank line, a missing tab or label, invalid JSON, a missing
field or an empty text raises :class:`DataError` naming ``FILE:LINE``, the field and what was
expected. With ``on_error="skip"`` such lines are skipped and counted instead. An unreadable
file (missing, invalid UTF-8, bad gzip) always raises.
"""

from __future__ import annotations

import difflib
import json
import random
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from seqlab.data.readers.lines import read_lines, read_lines_or_errors
from seqlab.errors import ConfigError, DataError
from seqlab.rundir.files import atomic_write_json, read_versioned_json

FORMATS = ("tsv", "label_text", "jsonl")
ON_ERROR = ("fail", "skip")
LABELSET_FORMAT_VERSION = 1
MAX_SKIPPED_MESSAGES = 100  # messages kept in a report; ``skipped_count`` counts them all

T = TypeVar("T")


@dataclass(frozen=True)
class LabelledExample:
    """One text with its label, and where it came from (``source:line``, 1-based)."""

    text: str
    label: str
    source: str
    line: int


@dataclass
class LabelledReport:
    """What a reader (or :meth:`LabelSet.check`) kept, and what it skipped.

    ``skipped`` holds the first :data:`MAX_SKIPPED_MESSAGES` messages (``FILE:LINE: problem``);
    ``skipped_count`` counts every skipped line.
    """

    examples: list[LabelledExample] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    skipped_count: int = 0

    def skip(self, message: str) -> None:
        """Record one skipped line."""
        self.skipped_count += 1
        if len(self.skipped) < MAX_SKIPPED_MESSAGES:
            self.skipped.append(message)

    def describe_skipped(self, limit: int = 3) -> str:
        """``"N lines skipped"`` followed by the first ``limit`` messages, one per line."""
        if not self.skipped_count:
            return "no lines skipped"
        shown = "\n".join(f"  {m}" for m in self.skipped[:limit])
        more = self.skipped_count - min(limit, len(self.skipped))
        tail = f"\n  ... and {more} more" if more > 0 else ""
        return f"{self.skipped_count} lines skipped:\n{shown}{tail}"


def _check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} = {value!r}: must be one of {', '.join(map(repr, choices))}")


def _parse_tsv(line: str) -> tuple[str, str]:
    text, tab, label = line.rpartition("\t")
    if not tab:
        raise ValueError("no tab: expected 'text<TAB>label'")
    return text, label


def _parse_label_text(line: str) -> tuple[str, str]:
    parts = line.split(None, 1)
    if not parts:
        raise ValueError("blank line: expected 'label text ...'")
    return (parts[1] if len(parts) > 1 else ""), parts[0]


def _did_you_mean(name: str, keys: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(keys), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _parse_jsonl(line: str, text_field: str, label_field: str) -> tuple[str, str]:
    if not line.strip():
        raise ValueError("blank line: expected a JSON object")
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON ({exc.msg} at column {exc.colno}): expected one object") from None
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    keys = [str(k) for k in record]
    for name in (text_field, label_field):
        if name not in record or record[name] is None:
            raise ValueError(
                f"field {name!r} missing: keys found: {keys}{_did_you_mean(name, keys)} "
                "(set text_field / label_field)"
            )
    text, label = record[text_field], record[label_field]
    if not isinstance(text, str):
        raise ValueError(f"field {text_field!r}: expected a string, got {type(text).__name__}")
    if not isinstance(label, (str, int)):  # bool is an int
        raise ValueError(f"field {label_field!r}: expected a string, int or bool, got {type(label).__name__}")
    return text, str(label)


def read_labelled(
    path: str | Path,
    format: str,
    text_field: str = "text",
    label_field: str = "label",
    on_error: str = "fail",
    coarse_labels: bool = False,
) -> LabelledReport:
    """Read one labelled example per line of ``path``.

    Args:
        path: the file (``.gz`` read transparently).
        format: ``"tsv"``, ``"label_text"`` or ``"jsonl"`` (see the module docstring).
        text_field, label_field: the JSON keys of text and label (``jsonl`` only).
        on_error: ``"fail"`` raises DataError at the first malformed line; ``"skip"`` skips it
            (a line with invalid UTF-8 too) and records the message in the report.
        coarse_labels: keep only the part of each label before the first ``':'``
            (TREC: ``DESC:manner`` -> ``DESC``).

    Returns:
        A :class:`LabelledReport`. Raises DataError when the file holds no example at all.
    """
    _check_choice("format", format, FORMATS)
    _check_choice("on_error", on_error, ON_ERROR)
    source = str(path)
    report = LabelledReport()
    lines = read_lines_or_errors(path) if on_error == "skip" else read_lines(path)
    for number, line in enumerate(lines, start=1):
        if isinstance(line, DataError):  # invalid UTF-8 on this line, skipped under on_error='skip'
            report.skip(str(line))
            continue
        try:
            if format == "tsv":
                text, label = _parse_tsv(line)
            elif format == "label_text":
                text, label = _parse_label_text(line)
            else:
                text, label = _parse_jsonl(line, text_field, label_field)
            text, label = text.strip(), label.strip()
            if coarse_labels:
                label = label.split(":", 1)[0]
            text_name = f"field {text_field!r}" if format == "jsonl" else "text"
            label_name = f"field {label_field!r}" if format == "jsonl" else "label"
            if not label:
                raise ValueError(f"{label_name} is empty: expected a label")
            if not text:
                raise ValueError(f"{text_name} is empty: expected some text")
        except ValueError as exc:
            message = f"{source}:{number}: {exc}"
            if on_error == "fail":
                raise DataError(f"{message} (format {format!r}; on_error='skip' skips such lines)") from None
            report.skip(message)
            continue
        report.examples.append(LabelledExample(text, label, source, number))
    if not report.examples:
        why = ""
        if report.skipped_count:  # one line: the count and the first reason
            why = f": {report.skipped_count} lines skipped, the first {report.skipped[0]}"
        raise DataError(f"{source}: no examples{why}")
    return report


def _label_sort_key(labels: Iterable[str]) -> Callable[[str], tuple[int, str]] | None:
    """Numeric order when every label is an integer (``2`` before ``10``), else string order."""
    labels = list(labels)
    try:
        [int(label) for label in labels]
    except ValueError:
        return None
    return lambda label: (int(label), label)


class LabelSet:
    """The ordered list of class labels, built from the training labels.

    The order is deterministic: numeric when every label is an integer, otherwise sorted as
    strings. ``index(label)`` gives the class id used by the model.
    """

    def __init__(self, labels: Iterable[str]) -> None:
        labels = list(labels)
        if not labels:
            raise DataError("a label set needs at least one label")
        if len(set(labels)) != len(labels):
            duplicates = sorted(label for label, n in Counter(labels).items() if n > 1)
            raise DataError(f"duplicate labels in label set: {duplicates[:10]}")
        self.labels: tuple[str, ...] = tuple(labels)
        self._index = {label: i for i, label in enumerate(self.labels)}

    @classmethod
    def build(cls, labels: Iterable[str]) -> LabelSet:
        """The distinct ``labels``, sorted (numerically when all are integers)."""
        distinct = set(labels)
        return cls(sorted(distinct, key=_label_sort_key(distinct)))

    @classmethod
    def from_examples(cls, examples: Iterable[LabelledExample]) -> LabelSet:
        """The label set of (training) ``examples``."""
        return cls.build(example.label for example in examples)

    def __len__(self) -> int:
        return len(self.labels)

    def __contains__(self, label: object) -> bool:
        return label in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self.labels)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LabelSet) and other.labels == self.labels

    def __repr__(self) -> str:
        return f"LabelSet({list(self.labels)!r})"

    def index(self, label: str) -> int:
        """The class id of ``label``; DataError listing the valid labels when it is unknown."""
        try:
            return self._index[label]
        except KeyError:
            raise DataError(f"unknown label {label!r}: valid labels are {self._listing()}") from None

    def label(self, index: int) -> str:
        """The label of class id ``index``."""
        return self.labels[index]

    def _listing(self, limit: int = 30) -> str:
        shown = ", ".join(repr(label) for label in self.labels[:limit])
        return shown + (f", ... ({len(self.labels)} in all)" if len(self.labels) > limit else "")

    def check(
        self, examples: Sequence[LabelledExample], source: str = "the data", on_error: str = "fail"
    ) -> LabelledReport:
        """Check that every example's label is in the set.

        With ``on_error="fail"`` raise DataError naming ``FILE:LINE`` of the first unknown label,
        the valid labels, and how many examples in ``source`` (e.g. ``"the validation set"``)
        have unknown labels; with ``"skip"`` return the known ones, the others recorded as skipped.
        """
        _check_choice("on_error", on_error, ON_ERROR)
        unknown = [example for example in examples if example.label not in self._index]
        report = LabelledReport(examples=[e for e in examples if e.label in self._index])
        if not unknown:
            return report
        counts = Counter(example.label for example in unknown)
        first = unknown[0]
        if on_error == "fail":
            top = ", ".join(f"{label!r} ({n})" for label, n in counts.most_common(10))
            raise DataError(
                f"{first.source}:{first.line}: label {first.label!r} is not one of the "
                f"{len(self)} training labels: {self._listing()}; {len(unknown)} examples in {source} "
                f"have unknown labels: {top} (on_error='skip' drops them)"
            )
        for example in unknown:
            report.skip(f"{example.source}:{example.line}: unknown label {example.label!r}")
        return report

    def save(self, path: str | Path) -> None:
        """Write the labels as JSON (``format_version``, ``labels``), atomically."""
        atomic_write_json(path, {"format_version": LABELSET_FORMAT_VERSION, "labels": list(self.labels)})

    @classmethod
    def load(cls, path: str | Path) -> LabelSet:
        """Read a label set written by :meth:`save`; a missing or malformed file raises DataError."""
        data = read_versioned_json(path, "label set", LABELSET_FORMAT_VERSION)
        labels = data.get("labels")
        if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
            raise DataError(f"{path}: not a valid label set file: 'labels' must be a list of strings")
        try:
            return cls(labels)
        except DataError as exc:
            raise DataError(f"{path}: not a valid label set file: {exc}") from None


def holdout(examples: Sequence[T], fraction: float, seed: int) -> tuple[list[T], list[T]]:
    """Split ``examples`` into ``(train, valid)`` with ``round(len * fraction)`` (at least 1)
    examples drawn at random by ``seed`` for validation; both keep the original order.

    The same examples, fraction and seed always give the same split (TREC: 10% of train).
    """
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"holdout fraction = {fraction}: must be between 0 and 1 (exclusive)")
    count = max(1, round(len(examples) * fraction))
    if count >= len(examples):
        raise DataError(
            f"cannot hold out {fraction:.0%} of {len(examples)} examples: nothing would be left to train on"
        )
    chosen = set(random.Random(seed).sample(range(len(examples)), count))
    train = [example for i, example in enumerate(examples) if i not in chosen]
    valid = [example for i, example in enumerate(examples) if i in chosen]
    return train, valid
