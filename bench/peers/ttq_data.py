"""The time-to-quality benchmark's data: one set of files per task that seqlab and OpenNMT-py both read.

Written once into ``WORK/data/<task>`` (skipped when its ``meta.json`` is current), from seqlab's
catalogue under ``$SEQLAB_DATA`` (read in place; nothing downloaded, nothing copied into the repository):

- ``g2p``: ``cmudict_g2p``'s ``train`` and ``valid`` splits (the catalogue's fixed-seed 5% word
  hold-out, every pronunciation of a held-out word on the valid side). A source is the word,
  lowercased, one character a token (what seqlab's recipe's ``char`` tokenizer with ``lowercase``
  makes of it); a target is the phonemes. Files: ``train.src``/``train.tgt`` and ``valid.src``/
  ``valid.tgt`` (one pair a line: a word with two pronunciations is two lines), ``test.src`` (each
  held-out word once, the decoding input) and ``test.refs.json`` (its pronunciations, the references
  every output is scored against, the closest one counting), ``vocab.src``/``vocab.tgt``.
- ``multi30k``: ``multi30k_en_de``'s ``train`` and ``valid`` (English -> German). Raw text
  (``train.en``/``train.de``, ``valid.en``/``valid.de``) for seqlab, whose recipe fits its own
  sentencepiece models on it; the same text cut into pieces (``train.sp.en``/``train.sp.de``,
  ``valid.sp.en``) by sentencepiece models fitted here with seqlab's own tokenizer class and the
  recipe's settings (unigram, 8,000 per side, fitted on the training sides), which therefore are the
  models seqlab fits (the benchmark checks the bytes after training); ``vocab.sp.en``/``vocab.sp.de``
  for OpenNMT-py; ``test.src`` (= ``valid.en``) and ``test.refs.json`` (the German side, one reference
  each). OpenNMT-py's outputs are pieces, joined back with the same model before scoring.

The scorer for both toolkits is :func:`score`, i.e. :func:`seqlab.metrics.references.score_outputs`:
WER (and PER) for G2P, sacreBLEU (and chrF) on detokenized text for Multi30k.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

TASKS = ("g2p", "multi30k")
DATASETS = {"g2p": "cmudict_g2p", "multi30k": "multi30k_en_de"}
SP_VOCAB_SIZE = 8000  # configs/multi30k_en_de.yaml
FORMAT_VERSION = 2
SCORES = {"g2p": ("wer", "per"), "multi30k": ("bleu", "chrf")}
HEADLINE = {"g2p": "wer", "multi30k": "bleu"}


@dataclass(frozen=True)
class TaskData:
    """What :func:`prepare` wrote for one task (paths are absolute strings)."""

    task: str
    directory: str
    dataset: str
    train_pairs: int
    valid_pairs: int
    test_sources: int
    digest: str
    files: dict[str, str] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        return Path(self.directory) / name


def char_source(word: str) -> str:
    """``AARON`` -> ``a a r o n``: seqlab's recipe's char tokens (lowercased), space-separated."""
    return " ".join(word.lower())


def write_lines(path: Path, lines: list[str]) -> None:
    for line in lines:
        if "\n" in line or "\r" in line:
            raise ValueError(f"{path}: a line holds a line break: {line!r}")
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")[:-1]


def write_vocab(path: Path, lines: list[str]) -> None:
    """One token a line, most frequent first (ties by the token): OpenNMT-py's ``src_vocab`` format."""
    counts = Counter(token for line in lines for token in line.split())
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    path.write_text("".join(f"{token}\n" for token, _ in ranked), encoding="utf-8")


def grouped(pairs: list[tuple[str, str]]) -> tuple[list[str], list[list[str]]]:
    """(sources in first-seen order, the references of each): a word with two pronunciations is one
    source with two references (seqlab.metrics.references.group_references)."""
    refs: dict[str, list[str]] = {}
    for source, target in pairs:
        refs.setdefault(source, []).append(target)
    return list(refs), list(refs.values())


def write_g2p(directory: Path, train: list[tuple[str, str]], valid: list[tuple[str, str]]) -> dict[str, str]:
    """The G2P files from (word, phonemes) pairs; returns {role: file name} for what the toolkit
    commands look up (seqlab's config template names its training files itself)."""
    for split, pairs in (("train", train), ("valid", valid)):
        write_lines(directory / f"{split}.src", [char_source(w) for w, _ in pairs])
        write_lines(directory / f"{split}.tgt", [" ".join(p.split()) for _, p in pairs])
    sources, refs = grouped([(char_source(w), " ".join(p.split())) for w, p in valid])
    write_lines(directory / "test.src", sources)
    (directory / "test.refs.json").write_text(json.dumps(refs, ensure_ascii=False) + "\n", encoding="utf-8")
    write_vocab(directory / "vocab.src", read_lines(directory / "train.src"))
    write_vocab(directory / "vocab.tgt", read_lines(directory / "train.tgt"))
    return {
        "onmt_train": "train",
        "src_ext": "src",
        "tgt_ext": "tgt",
        "onmt_src_vocab": "vocab.src",
        "onmt_tgt_vocab": "vocab.tgt",
        "seqlab_test_src": "test.src",
        "onmt_test_src": "test.src",
    }


def sentencepiece(lines: list[str], directory: Path) -> Any:
    """A sentencepiece model fitted on ``lines`` exactly as seqlab's recipe fits it (seqlab's own class)."""
    from seqlab.config.schema import TokenizerConfig
    from seqlab.text.tokenizers import build_tokenizer

    cfg = TokenizerConfig(kind="sentencepiece", sp_model_type="unigram", sp_vocab_size=SP_VOCAB_SIZE)
    tokenizer = build_tokenizer(cfg)
    tokenizer.fit(lines, directory)
    return tokenizer


def write_multi30k(
    directory: Path, train: list[tuple[str, str]], valid: list[tuple[str, str]]
) -> dict[str, str]:
    """The Multi30k files (raw and sentencepiece pieces); returns {role: file name}."""
    for split, pairs in (("train", train), ("valid", valid)):
        write_lines(directory / f"{split}.en", [s for s, _ in pairs])
        write_lines(directory / f"{split}.de", [t for _, t in pairs])
    for lang, side in (("en", 0), ("de", 1)):
        tokenizer = sentencepiece([p[side] for p in train], directory / f"spm.{lang}")
        for split, pairs in (("train", train), ("valid", valid)):
            pieces = [" ".join(tokenizer.tokenize(p[side])) for p in pairs]
            write_lines(directory / f"{split}.sp.{lang}", pieces)
        write_vocab(directory / f"vocab.sp.{lang}", read_lines(directory / f"train.sp.{lang}"))
    write_lines(directory / "test.src", [s for s, _ in valid])
    refs = [[t] for _, t in valid]
    (directory / "test.refs.json").write_text(json.dumps(refs, ensure_ascii=False) + "\n", encoding="utf-8")
    return {
        "onmt_train": "train.sp",
        "src_ext": "en",
        "tgt_ext": "de",
        "onmt_src_vocab": "vocab.sp.en",
        "onmt_tgt_vocab": "vocab.sp.de",
        "seqlab_test_src": "test.src",
        "onmt_test_src": "valid.sp.en",
        "spm_target": "spm.de",
    }


def catalogue_pairs(task: str, split: str) -> list[tuple[str, str]]:
    from seqlab.data.catalogue.seq2seq_pairs import read_dataset_pairs

    return [(p.source, p.target) for p in read_dataset_pairs(DATASETS[task], split).pairs]


def prepare(task: str, work: Path) -> TaskData:
    """Write ``task``'s files under ``work/data/<task>`` (skipped when ``meta.json`` is current)."""
    if task not in TASKS:
        raise ValueError(f"task {task!r}: must be one of {', '.join(TASKS)}")
    directory = (Path(work) / "data" / task).resolve()
    meta = directory / "meta.json"
    if meta.is_file():
        saved = json.loads(meta.read_text())
        if saved.pop("format_version", None) == FORMAT_VERSION:
            return TaskData(**saved)
    train, valid = catalogue_pairs(task, "train"), catalogue_pairs(task, "valid")
    directory.mkdir(parents=True, exist_ok=True)
    writer = write_g2p if task == "g2p" else write_multi30k
    files = writer(directory, train, valid)
    digest = hashlib.sha256()
    for path in sorted(directory.iterdir()):
        if path.is_file() and path.name != "meta.json":
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    info = TaskData(
        task=task,
        directory=str(directory),
        dataset=DATASETS[task],
        train_pairs=len(train),
        valid_pairs=len(valid),
        test_sources=len(read_lines(directory / "test.src")),
        digest=digest.hexdigest()[:16],
        files=files,
    )
    meta.write_text(json.dumps({"format_version": FORMAT_VERSION, **asdict(info)}, indent=2) + "\n")
    return info


def references(info: TaskData) -> list[list[str]]:
    return json.loads(info.path("test.refs.json").read_text(encoding="utf-8"))


def detokenizer(info: TaskData) -> Any:
    """``pieces -> text`` for OpenNMT-py's Multi30k outputs (None for G2P: its outputs are the tokens)."""
    if info.task != "multi30k":
        return None
    from seqlab.text.tokenizers import load_tokenizer

    return load_tokenizer(info.path(info.files["spm_target"])).detokenize


def score(task: str, outputs: list[str], refs: list[list[str]]) -> dict[str, float]:
    """The one scorer for every toolkit: ``outputs`` (text, one per test source) against ``refs``
    (each output against its closest reference); the task's :data:`SCORES`, 0-100."""
    from seqlab.metrics.references import score_outputs

    if len(outputs) != len(refs):
        raise RuntimeError(f"{len(outputs)} outputs for {len(refs)} test sources")
    ref_tokens = [[r.split() for r in group] for group in refs]
    scores, _, _ = score_outputs(outputs, [o.split() for o in outputs], refs, ref_tokens, SCORES[task])
    return scores
