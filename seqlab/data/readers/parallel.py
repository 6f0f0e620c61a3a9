"""Readers of parallel data: source/target pairs from two aligned files, or one TSV/JSONL file.

Two aligned files must have the same number of lines: a mismatch fails before anything is trained,
naming both files and both counts as ``wc -l`` counts them (newline characters). A pair with an
empty side (nothing but whitespace) is dropped as a pair and counted, so the rest stays aligned.
Text is strict UTF-8 (:mod:`seqlab.data.readers.lines`) unless an ``encoding`` is given (the CMU
dictionary's g014b2b files are latin-1); ``.gz`` files are read transparently.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from seqlab.data.readers.lines import read_bytes, read_lines, split_newlines
from seqlab.errors import DataError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pair:
    """One example: ``source`` and ``target`` text, and where it came from (``file:line``)."""

    source: str
    target: str
    origin: str = ""


@dataclass
class PairReport:
    """The pairs read, the pairs dropped because a side was empty (``file:line`` of each), and the
    malformed lines skipped under ``on_error="skip"`` (``file:line: problem`` of each)."""

    pairs: list[Pair] = field(default_factory=list)
    dropped_empty: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def add(self, source: str, target: str, origin: str) -> None:
        """Keep the pair, or drop (and count) it when either side is empty after stripping."""
        source, target = source.strip(), target.strip()
        if source and target:
            self.pairs.append(Pair(source, target, origin))
        else:
            self.dropped_empty.append(origin)

    def log(self, what: str) -> None:
        if self.skipped:
            logger.warning(
                "skipped %d malformed line(s) of %s (first: %s)", len(self.skipped), what, self.skipped[0]
            )
        if self.dropped_empty:
            logger.warning(
                "dropped %d pair(s) with an empty side from %s (first: %s)",
                len(self.dropped_empty),
                what,
                self.dropped_empty[0],
            )


def count_newlines(path: str | Path) -> int:
    """Lines as ``wc -l`` counts them: newline characters (of the decompressed text for ``.gz``)."""
    return read_bytes(path).count(b"\n")


def read_text_lines(path: str | Path, encoding: str = "utf-8") -> list[str]:
    """Lines of ``path`` (strict UTF-8 by default; another codec such as latin-1 when given)."""
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        return read_lines(path)
    try:
        return split_newlines(read_bytes(path).decode(encoding))
    except (UnicodeDecodeError, LookupError) as exc:
        raise DataError(f"{path}: cannot decode as {encoding}: {exc}") from None


def read_parallel_files(source: str | Path, target: str | Path, encoding: str = "utf-8") -> PairReport:
    """Pairs from two aligned files, line ``i`` of one with line ``i`` of the other.

    Raises DataError naming both files and both line counts (as ``wc -l``) when they differ.
    """
    source_lines = read_text_lines(source, encoding)
    target_lines = read_text_lines(target, encoding)
    if len(source_lines) != len(target_lines):
        counts = []
        for path in (source, target):
            n = count_newlines(path)
            lines = len(read_text_lines(path, encoding))
            note = "" if n == lines else f" ({lines} counting a last line without newline)"
            counts.append(f"{path} has {n} lines{note}")
        raise DataError(
            f"parallel files differ in length: {counts[0]}, {counts[1]} (as wc -l counts); "
            "line i of the source must translate line i of the target"
        )
    report = PairReport()
    for number, (src, tgt) in enumerate(zip(source_lines, target_lines), start=1):
        report.add(src, tgt, f"{source}:{number}")
    return report


def _column(value: str | None, default: int, name: str) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise DataError(f"data.{name} = {value!r}: a TSV column number, e.g. '0'") from None


def read_tsv_pairs(
    path: str | Path,
    source_column: str | None = None,
    target_column: str | None = None,
    encoding: str = "utf-8",
    separator: str = "\t",
    on_error: str = "fail",
) -> PairReport:
    """Pairs from the columns of a tab-separated file (default: column 0 is the source, 1 the target).

    Without column numbers every line has exactly two columns; with them, at least the columns
    named. Another line raises DataError naming file, line and the column count expected, or with
    ``on_error="skip"`` is skipped and recorded in the report.
    """
    src_col = _column(source_column, 0, "source_field")
    tgt_col = _column(target_column, 1, "target_field")
    exactly_two = source_column is None and target_column is None
    report = PairReport()
    for number, line in enumerate(read_text_lines(path, encoding), start=1):
        if number == 1:
            line = line.lstrip("\ufeff")
        line = line.rstrip("\r")
        if not line.strip():
            report.dropped_empty.append(f"{path}:{number}")
            continue
        cells = line.split(separator)
        problem = None
        if exactly_two and len(cells) > 2:
            problem = (
                f"{path}:{number}: {len(cells)} columns, expected 2 (source<TAB>target); a tab inside "
                "a text? set data.source_field / data.target_field to read two columns of a wider file"
            )
        elif max(src_col, tgt_col) >= len(cells) or min(src_col, tgt_col) < -len(cells):
            problem = (
                f"{path}:{number}: {len(cells)} column(s), need columns {src_col} (source) and "
                f"{tgt_col} (target); set data.source_field / data.target_field"
            )
        if problem is not None:
            if on_error == "fail":
                raise DataError(f"{problem} (data.on_error: skip skips such lines)")
            report.skipped.append(problem)
            continue
        report.add(cells[src_col], cells[tgt_col], f"{path}:{number}")
    return report


def read_jsonl_pairs(
    path: str | Path, source_field: str | None = None, target_field: str | None = None
) -> PairReport:
    """Pairs from a JSON-lines file (default fields ``source`` and ``target``).

    A line that is not a JSON object, or lacks a field, raises DataError naming file and line.
    """
    src_key, tgt_key = source_field or "source", target_field or "target"
    report = PairReport()
    for number, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{number}: not valid JSON: {exc.msg}") from None
        if not isinstance(record, dict):
            raise DataError(f"{path}:{number}: expected a JSON object, got {type(record).__name__}")
        missing = [key for key in (src_key, tgt_key) if key not in record]
        if missing:
            raise DataError(
                f"{path}:{number}: no field {missing[0]!r} (fields: {', '.join(record)}); "
                "set data.source_field / data.target_field"
            )
        report.add(_as_text(record[src_key]), _as_text(record[tgt_key]), f"{path}:{number}")
    return report


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


def merge_reports(reports: Iterable[PairReport]) -> PairReport:
    merged = PairReport()
    for report in reports:
        merged.pairs.extend(report.pairs)
        merged.dropped_empty.extend(report.dropped_empty)
        merged.skipped.extend(report.skipped)
    return merged
