"""Word vectors trained here: word2vec (gensim) on tokenized text, written in word2vec text format.

The file this writes is what ``model.pretrained_vectors`` reads
(:func:`seqlab.text.vectors.load_pretrained_vectors`): a header ``count dim``, then one line per
word, ``word v1 ... vD``. Train the vectors with the same tokenizer settings as the recipe that
will use them (for the ``word`` tokenizer: whitespace split, lowercased when the recipe lowercases),
so the vocabulary's tokens and the file's words match.

Needs the optional extra ``vectors`` (``pip install 'seqlab[vectors]'``, gensim). With
``workers = 1`` (the default) a run is reproducible: the same sentences and settings give the same
file, byte for byte.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from seqlab.errors import ConfigError
from seqlab.rundir.files import atomic_write_bytes

logger = logging.getLogger(__name__)

ALGORITHMS = ("skipgram", "cbow")


@dataclass(frozen=True)
class Word2VecSettings:
    """word2vec hyper-parameters (gensim's names in brackets).

    ``dim`` (vector_size): dimensions, = the recipe's ``model.embedding_size``.
    ``window``: context words on each side. ``min_count``: rarer words get no vector.
    ``epochs``: passes over the text. ``algorithm``: ``skipgram`` (sg=1) or ``cbow`` (sg=0).
    ``negative``: negative samples per word. ``sample``: down-sampling of frequent words.
    ``seed``: initialisation and sampling seed. ``workers``: threads (1 keeps runs reproducible).
    """

    dim: int = 300
    window: int = 5
    min_count: int = 5
    epochs: int = 5
    algorithm: Literal["skipgram", "cbow"] = "skipgram"
    negative: int = 5
    sample: float = 1e-4
    seed: int = 1
    workers: int = 1

    def check(self) -> list[str]:
        """Every problem with the settings (empty when valid)."""
        errors = []
        for name in ("dim", "window", "min_count", "epochs", "workers"):
            if getattr(self, name) < 1:
                errors.append(f"{name} = {getattr(self, name)}: must be >= 1")
        if self.negative < 1:
            errors.append(f"negative = {self.negative}: must be >= 1")
        if self.sample < 0:
            errors.append(f"sample = {self.sample}: must be >= 0")
        if self.algorithm not in ALGORITHMS:
            errors.append(f"algorithm = {self.algorithm!r}: must be one of {', '.join(ALGORITHMS)}")
        return errors


_LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_PTB_RULES = (
    (re.compile(r'(^|[\s(\[{<])"'), r"\1 `` "),  # opening double quote
    (re.compile(r'"'), " '' "),  # closing double quote
    (re.compile(r"\("), " -lrb- "),
    (re.compile(r"\)"), " -rrb- "),
    (re.compile(r"\.\.\.+"), " ... "),
    (re.compile(r"--+"), " -- "),
    (re.compile(r"([,;:!?&$#*])"), r" \1 "),
    (re.compile(r"(^|\s)([^\s.]+)\.(?=\s|$)"), r"\1\2 . "),  # a final period; "e.t." stays whole
    (re.compile(r"(\w)n't\b", re.IGNORECASE), r"\1 n't"),
    (re.compile(r"(\w)'(s|re|ve|ll|d|m)\b", re.IGNORECASE), r"\1 '\2"),
)


def split_punctuation(text: str) -> str:
    """``text`` with HTML line breaks removed and punctuation and clitics split off as in the Penn
    Treebank tokenization that pre-tokenized corpora such as SST-2 use.

    ``"Don't (really) like it, sadly."`` -> ``"Do n't -lrb- really -rrb- like it , sadly ."``
    (spacing normalised). Use it for vectors meant for such corpora: their words then match
    tokens like ``n't``, ``,`` and ``-lrb-``; for a recipe over raw text (IMDB), leave it off.
    """
    text = _LINE_BREAK.sub(" ", text)
    for pattern, replacement in _PTB_RULES:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


def _import_gensim() -> Any:
    try:
        from gensim.models import Word2Vec
    except ImportError as error:
        raise ConfigError(
            "training word vectors needs gensim: pip install 'seqlab[vectors]' (or 'gensim==4.4.0')"
        ) from error
    return Word2Vec


def train_word2vec(sentences: Sequence[list[str]], settings: Word2VecSettings) -> Any:
    """Train word2vec on ``sentences`` (each a list of tokens); return gensim ``KeyedVectors``.

    Raises ConfigError for invalid settings (all problems at once), or when no word occurs
    ``min_count`` times (nothing to learn).
    """
    errors = settings.check()
    if errors:
        raise ConfigError("word2vec settings: " + "; ".join(errors))
    Word2Vec = _import_gensim()
    sentences = [s for s in sentences if s]
    model = Word2Vec(
        vector_size=settings.dim,
        window=settings.window,
        min_count=settings.min_count,
        sg=1 if settings.algorithm == "skipgram" else 0,
        negative=settings.negative,
        hs=0,
        sample=settings.sample,
        seed=settings.seed,
        workers=settings.workers,
    )
    model.build_vocab(sentences)
    if len(model.wv) == 0:
        raise ConfigError(
            f"word2vec: no word occurs min_count = {settings.min_count} times in "
            f"{len(sentences)} sentences; lower min_count or give more text"
        )
    tokens = sum(len(s) for s in sentences)
    logger.info(
        "word2vec: %d sentences, %d tokens, %d words with >= %d occurrences; %s",
        len(sentences),
        tokens,
        len(model.wv),
        settings.min_count,
        ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(settings).items()),
    )
    model.train(sentences, total_examples=len(sentences), total_words=tokens, epochs=settings.epochs)
    return model.wv


def write_word2vec_text(vectors: Any, path: str | Path) -> int:
    """Write ``vectors`` (gensim KeyedVectors) as a word2vec text file, atomically.

    Words are written by descending frequency; values with 6 significant digits. Returns the
    number of words written.
    """
    lines = [f"{len(vectors)} {vectors.vector_size}"]
    for index, word in enumerate(vectors.index_to_key):
        values = " ".join(f"{float(x):.6g}" for x in vectors.vectors[index])
        lines.append(f"{word} {values}")
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode("utf-8"))
    return len(vectors)
