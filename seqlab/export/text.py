"""The text side of an export's ``seqlab_export.json``: tokenizers (their folders copied beside the
graphs), vocabularies with their special ids, labels and characters, by model family."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from seqlab.rundir.names import SOURCE_TOKENIZER_DIR, TARGET_TOKENIZER_DIR, TOKENIZER_DIR
from seqlab.text.tokenizers import CONFIG_FILE as TOKENIZER_CONFIG


def vocab_entry(vocab: Any) -> dict[str, Any]:
    return {
        "tokens": list(vocab.itos),
        "pad_id": vocab.pad_id,
        "unk_id": vocab.unk_id,
        "bos_id": vocab.bos_id,
        "eos_id": vocab.eos_id,
    }


def tokenizer_entry(directory: Path, out_dir: Path, name: str) -> dict[str, Any]:
    """Copy a run's tokenizer folder to ``out_dir/name`` and describe it."""
    target = out_dir / name
    shutil.copytree(directory, target, dirs_exist_ok=True)
    settings = json.loads((directory / TOKENIZER_CONFIG).read_text(encoding="utf-8"))
    settings.pop("format_version", None)
    files = sorted(p.name for p in target.iterdir())
    return {**settings, "folder": name, "files": files}


def describe_text(pred: Any, out_dir: Path) -> dict[str, Any]:
    """Tokenizers, vocabularies and labels of ``pred``, for the manifest."""
    run_dir = Path(pred.run_dir)
    family = getattr(pred, "family", None) or pred.config.task
    if family == "seq2seq":
        return seq2seq_text(pred, out_dir)
    entry: dict[str, Any] = {"tokenizer": tokenizer_entry(run_dir / TOKENIZER_DIR, out_dir, TOKENIZER_DIR)}
    if family == "language_model":
        entry["vocab"] = vocab_entry(pred.vocab)
        return entry
    entry["vocab"] = vocab_entry(pred.pipeline.vocab)
    entry["labels"] = list(pred.labels)
    if pred.pipeline.chars is not None:
        entry["chars"] = vocab_entry(pred.pipeline.chars)
    return entry


def seq2seq_text(pred: Any, out_dir: Path) -> dict[str, Any]:
    """Both sides' tokenizers (copied to ``source_tokenizer/`` and ``target_tokenizer/``) and
    vocabularies, for the manifest."""
    run_dir = Path(pred.run_dir)
    return {
        "source_tokenizer": tokenizer_entry(run_dir / SOURCE_TOKENIZER_DIR, out_dir, SOURCE_TOKENIZER_DIR),
        "target_tokenizer": tokenizer_entry(run_dir / TARGET_TOKENIZER_DIR, out_dir, TARGET_TOKENIZER_DIR),
        "source_vocab": vocab_entry(pred.pipeline.source_vocab),
        "target_vocab": vocab_entry(pred.pipeline.target_vocab),
    }
