"""Tokenizers: raw text <-> lists of token strings.

Four kinds, chosen by ``TokenizerConfig.kind``:

- ``char``: every Unicode character is a token, spaces included (Chinese works as is).
- ``word``: whitespace split; ``detokenize`` joins with single spaces.
- ``sentencepiece``: BPE or unigram pieces learned from the training lines by the sentencepiece
  library; the model is kept as ``spm.model`` next to ``tokenizer.json``.
- ``jieba``: Chinese word segmentation (optional extra: ``pip install seqlab[zh]``).

``lowercase`` applies to every kind before tokenizing. A tokenizer saves itself to a folder
(``tokenizer.json`` with its kind and settings, plus ``spm.model`` for sentencepiece) and
``load_tokenizer`` reads it back, so a run directory can tokenize without its config.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from seqlab.config import TokenizerConfig
from seqlab.errors import ConfigError, DataError
from seqlab.rundir.files import atomic_write_bytes

FORMAT_VERSION = 1
CONFIG_FILE = "tokenizer.json"
SPM_FILE = "spm.model"
# Kept whole by sentencepiece: PTB writes its out-of-vocabulary words as a literal "<unk>".
_SPM_USER_SYMBOLS = ("<unk>",)


class Tokenizer:
    """Base class: ``tokenize(text) -> list[str]`` and ``detokenize(tokens) -> str``."""

    kind: str = ""

    def __init__(self, lowercase: bool = False) -> None:
        self.lowercase = lowercase

    def fit(self, lines: Iterable[str], directory: Path) -> None:
        """Learn from training lines (only sentencepiece learns anything; others just save)."""
        self.save(directory)

    def tokenize(self, text: str) -> list[str]:
        raise NotImplementedError

    def detokenize(self, tokens: Sequence[str]) -> str:
        raise NotImplementedError

    def settings(self) -> dict[str, Any]:
        """The JSON-able settings that ``load_tokenizer`` needs to rebuild this tokenizer."""
        return {"lowercase": self.lowercase}

    def save(self, directory: str | Path) -> None:
        """Write ``directory/tokenizer.json`` (kind + settings)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        payload = {"format_version": FORMAT_VERSION, "kind": self.kind, **self.settings()}
        atomic_write_bytes(directory / CONFIG_FILE, (json.dumps(payload, indent=2) + "\n").encode())

    def _prepare(self, text: str) -> str:
        return text.lower() if self.lowercase else text

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.settings().items())
        return f"{type(self).__name__}({args})"


class CharTokenizer(Tokenizer):
    """Every character is a token: ``detokenize(tokenize(x)) == x`` (lowercased if set)."""

    kind = "char"

    def tokenize(self, text: str) -> list[str]:
        return list(self._prepare(text))

    def detokenize(self, tokens: Sequence[str]) -> str:
        return "".join(tokens)


class WordTokenizer(Tokenizer):
    """Whitespace split: ``detokenize(tokenize(x)) == " ".join(x.split())`` (lowercased if set)."""

    kind = "word"

    def tokenize(self, text: str) -> list[str]:
        return self._prepare(text).split()

    def detokenize(self, tokens: Sequence[str]) -> str:
        return " ".join(tokens)


class JiebaTokenizer(Tokenizer):
    """Chinese word segmentation with jieba; whitespace is kept, so ``detokenize`` is exact."""

    kind = "jieba"

    def __init__(self, lowercase: bool = False) -> None:
        super().__init__(lowercase)
        self._jieba = _import_jieba()

    def tokenize(self, text: str) -> list[str]:
        return self._jieba.lcut(self._prepare(text))

    def detokenize(self, tokens: Sequence[str]) -> str:
        return "".join(tokens)


class SentencePieceTokenizer(Tokenizer):
    """Subword pieces (``bpe`` or ``unigram``) trained by the sentencepiece library.

    ``fit`` trains deterministically and quietly on the training lines and writes
    ``directory/spm.model``; ``tokenize`` returns piece strings (``"▁the"``), which the
    Vocabulary then numbers, so the ids are seqlab's own and the specials stay 0..3.
    ``user_symbols`` (e.g. a dialogue's turn separator ``<turn>``) are kept as whole pieces, as
    ``<unk>`` always is; they live in the model, so a loaded tokenizer keeps them too.
    """

    kind = "sentencepiece"

    def __init__(
        self,
        lowercase: bool = False,
        model_type: str = "unigram",
        vocab_size: int = 8000,
        character_coverage: float = 1.0,
        user_symbols: Sequence[str] = (),
    ) -> None:
        super().__init__(lowercase)
        self.user_symbols = tuple(
            dict.fromkeys(self._prepare(s) for s in (*_SPM_USER_SYMBOLS, *user_symbols))
        )
        self.model_type = model_type
        self.vocab_size = vocab_size
        self.character_coverage = character_coverage
        self._model_bytes: bytes | None = None
        self._processor: Any = None

    def settings(self) -> dict[str, Any]:
        return {
            "lowercase": self.lowercase,
            "model_type": self.model_type,
            "vocab_size": self.vocab_size,
            "character_coverage": self.character_coverage,
        }

    def fit(self, lines: Iterable[str], directory: Path) -> None:
        import sentencepiece as spm

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        sentences = [self._prepare(line) for line in lines if line.strip()]
        if not sentences:
            raise DataError("sentencepiece: the training text is empty; nothing to learn pieces from")
        spm.set_random_generator_seed(0)
        model = io.BytesIO()
        # sentencepiece silences its log by redirecting the stderr file descriptor; where stderr
        # has none (Jupyter, pytest's capture) that redirect fails, and minloglevel alone must do.
        quiet = open(os.devnull, "w") if _stderr_has_fileno() else None
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(sentences),
                model_writer=model,  # no model_prefix: the model bytes do not depend on paths
                model_type=self.model_type,
                vocab_size=self.vocab_size,
                character_coverage=self.character_coverage,
                hard_vocab_limit=False,
                user_defined_symbols=list(self.user_symbols),
                unk_piece="<spm-unk>",
                bos_id=-1,
                eos_id=-1,
                pad_id=-1,
                input_sentence_size=0,  # use every sentence: no random sampling
                shuffle_input_sentence=False,
                num_threads=1,
                minloglevel=2,
                **({"logstream": quiet} if quiet is not None else {}),
            )
        except RuntimeError as exc:
            raise DataError(f"sentencepiece training failed: {exc}") from None
        finally:
            if quiet is not None:
                quiet.close()
        self._set_model(model.getvalue())
        self.save(directory)

    def _set_model(self, model_bytes: bytes) -> None:
        import sentencepiece as spm

        processor = spm.SentencePieceProcessor()
        # Loaded explicitly: the constructor skips empty bytes and leaves a processor that fails
        # at its first use; this raises RuntimeError for empty or malformed bytes at once.
        processor.LoadFromSerializedProto(model_bytes)
        self._model_bytes = model_bytes
        self._processor = processor

    def _require_model(self) -> Any:
        if self._processor is None:
            raise DataError("sentencepiece tokenizer has no model yet: call fit(lines, directory) first")
        return self._processor

    def save(self, directory: str | Path) -> None:
        """Write ``tokenizer.json`` and ``spm.model`` (once fitted) into ``directory``."""
        super().save(directory)
        if self._model_bytes is not None:
            atomic_write_bytes(Path(directory) / SPM_FILE, self._model_bytes)

    def tokenize(self, text: str) -> list[str]:
        return self._require_model().encode(self._prepare(text), out_type=str)

    def detokenize(self, tokens: Sequence[str]) -> str:
        return self._require_model().decode_pieces(list(tokens))


def build_tokenizer(cfg: TokenizerConfig, user_symbols: Sequence[str] = ()) -> Tokenizer:
    """A fresh (unfitted) tokenizer for ``cfg.kind``; sentencepiece keeps ``user_symbols`` whole
    (the word tokenizer keeps any whitespace-free symbol whole anyway)."""
    if cfg.kind == "char":
        return CharTokenizer(cfg.lowercase)
    if cfg.kind == "word":
        return WordTokenizer(cfg.lowercase)
    if cfg.kind == "sentencepiece":
        return SentencePieceTokenizer(
            cfg.lowercase, cfg.sp_model_type, cfg.sp_vocab_size, cfg.sp_character_coverage, user_symbols
        )
    if cfg.kind == "jieba":
        return JiebaTokenizer(cfg.lowercase)
    raise ConfigError(f"tokenizer.kind = {cfg.kind!r}: must be one of char, word, sentencepiece, jieba")


def load_tokenizer(directory: str | Path) -> Tokenizer:
    """Rebuild the tokenizer saved in ``directory`` (``tokenizer.json`` [+ ``spm.model``]).

    Raises DataError naming the file when it is missing or malformed.
    """
    path = Path(directory) / CONFIG_FILE
    if not path.is_file():
        raise DataError(f"{path}: no such file (a tokenizer folder holds tokenizer.json)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not a valid tokenizer file: {exc}") from None
    if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
        version = data.get("format_version") if isinstance(data, dict) else None
        raise DataError(
            f"{path}: unsupported tokenizer format_version {version!r} (expected {FORMAT_VERSION})"
        )
    kind = data.get("kind")
    lowercase = bool(data.get("lowercase", False))
    if kind == "char":
        return CharTokenizer(lowercase)
    if kind == "word":
        return WordTokenizer(lowercase)
    if kind == "jieba":
        return JiebaTokenizer(lowercase)
    if kind == "sentencepiece":
        try:
            tok = SentencePieceTokenizer(
                lowercase,
                str(data["model_type"]),
                int(data["vocab_size"]),
                float(data["character_coverage"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{path}: malformed sentencepiece settings: {exc!r}") from None
        model_path = Path(directory) / SPM_FILE
        if not model_path.is_file():
            raise DataError(f"{model_path}: no such file (a sentencepiece tokenizer needs its model)")
        try:
            tok._set_model(model_path.read_bytes())
        except RuntimeError as exc:
            why = " ".join(str(exc).split()) or "unreadable"
            raise DataError(
                f"{model_path}: not a sentencepiece model ({why}); the file is damaged: copy it back "
                "from a good copy of the run, or retrain"
            ) from None
        return tok
    raise DataError(f"{path}: unknown tokenizer kind {kind!r} (char, word, sentencepiece, jieba)")


def _import_jieba() -> Any:
    try:
        import jieba
    except ImportError:
        raise ConfigError(
            "tokenizer.kind = jieba needs the jieba package: pip install seqlab[zh]  (or pip install jieba)"
        ) from None
    jieba.setLogLevel(logging.WARNING)
    return jieba


def _stderr_has_fileno() -> bool:
    try:
        sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return False
    return True
