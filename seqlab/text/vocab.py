"""Vocabulary: token strings <-> integer ids, with fixed special tokens.

The specials always come first: ``<pad>`` = 0, ``<unk>`` = 1, ``<bos>`` = 2, ``<eos>`` = 3. The
corpus tokens follow, by frequency (descending) and then by token string, so the same text always
gives the same ids. A corpus's own ``<unk>`` (PTB writes its rare words so) is the unknown token.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from seqlab.errors import DataError
from seqlab.rundir.files import atomic_write_json, read_versioned_json

FORMAT_VERSION = 1
PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS: tuple[str, ...] = (PAD, UNK, BOS, EOS)


class Vocabulary:
    """An ordered list of tokens; ``tokens[i]`` has id ``i``.

    Build one with :meth:`build` (from tokenized text) or :meth:`load` (from ``vocab.json``).
    """

    pad_id = 0
    unk_id = 1
    bos_id = 2
    eos_id = 3

    def __init__(self, tokens: Sequence[str]) -> None:
        """``tokens`` must start with the four specials and hold no duplicates."""
        tokens = list(tokens)
        if tuple(tokens[: len(SPECIALS)]) != SPECIALS:
            raise ValueError(f"a vocabulary must start with {list(SPECIALS)}, got {tokens[:4]}")
        self.itos: list[str] = tokens
        self.stoi: dict[str, int] = {token: i for i, token in enumerate(tokens)}
        if len(self.stoi) != len(tokens):
            duplicates = sorted(t for t, n in Counter(tokens).items() if n > 1)
            raise ValueError(f"duplicate tokens in vocabulary: {duplicates[:10]}")

    @classmethod
    def build(
        cls,
        token_lists: Iterable[Sequence[str]],
        min_freq: int = 1,
        max_size: int | None = None,
    ) -> Vocabulary:
        """Count tokens and keep those seen at least ``min_freq`` times.

        ``max_size`` caps the number of corpus tokens (the four specials come on top). Ties in
        frequency are broken by the token string, so the result never depends on input order.
        """
        if min_freq < 1:
            raise ValueError(f"min_freq = {min_freq}: must be >= 1")
        if max_size is not None and max_size < 0:
            raise ValueError(f"max_size = {max_size}: must be >= 0 or None")
        counts: Counter[str] = Counter()
        for tokens in token_lists:
            counts.update(tokens)
        for special in SPECIALS:
            counts.pop(special, None)
        kept = sorted((t for t, n in counts.items() if n >= min_freq), key=lambda t: (-counts[t], t))
        if max_size is not None:
            kept = kept[:max_size]
        return cls([*SPECIALS, *kept])

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.itos == other.itos

    def __repr__(self) -> str:
        return f"Vocabulary(size={len(self)})"

    def token_to_id(self, token: str) -> int:
        return self.stoi.get(token, self.unk_id)

    def id_to_token(self, index: int) -> str:
        return self.itos[index]

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Token strings -> ids; unknown tokens (and a literal ``<unk>``) become ``unk_id``."""
        get, unk = self.stoi.get, self.unk_id
        return [get(token, unk) for token in tokens]

    def decode(self, ids: Iterable[int], skip_special: bool = True) -> list[str]:
        """Ids -> token strings. With ``skip_special``, ``<pad>``/``<bos>``/``<eos>`` are dropped
        (``<unk>`` is kept: it stands for a real word)."""
        itos = self.itos
        out = []
        for index in ids:
            index = int(index)
            if not 0 <= index < len(itos):
                raise IndexError(f"id {index} out of range for a vocabulary of {len(itos)} tokens")
            if skip_special and index in (self.pad_id, self.bos_id, self.eos_id):
                continue
            out.append(itos[index])
        return out

    def save(self, path: str | Path) -> None:
        """Write the vocabulary as JSON (``format_version``, ``specials``, ``tokens``), atomically."""
        atomic_write_json(
            path, {"format_version": FORMAT_VERSION, "specials": list(SPECIALS), "tokens": self.itos}
        )

    @classmethod
    def load(cls, path: str | Path) -> Vocabulary:
        """Read a vocabulary written by :meth:`save`; a missing or malformed file raises DataError."""
        data = read_versioned_json(path, "vocabulary", FORMAT_VERSION)
        tokens = data.get("tokens")
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise DataError(f"{path}: not a valid vocabulary file: 'tokens' must be a list of strings")
        try:
            return cls(tokens)
        except ValueError as exc:
            raise DataError(f"{path}: not a valid vocabulary file: {exc}") from None
