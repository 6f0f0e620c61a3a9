"""Readers for tagged sentences (per-token tagging): files -> ``TaggedSentence`` lists, strictly.

- :func:`read_word_tag`: one sentence per line, ``word/TAG`` tokens separated by whitespace.
- :func:`read_conll`: whitespace-separated columns, one token per line, a blank line between
  sentences, ``-DOCSTART-`` lines ignored.
- :func:`read_brown_zip`: the NLTK Brown corpus zip (``word/tag`` files), split by file.

Files are strict UTF-8 (``.gz`` transparent) via :mod:`seqlab.data.readers.lines`; a malformed line
raises :class:`DataError` naming ``FILE:LINE`` and the offending token or line.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from seqlab.data.readers.lines import decode_utf8, read_lines, split_newlines
from seqlab.errors import ConfigError, DataError

BROWN_METADATA = frozenset({"README", "CONTENTS", "cats.txt"})
_BROWN_SUFFIXES = ("-tl", "-hl", "-nc")


@dataclass(frozen=True)
class TaggedSentence:
    """The words of one sentence with one tag each, and where it starts (``source:line``)."""

    words: list[str]
    tags: list[str]
    source: str
    line: int

    def __len__(self) -> int:
        return len(self.words)


def _lines_and_source(path_or_lines: str | Path | Sequence[str], source: str | None) -> tuple[list[str], str]:
    if isinstance(path_or_lines, (str, Path)):
        return read_lines(path_or_lines), source or str(path_or_lines)
    return list(path_or_lines), source or "<lines>"


def parse_word_tag_line(line: str, sep: str, source: str, number: int) -> TaggedSentence | None:
    """One ``word/TAG word/TAG ...`` line as a sentence; None for a blank line.

    The *last* ``sep`` of a token splits word and tag, so words may contain it (``1/2/CD``).
    A token without ``sep``, or with an empty word or tag, raises DataError naming the token.
    """
    words: list[str] = []
    tags: list[str] = []
    for token in line.split():
        word, found, tag = token.rpartition(sep)
        if not found or not word or not tag:
            raise DataError(
                f"{source}:{number}: token {token!r} (token {len(words) + 1} of the line) is not "
                f"'word{sep}TAG': expected a word and a tag joined by {sep!r}"
            )
        words.append(word)
        tags.append(tag)
    if not words:
        return None
    return TaggedSentence(words, tags, source, number)


def read_word_tag(
    path_or_lines: str | Path | Sequence[str], sep: str = "/", source: str | None = None
) -> list[TaggedSentence]:
    """Read one sentence per line of ``word{sep}TAG`` tokens; blank lines are skipped.

    Args:
        path_or_lines: a file (``.gz`` transparent) or the lines themselves.
        sep: the word/tag separator; the last one in a token splits it.
        source: the name used in messages (default: the path, or ``"<lines>"``).
    """
    if not sep:
        raise ConfigError("sep = '': the word/tag separator must not be empty")
    lines, source = _lines_and_source(path_or_lines, source)
    sentences = []
    for number, line in enumerate(lines, start=1):
        sentence = parse_word_tag_line(line, sep, source, number)
        if sentence is not None:
            sentences.append(sentence)
    return sentences


def _columns_needed(column: int) -> int:
    return column + 1 if column >= 0 else -column


def read_conll(
    path_or_lines: str | Path | Sequence[str],
    word_column: int = 0,
    tag_column: int = -1,
    source: str | None = None,
) -> list[TaggedSentence]:
    """Read CoNLL-style columns: one token per line, a blank line between sentences.

    Lines whose first column is ``-DOCSTART-`` are ignored (and end the sentence before them).
    Column indices may be negative (``-1``: the last column). A line too short to hold both
    columns raises DataError naming ``FILE:LINE``. A sentence's ``line`` is that of its first token.
    """
    lines, source = _lines_and_source(path_or_lines, source)
    sentences: list[TaggedSentence] = []
    words: list[str] = []
    tags: list[str] = []
    start = 0

    def flush() -> None:
        if words:
            sentences.append(TaggedSentence(list(words), list(tags), source, start))
            words.clear()
            tags.clear()

    needed = max(_columns_needed(word_column), _columns_needed(tag_column), 2)
    for number, line in enumerate(lines, start=1):
        columns = line.split()
        if not columns or columns[0] == "-DOCSTART-":
            flush()
            continue
        word_index, tag_index = word_column % len(columns), tag_column % len(columns)
        if len(columns) < needed or word_index == tag_index:
            raise DataError(
                f"{source}:{number}: {len(columns)} column(s) in {line.strip()!r}: expected at least "
                f"{needed} (word column {word_column}, tag column {tag_column}, whitespace-separated)"
            )
        if not words:
            start = number
        words.append(columns[word_index])
        tags.append(columns[tag_index])
    flush()
    return sentences


def simplify_brown_tag(tag: str) -> str:
    """Strip Brown's compound marks from one tag, keeping the base tag.

    Exactly: (1) the suffixes ``-tl`` (title), ``-hl`` (headline) and ``-nc`` (cited word) are
    removed from the end, repeatedly (``nn-tl-hl`` -> ``nn``); (2) a ``fw-`` (foreign word)
    prefix is removed (``fw-nn`` -> ``nn``); (3) a trailing ``*`` (negation, ``md*``, ``do*``)
    is removed unless the tag is ``*`` itself ("not"). Contractions joined by ``+``
    (``ppss+md``) and possessive ``$`` are kept; a tag that would become empty is kept as is
    (``---hl`` -> ``--``).
    """
    base = tag
    while base.endswith(_BROWN_SUFFIXES) and len(base) > 3:
        base = base[:-3]
    if base.startswith("fw-") and len(base) > 3:
        base = base[3:]
    if base.endswith("*") and len(base) > 1:
        base = base[:-1]
    return base or tag


def _brown_file_ids(archive: zipfile.ZipFile, zip_path: str) -> list[str]:
    """The corpus members: those listed in ``cats.txt`` when there is one, else every file
    that is not README, CONTENTS or cats.txt; sorted by name."""
    members = {
        name: info for name, info in ((i.filename, i) for i in archive.infolist()) if not info.is_dir()
    }
    by_base = {name.rsplit("/", 1)[-1]: name for name in members}
    cats = by_base.get("cats.txt")
    if cats is None:
        ids = [name for name in members if name.rsplit("/", 1)[-1] not in BROWN_METADATA]
    else:
        source = f"{zip_path}:{cats}"
        ids = []
        for number, line in enumerate(split_newlines(decode_utf8(archive.read(cats), source)), start=1):
            if not line.strip():
                continue
            file_id = line.split()[0]
            if file_id not in by_base:
                raise DataError(f"{source}:{number}: file {file_id!r} is listed but not in the zip")
            ids.append(by_base[file_id])
    if not ids:
        raise DataError(f"{zip_path}: no corpus files in the zip")
    return sorted(ids)


def read_brown_zip(
    zip_path: str | Path, every: int = 10, simplify: bool = False
) -> tuple[list[TaggedSentence], list[TaggedSentence]]:
    """Read the NLTK Brown corpus zip and split it by file into ``(train, valid)``.

    Each corpus file (``brown/ca01`` ...) holds one tab-indented sentence per line of
    ``word/tag`` tokens; the files are taken sorted by name and file ``i`` goes to validation
    when ``i % every == every - 1`` (every ``every``-th file: 50 of Brown's 500 with 10).
    Members are decoded as strict UTF-8 (Brown's tokens are ASCII); errors name
    ``ZIP:MEMBER:LINE``. ``simplify`` applies :func:`simplify_brown_tag` to every tag.
    """
    if every < 2:
        raise ConfigError(f"every = {every}: must be >= 2 (every n-th file validates)")
    zip_path = Path(zip_path)
    if not zip_path.is_file():
        raise DataError(f"{zip_path}: no such file (expected the NLTK Brown corpus zip)")
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"{zip_path}: not a valid zip file: {exc}") from None
    train: list[TaggedSentence] = []
    valid: list[TaggedSentence] = []
    with archive:
        for index, name in enumerate(_brown_file_ids(archive, str(zip_path))):
            source = f"{zip_path}:{name}"
            try:
                data = archive.read(name)
            except (zipfile.BadZipFile, OSError) as exc:
                raise DataError(f"{source}: cannot read from the zip: {exc}") from None
            target = valid if index % every == every - 1 else train
            for number, line in enumerate(split_newlines(decode_utf8(data, source)), start=1):
                sentence = parse_word_tag_line(line, "/", source, number)
                if sentence is None:
                    continue
                if simplify:
                    sentence = TaggedSentence(
                        sentence.words, [simplify_brown_tag(t) for t in sentence.tags], source, number
                    )
                target.append(sentence)
    return train, valid


def tag_counts(sentences: Sequence[TaggedSentence]) -> dict[str, int]:
    """How often each tag occurs, most frequent first (ties by tag)."""
    counts: dict[str, int] = {}
    for sentence in sentences:
        for tag in sentence.tags:
            counts[tag] = counts.get(tag, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
