"""Property tests of the readers (issue 14, requirement 3): any bytes — line and paragraph
separators, U+0085, CR, NUL, invalid UTF-8, empty lines — give examples or the documented
DataError naming the file and a line, never another exception; parallel pairs never misalign."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from seqlab.data.readers.labelled import read_labelled
from seqlab.data.readers.lines import read_lines, read_lines_or_errors
from seqlab.data.readers.parallel import read_jsonl_pairs, read_parallel_files, read_tsv_pairs
from seqlab.data.readers.tagged import read_conll, read_word_tag
from seqlab.errors import DataError

EXAMPLES = 50  # per test: 8 tests, 400 files
# the characters that break line handling elsewhere, mixed into ordinary text
AWKWARD = [
    "\n",
    "\r",
    "\r\n",
    "\t",
    "\x00",
    "\u2028",
    "\u2029",
    "\x85",
    "\x0b",
    "\x0c",
    "\x1c",
    "\ufeff",
    " ",
    "/",
]
text_pieces = st.one_of(st.sampled_from(AWKWARD), st.text(max_size=6), st.sampled_from(["a", "b", "é", "中"]))
texts = st.lists(text_pieces, max_size=20).map("".join)
# valid UTF-8 of those texts, with invalid bytes spliced in now and then
raw_bytes = st.one_of(
    texts.map(lambda t: t.encode("utf-8")),
    st.lists(
        st.one_of(
            texts.map(lambda t: t.encode("utf-8")), st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80"])
        ),
        max_size=8,
    ).map(b"".join),
    st.binary(max_size=40),
)
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_LINE = re.compile(r":(\d+): ")


_FOLDER = Path(tempfile.mkdtemp(prefix="seqlab-reader-properties-"))


def write(data: bytes, name: str = "f.txt") -> Path:
    """``data`` as the file ``name`` (rewritten for each example: readers keep no handle)."""
    path = _FOLDER / name
    path.write_bytes(data)
    return path


def check_data_error(error: DataError, path: Path, data: bytes) -> None:
    """The documented DataError: names the file, and a line number that exists in it."""
    message = str(error)
    assert str(path) in message, message
    assert "\n" not in message, message
    found = _LINE.search(message)
    if found:
        assert 1 <= int(found.group(1)) <= data.count(b"\n") + 1, message


def physical_lines(data: bytes) -> list[bytes]:
    """The file's lines split at "\n" only; a byte-order mark that starts the file is not text."""
    data = data.removeprefix("\ufeff".encode())
    lines = data.split(b"\n")
    return lines[:-1] if lines and lines[-1] == b"" else lines


@SETTINGS
@given(raw_bytes)
@example("\ufeff".encode())  # a file holding only a byte-order mark is empty
def test_read_lines_gives_the_files_lines_split_at_newline_only_or_names_the_bad_line(data):
    path = write(data)
    try:
        lines = read_lines(path)
    except DataError as error:
        check_data_error(error, path, data)
        # a file starting with the gzip magic bytes is read as gzip (and is not UTF-8 text anyway)
        assert "invalid UTF-8" in str(error) or data[:2] == b"\x1f\x8b", error
        return
    assert lines == [line.decode("utf-8") for line in physical_lines(data)]


@SETTINGS
@given(raw_bytes)
@example("\ufeff".encode())
def test_lenient_reading_keeps_line_numbers_aligned(data):
    if data[:2] == b"\x1f\x8b":
        data = data[2:]
    path = write(data)
    lines = read_lines_or_errors(path)
    assert len(lines) == len(physical_lines(data))
    for number, line in enumerate(lines, start=1):
        if isinstance(line, DataError):
            assert f"{path}:{number}: invalid UTF-8" in str(line)


@SETTINGS
@given(st.lists(st.tuples(texts, texts), max_size=12), st.booleans())
def test_parallel_files_never_misalign(pairs, final_newline):
    # a side may hold any separator but "\n", which would make it two lines
    pairs = [(s.replace("\n", " "), t.replace("\n", " ")) for s, t in pairs]
    if pairs:  # a byte-order mark that starts a file is not text (documented): none here
        pairs[0] = (pairs[0][0].lstrip("\ufeff"), pairs[0][1].lstrip("\ufeff"))
    # without a final newline an empty last side would be no line at all: end such files with one
    end = "\n" if final_newline or not (pairs and pairs[-1][0] and pairs[-1][1]) else ""
    source = write(("\n".join(s for s, _ in pairs) + (end if pairs else "")).encode(), "src.txt")
    target = write(("\n".join(t for _, t in pairs) + (end if pairs else "")).encode(), "tgt.txt")
    report = read_parallel_files(source, target)
    assert len(report.pairs) + len(report.dropped_empty) == len(pairs)
    for pair in report.pairs:
        number = int(pair.origin.rsplit(":", 1)[1])
        assert (pair.source, pair.target) == (pairs[number - 1][0].strip(), pairs[number - 1][1].strip())


@SETTINGS
@given(raw_bytes, raw_bytes)
def test_parallel_files_of_any_bytes_give_pairs_or_a_data_error(source_data, target_data):
    source, target = write(source_data, "src.txt"), write(target_data, "tgt.txt")
    try:
        report = read_parallel_files(source, target)
    except DataError as error:
        assert str(source) in str(error) or str(target) in str(error)
        return
    assert all(p.source and p.target for p in report.pairs)


@SETTINGS
@given(raw_bytes, st.sampled_from(["fail", "skip"]), st.sampled_from([None, ("1", "0"), ("0", "-1")]))
def test_tsv_pairs_give_pairs_from_their_own_line_or_a_data_error(data, on_error, columns):
    path = write(data, "p.tsv")
    source_column, target_column = columns or (None, None)
    try:
        report = read_tsv_pairs(path, source_column, target_column, on_error=on_error)
    except DataError as error:
        check_data_error(error, path, data)
        return
    lines = physical_lines(data)
    for pair in report.pairs:
        number = int(pair.origin.rsplit(":", 1)[1])
        cells = lines[number - 1].decode("utf-8").lstrip("\ufeff").rstrip("\r").split("\t")
        if columns is None:
            assert len(cells) == 2
        src, tgt = (0, 1) if columns is None else (int(columns[0]), int(columns[1]))
        assert (pair.source, pair.target) == (cells[src].strip(), cells[tgt].strip())


@SETTINGS
@given(raw_bytes)
def test_jsonl_pairs_give_pairs_or_a_data_error(data):
    path = write(data, "p.jsonl")
    try:
        read_jsonl_pairs(path)
    except DataError as error:
        check_data_error(error, path, data)


@SETTINGS
@given(raw_bytes, st.sampled_from(["tsv", "label_text", "jsonl"]), st.sampled_from(["fail", "skip"]))
def test_labelled_readers_give_examples_from_their_own_line_or_a_data_error(data, format, on_error):
    path = write(data, "l.txt")
    try:
        report = read_labelled(path, format, on_error=on_error)
    except DataError as error:
        check_data_error(error, path, data)
        return
    count = len(physical_lines(data))
    for item in report.examples:
        assert item.text and item.label and 1 <= item.line <= count
    assert len(report.examples) + report.skipped_count <= count


@SETTINGS
@given(raw_bytes, st.sampled_from(["word_tag", "conll"]))
def test_tagged_readers_give_sentences_of_one_tag_a_word_or_a_data_error(data, format):
    path = write(data, "t.txt")
    try:
        sentences = read_word_tag(path) if format == "word_tag" else read_conll(path)
    except DataError as error:
        check_data_error(error, path, data)
        return
    for sentence in sentences:
        assert len(sentence.words) == len(sentence.tags) > 0
        assert all(word and not any(c.isspace() for c in word) for word in sentence.words)
