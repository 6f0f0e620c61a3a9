"""Readers: files -> lists of text lines, strictly.

Text is strict UTF-8: an invalid byte raises DataError naming the file, the 1-based line, the byte
offset in the file and the column in the line, so the user can find and fix it. Lines are split on
``"\\n"`` only: Unicode line separators (``\\u2028``), form feeds and the like are text, exactly as
in the file. ``.gz`` files are decompressed transparently (offsets then count uncompressed bytes).
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from seqlab.errors import DataError

_GZIP_MAGIC = b"\x1f\x8b"


def read_bytes(path: str | Path) -> bytes:
    """The (decompressed, for ``.gz``) contents of ``path``; DataError when it cannot be read."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if not path.is_file():
        raise DataError(f"{path}: not a regular file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if path.suffix == ".gz" or raw[:2] == _GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{path}: not a valid gzip file: {exc}") from None
    return raw


def _utf8_error(data: bytes, exc: UnicodeDecodeError, source: str | Path, base: int = 0) -> DataError:
    """The DataError for ``exc`` in ``data``, a slice starting at file offset ``base``."""
    offset = exc.start
    line_start = data.rfind(b"\n", 0, offset) + 1
    line = data.count(b"\n", 0, offset) + 1
    bad = data[exc.start : max(exc.end, exc.start + 1)]
    shown = " ".join(f"0x{b:02x}" for b in bad[:4])
    return DataError(
        f"{source}:{line}: invalid UTF-8 at byte offset {base + offset} (column {offset - line_start + 1}): "
        f"byte {shown} ({exc.reason}); re-encode the file as UTF-8"
    )


def decode_utf8(data: bytes, source: str | Path) -> str:
    """Decode strictly; on an invalid byte raise DataError with file, line, offset and column.

    A leading byte-order mark is dropped.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _utf8_error(data, exc, source) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def split_newlines(text: str) -> list[str]:
    """Split on ``"\\n"`` only; a final newline does not make an empty last line."""
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def read_text(path: str | Path) -> str:
    """The whole file as a string (strict UTF-8, ``.gz`` transparent)."""
    return decode_utf8(read_bytes(path), path)


def read_lines(path: str | Path) -> list[str]:
    """The lines of a UTF-8 text file (or ``.gz``), without their ``"\\n"``.

    ``"\\r"`` is kept as text when the file has it. Raises DataError for a missing file, a bad
    gzip stream or invalid UTF-8 (message: ``FILE:LINE: invalid UTF-8 at byte offset N (column C)``).
    """
    return split_newlines(read_text(path))


def read_lines_or_errors(path: str | Path) -> list[str | DataError]:
    """Like :func:`read_lines`, but a line with invalid UTF-8 comes back as its DataError (same
    message as the strict reader's) instead of stopping the read; line numbers stay aligned.

    For readers whose config says ``on_error: skip``: the caller skips and counts those lines.
    """
    data = read_bytes(path)
    try:
        return list(split_newlines(decode_utf8(data, path)))
    except DataError:
        pass
    lines: list[str | DataError] = []
    offset = 0
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            text = raw.decode("utf-8")
            lines.append(text[1:] if number == 1 and text.startswith("\ufeff") else text)
        except UnicodeDecodeError as exc:
            error = _utf8_error(raw, exc, path, base=offset)
            lines.append(DataError(str(error).replace(f"{path}:1:", f"{path}:{number}:", 1)))
        offset += len(raw) + 1
    if lines and lines[-1] == "":
        lines.pop()
    return lines
