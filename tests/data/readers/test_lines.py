import gzip

import pytest

from seqlab.data.readers.lines import read_lines
from seqlab.errors import DataError


def test_invalid_utf8_names_file_line_offset_and_column(tmp_path):
    path = tmp_path / "data.txt"
    # line 1: 6 bytes + \n, line 2: 6 bytes + \n (offsets 0..13), line 3 starts at 14
    path.write_bytes(b"hello\nworld\nabc\xffdef\n")
    with pytest.raises(DataError) as info:
        read_lines(path)
    message = str(info.value)
    assert f"{path}:3:" in message
    assert "byte offset 15" in message
    assert "column 4" in message
    assert "0xff" in message


def test_invalid_utf8_in_first_line_and_gz(tmp_path):
    path = tmp_path / "data.txt.gz"
    path.write_bytes(gzip.compress("éa\n".encode() + b"\xc3(\n"))
    with pytest.raises(DataError) as info:
        read_lines(path)
    assert f"{path}:2:" in str(info.value)
    assert "byte offset 4 (column 1)" in str(info.value)


def test_splits_on_newline_only(tmp_path):
    text = "a\u2028b\x0bc\x0cd\x1ce\x85f\n\rg\r\nlast"
    path = tmp_path / "weird.txt"
    path.write_bytes(text.encode("utf-8"))
    assert read_lines(path) == ["a\u2028b\x0bc\x0cd\x1ce\x85f", "\rg\r", "last"]


def test_final_newline_does_not_add_empty_line(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("one\ntwo\n", encoding="utf-8")
    assert read_lines(path) == ["one", "two"]
    path.write_text("one\ntwo\n\n", encoding="utf-8")
    assert read_lines(path) == ["one", "two", ""]
    path.write_text("", encoding="utf-8")
    assert read_lines(path) == []


def test_gzip_transparent(tmp_path):
    path = tmp_path / "x.txt.gz"
    path.write_bytes(gzip.compress("中文\nzwei\n".encode()))
    assert read_lines(path) == ["中文", "zwei"]


def test_bad_gzip(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="x.gz"):
        read_lines(path)


def test_missing_file_named(tmp_path):
    with pytest.raises(DataError, match="nope.txt"):
        read_lines(tmp_path / "nope.txt")


def test_read_lines_or_errors_keeps_numbering_and_the_strict_message(tmp_path):
    from seqlab.data.readers.lines import read_lines_or_errors

    path = tmp_path / "mixed.txt"
    path.write_bytes(b"good one\nbad \xf0 here\nthird\n")
    strict = pytest.raises(DataError)
    with strict as info:
        read_lines(path)
    lines = read_lines_or_errors(path)
    assert lines[0] == "good one" and lines[2] == "third" and len(lines) == 3
    assert isinstance(lines[1], DataError)
    assert str(lines[1]) == str(info.value)  # same file:line, offset and column as the strict reader
    assert ":2: invalid UTF-8 at byte offset 13 (column 5)" in str(lines[1])
