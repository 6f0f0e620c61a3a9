"""Emails in the AESLC format (Zhang & Tetreault 2019) -> body/subject pairs.

Each ``*.subject`` file holds an email body, then a line ``@subject`` and the subject line; files of
the dev and test splits then hold annotated subjects, each after a line ``@ann0``, ``@ann1``,
``@ann2``::

    Hi Phillip, this message is to confirm our meeting ...
    Thanks,

    @subject
    Confirmation: Risk Management Simulation Meeting 10/30/01

    @ann0
    meeting confirmation

Body and subjects are joined into one line each (whitespace collapsed). Only a line that is exactly
``@subject`` or ``@ann<N>`` (surrounding spaces aside) is a marker. A file without ``@subject``, or
with an empty body or subject, raises DataError naming the file (``ARCHIVE:MEMBER`` inside an
archive) and line, or with ``on_error="skip"`` is skipped and recorded in the report.

The files come from a tar archive (``.tar.gz`` and the like, read in memory with :mod:`tarfile`, never
extracted) or from a folder (every ``*.subject`` below it, in name order).
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from seqlab.data.readers.lines import decode_utf8, split_newlines
from seqlab.data.readers.parallel import PairReport
from seqlab.errors import DataError

SUFFIX = ".subject"
SUBJECT_MARKER = "@subject"
_ANNOTATION_MARKER = re.compile(r"@ann\d+")


@dataclass(frozen=True)
class Email:
    """One email: body, subject, the annotated subjects (possibly none), and its file."""

    body: str
    subject: str
    annotations: tuple[str, ...]
    origin: str


@dataclass
class EmailReport:
    """The emails read and the files skipped under ``on_error="skip"`` (each ``file:line: problem``)."""

    emails: list[Email] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _joined(lines: list[str]) -> str:
    return " ".join(" ".join(lines).split())


def parse_email(text: str, origin: str) -> Email:
    """The email in one ``*.subject`` file's text; DataError naming ``origin`` (and the line) when
    malformed."""
    lines = [line.rstrip("\r") for line in split_newlines(text)]
    markers = [i for i, line in enumerate(lines) if line.strip() == SUBJECT_MARKER]
    if not markers:
        raise DataError(
            f"{origin}: no '{SUBJECT_MARKER}' line (an AESLC file is the body, a line "
            f"'{SUBJECT_MARKER}', then the subject)"
        )
    at = markers[0]
    body = _joined(lines[:at])
    if not body:
        raise DataError(f"{origin}:{at + 1}: the body before '{SUBJECT_MARKER}' is empty")
    sections: list[tuple[int, list[str]]] = [(at, [])]
    for number, line in enumerate(lines[at + 1 :], start=at + 1):
        if _ANNOTATION_MARKER.fullmatch(line.strip()):
            sections.append((number, []))
        else:
            sections[-1][1].append(line)
    texts = [(number, _joined(section)) for number, section in sections]
    for number, joined in texts:
        if not joined:
            raise DataError(f"{origin}:{number + 1}: '{lines[number].strip()}' is followed by no text")
    return Email(body, texts[0][1], tuple(joined for _, joined in texts[1:]), origin)


def _tar_files(path: Path) -> Iterator[tuple[str, bytes]]:
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                if member.isfile() and member.name.endswith(SUFFIX):
                    handle = archive.extractfile(member)
                    if handle is not None:
                        yield f"{path}:{member.name}", handle.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable tar archive: {exc}") from None


def _folder_files(path: Path) -> Iterator[tuple[str, bytes]]:
    for file in sorted(path.rglob(f"*{SUFFIX}")):
        yield str(file), file.read_bytes()


def read_emails(path: str | Path, on_error: str = "fail") -> EmailReport:
    """Every ``*.subject`` email of a tar archive or a folder (see the module docstring)."""
    if on_error not in ("fail", "skip"):
        raise DataError(f"on_error = {on_error!r}: must be one of fail, skip")
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder (AESLC: a .tar.gz of *.subject files, or a folder)")
    files = _folder_files(path) if path.is_dir() else _tar_files(path)
    report = EmailReport()
    for origin, raw in files:
        try:
            email = parse_email(decode_utf8(raw, origin), origin)
        except DataError as exc:  # malformed, or invalid UTF-8 (with its line)
            problem = str(exc)
            if on_error == "fail":
                raise DataError(f"{problem} (data.on_error: skip skips such files)") from None
            report.skipped.append(problem)
            continue
        report.emails.append(email)
    if not report.emails and not report.skipped:
        raise DataError(f"{path}: no *{SUFFIX} files")
    return report


def subject_pairs(report: EmailReport) -> PairReport:
    """Body -> ``@subject`` pairs, one per email."""
    pairs = PairReport(skipped=list(report.skipped))
    for email in report.emails:
        pairs.add(email.body, email.subject, email.origin)
    return pairs


def annotation_pairs(report: EmailReport) -> PairReport:
    """Body -> annotated subject pairs, one per ``@annN`` (an email without annotations gives none):
    evaluation groups them by source and scores each output against its closest annotation."""
    pairs = PairReport(skipped=list(report.skipped))
    for email in report.emails:
        for number, annotation in enumerate(email.annotations):
            pairs.add(email.body, annotation, f"{email.origin} (@ann{number})")
    return pairs


__all__ = [
    "SUBJECT_MARKER",
    "Email",
    "EmailReport",
    "annotation_pairs",
    "parse_email",
    "read_emails",
    "subject_pairs",
]
