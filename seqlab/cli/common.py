"""What the verbs share: ``--no-verify``, loading a run for one model family with a clear refusal,
reading a text file, a progress bar over batches."""

from __future__ import annotations

import argparse
from pathlib import Path

from seqlab.errors import ConfigError


def add_no_verify_argument(p: argparse.ArgumentParser) -> None:
    """``--no-verify``, on every command that reads a run directory."""
    p.add_argument(
        "--no-verify",
        action="store_true",
        help="skip checking the run's files against their sha256 manifests (manifest.json), for "
        "repairing a run by hand",
    )


_FAMILY_NAMES = {"language_model": "language model", "classifier": "classifier", "tagger": "tagger"}
_FAMILY_COMMANDS = {
    "language_model": "`seqlab generate`, `seqlab predict-next` or `seqlab score`",
    "classifier": "`seqlab predict`",
    "tagger": "`seqlab predict`",
    "seq2seq": "`seqlab translate`",
}


def load_for(  # noqa: ANN201
    command: str, run_dir: str, *families: str, verify: bool = True, int8: bool | None = None
):
    """``seqlab.load(run_dir, verify=verify, int8=int8)`` for a command that serves ``families``;
    otherwise a ConfigError naming the run's family and the command to use instead."""
    import seqlab

    predictor = seqlab.load(run_dir, verify=verify, int8=int8)
    task = predictor.config.task
    if task not in families:
        raise ConfigError(
            f"{run_dir} is a {_FAMILY_NAMES.get(task, task)} run; `seqlab {command}` needs a "
            f"{' or '.join(_FAMILY_NAMES.get(f, f) for f in families)} run: use {_FAMILY_COMMANDS[task]}"
        )
    return predictor


def read_text_lines(path: str) -> list[str]:
    from seqlab.data.readers.lines import read_lines

    return read_lines(Path(path))


def progress(items: list, batch_size: int, what: str):  # noqa: ANN202 - an iterator of chunks
    from tqdm import tqdm

    from seqlab.predictors.common import chunks

    total = (len(items) + batch_size - 1) // batch_size
    return tqdm(chunks(items, batch_size), total=total, unit="batch", desc=what, disable=None)
