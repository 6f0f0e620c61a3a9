"""Small file helpers every layer shares: atomic writes and versioned JSON files.

A leaf module like ``errors.py``: it imports nothing of ours but the error types.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from seqlab.errors import DataError


def fsync_path(path: str | Path) -> None:
    """Flush a file or a directory entry to disk."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if Path(path).is_dir() else os.O_RDONLY
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary sibling, fsync it and ``os.replace`` it (then
    fsync the folder): readers see the old file or the new one, never half of one, even after a
    crash or a power cut."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_path(path.parent)


def atomic_write_json(path: str | Path, payload: Any) -> None:
    """``payload`` as UTF-8 JSON (one item a line), written atomically."""
    text = json.dumps(payload, ensure_ascii=False, indent=0) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))


def read_versioned_json(path: str | Path, kind: str, format_version: int) -> dict[str, Any]:
    """A JSON object written with ``format_version``; DataError naming the file (and ``kind``, e.g.
    "vocabulary") when it is missing, not JSON, not an object or of another version."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such {kind} file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not a valid {kind} file (JSON): {exc}") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: not a valid {kind} file: expected a JSON object")
    if data.get("format_version") != format_version:
        raise DataError(
            f"{path}: unsupported {kind} format_version {data.get('format_version')!r} "
            f"(expected {format_version})"
        )
    return data
