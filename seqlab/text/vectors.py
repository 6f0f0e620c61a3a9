"""Load pretrained word vectors (word2vec / GloVe / fastText *text* format) into an embedding.

Format: an optional header line ``count dim`` (word2vec, fastText), then one line per word,
``word v1 v2 ... vD``, separated by spaces or tabs. Reading is strict: invalid UTF-8, a line with the
wrong number of values or a value that is not a finite number raises ``DataError`` naming
``file:line``. The file is streamed, so multi-gigabyte files need memory only for the vocabulary.

(Models never import ``seqlab.data``, so the small strict decoding lives here.)
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from seqlab.errors import ConfigError, DataError

# Fields are separated by ASCII spaces or tabs only: some words contain other Unicode spaces.
_SEPARATOR = re.compile(r"[ \t]+")


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, text) of every line of ``path``, decoded as strict UTF-8."""
    try:
        handle = path.open("rb")
    except OSError as error:
        raise DataError(f"{path}: cannot read the vectors file ({error.strerror or error})") from error
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                yield number, raw.decode("utf-8", errors="strict")
            except UnicodeDecodeError as error:
                raise DataError(
                    f"{path}:{number}: invalid UTF-8 at byte {error.start} of the line; "
                    "re-encode the file as UTF-8"
                ) from error


def _header(fields: list[str]) -> tuple[int, int] | None:
    """``(count, dim)`` when the first line is a word2vec header, else None."""
    if len(fields) == 2 and all(f.isascii() and f.isdigit() for f in fields):
        return int(fields[0]), int(fields[1])
    return None


def _parse_values(path: Path, number: int, fields: list[str], dim: int) -> list[float]:
    values = fields[1:]
    if len(values) != dim:
        raise DataError(
            f"{path}:{number}: expected a word and {dim} values, found {len(values)} values "
            f"(word {fields[0]!r})"
        )
    try:
        numbers = [float(v) for v in values]
    except ValueError:
        bad = next(v for v in values if not _is_float(v))
        raise DataError(f"{path}:{number}: {bad!r} is not a number (word {fields[0]!r})") from None
    if not all(math.isfinite(x) for x in numbers):
        raise DataError(f"{path}:{number}: non-finite value (nan or inf) for word {fields[0]!r}")
    return numbers


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _rows_by_word(
    vocab_tokens: Sequence[str], padding_idx: int | None
) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """The embedding rows of each word, as written and (for tokens that are not lowercase) as the
    lowercased form a file's word may match; the padding row is never listed."""
    exact: dict[str, list[int]] = {}
    lowered: dict[str, list[int]] = {}
    for index, token in enumerate(vocab_tokens):
        if index != padding_idx:
            exact.setdefault(token, []).append(index)
            if token.lower() != token:
                lowered.setdefault(token.lower(), []).append(index)
    return exact, lowered


def load_pretrained_vectors(
    embedding: nn.Embedding, path: str | Path, vocab_tokens: Sequence[str], freeze: bool = False
) -> dict[str, Any]:
    """Copy the vectors of ``path`` into the rows of ``embedding`` for the words of the vocabulary.

    Args:
        embedding: weight [V, E]; row ``i`` belongs to ``vocab_tokens[i]``. Its padding row
            (``padding_idx``) is never overwritten.
        path: a text vectors file (see the module docstring).
        vocab_tokens: the V tokens, in id order.
        freeze: stop gradients to the embedding (``requires_grad = False``).

    Each token takes the vector of the same word in the file, or else of its lowercased form.
    Rows with no vector keep their current values.

    Returns ``{"found": n, "total": V, "coverage": n / V, "missing_examples": first 10 missing}``.
    Raises ConfigError when the file's dimension differs from E or V differs from the embedding's
    rows, DataError on a malformed file (naming file:line).
    """
    path = Path(path)
    rows, size = embedding.weight.shape
    if len(vocab_tokens) != rows:
        raise ConfigError(f"the vocabulary has {len(vocab_tokens)} tokens but the embedding has {rows} rows")
    exact, lowered = _rows_by_word(vocab_tokens, embedding.padding_idx)
    found_vectors = _matching_vectors(path, size, exact, lowered)
    if found_vectors:
        indices = torch.tensor(sorted(found_vectors), dtype=torch.long)
        values = torch.tensor([found_vectors[i] for i in sorted(found_vectors)], dtype=embedding.weight.dtype)
        with torch.no_grad():
            embedding.weight[indices.to(embedding.weight.device)] = values.to(embedding.weight.device)
    if freeze:
        embedding.weight.requires_grad_(False)
    missing = [token for i, token in enumerate(vocab_tokens) if i not in found_vectors]
    total = len(vocab_tokens)
    return {
        "found": len(found_vectors),
        "total": total,
        "coverage": len(found_vectors) / total if total else 0.0,
        "missing_examples": missing[:10],
    }


def _matching_vectors(
    path: Path, size: int, exact: dict[str, list[int]], lowered: dict[str, list[int]]
) -> dict[int, list[float]]:
    """Read every line of the vectors file ``path`` (each checked, used or not) -> embedding row ->
    its vector, for the rows whose word (``exact``) or lowercased word (``lowered``) has one; an
    exact match wins over a lowercased one. Raises ConfigError when the dimension is not ``size``."""
    source: dict[int, str] = {}  # row -> 'exact' or 'lower', the match that filled it
    found_vectors: dict[int, list[float]] = {}
    dim: int | None = None
    declared: int | None = None
    vector_lines = 0
    for number, line in _lines(path):
        text = line.rstrip("\r\n").strip(" \t")
        if number == 1:
            text = text.removeprefix("\ufeff")  # a byte order mark
        if not text:
            continue
        fields = _SEPARATOR.split(text)
        if dim is None:
            header = _header(fields) if number == 1 else None
            dim = header[1] if header else len(fields) - 1
            if dim != size:
                raise ConfigError(
                    f"{path}: the vectors have {dim} dimensions but the embedding size is {size}; "
                    f"set embedding_size = {dim} or use {size}-dimensional vectors"
                )
            if header:
                declared = header[0]
                continue
        vector_lines += 1
        word = fields[0]
        hits = [(i, "exact") for i in exact.get(word, []) if source.get(i) != "exact"]
        hits += [(i, "lower") for i in lowered.get(word, []) if i not in source]
        values = _parse_values(path, number, fields, dim)  # every line is checked, used or not
        for index, kind in hits:
            source[index] = kind
            found_vectors[index] = values
    if dim is None:
        raise DataError(f"{path}: no vectors in the file")
    if declared is not None and declared != vector_lines:
        raise DataError(f"{path}:1: the header announces {declared} vectors but the file has {vector_lines}")
    return found_vectors
