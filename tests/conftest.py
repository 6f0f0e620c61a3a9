"""Test-suite settings shared by every folder.

Property tests (hypothesis) draw the same examples on every run by default (``derandomize``), so
`make test` and CI are reproducible: a failure seen once is seen again. To search new examples, run
with ``HYPOTHESIS_PROFILE=explore`` (random draws, examples that failed before replayed first).
"""

import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("default", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def write_dailydialog_zips(root: Path, train_text: str, valid_text: str) -> Path:
    """DailyDialog's official zips (``train.zip``, ``validation.zip``) holding ``train_text`` and
    ``valid_text``, under ``root`` in the catalogue's layout (``dialogue/dailydialog``); returns root."""
    folder = root / "dialogue" / "dailydialog"
    folder.mkdir(parents=True, exist_ok=True)
    for name, member, text in (
        ("train.zip", "train/dialogues_train.txt", train_text),
        ("validation.zip", "validation/dialogues_validation.txt", valid_text),
    ):
        with zipfile.ZipFile(folder / name, "w") as archive:
            archive.writestr(member, text)
    return root


@pytest.fixture(scope="session")
def dailydialog_zips() -> Callable[[Path, str, str], Path]:
    """:func:`write_dailydialog_zips`, for tests that need a data root with DailyDialog in it."""
    return write_dailydialog_zips
