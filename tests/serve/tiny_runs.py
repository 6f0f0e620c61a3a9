"""Tiny trained run directories for the serving and export tests, trained once per test session.

The runs come from the repository's tiny recipes (``configs/tiny_*.yaml``) with fewer steps: the
tests check plumbing (HTTP, batching, export equivalence), not quality. Both ``tests/serve`` and
``tests/test_export.py`` load this file by path and share one cache folder, so each run trains once.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"

# name -> (recipe, overrides that keep training to a second or two)
RECIPES: dict[str, tuple[str, list[str]]] = {
    "lm": ("tiny_lm.yaml", ["training.max_steps=30", "training.validate_every=30", "training.save_every=30"]),
    "classifier": ("tiny_classifier.yaml", ["training.max_epochs=3"]),
    "tagger": ("tiny_tagger.yaml", ["training.max_epochs=2"]),
    # validation by loss only (no decoding of the validation set): a few seconds
    "seq2seq": (
        "tiny_seq2seq.yaml",
        ["training.max_epochs=4", "training.metric=loss", "training.metric_mode=min"],
    ),
    # copy attention: copies words no vocabulary holds (validated by decoding, as the recipe does)
    "copy": ("tiny_copy.yaml", []),
}


def recipe_exists(name: str) -> bool:
    return (REPO / "configs" / RECIPES[name][0]).is_file()


def train_tiny(name: str, base: Path) -> Path:
    """Train recipe ``name`` into ``base/name`` (once: a finished run is reused) and return its folder."""
    from seqlab.config import load_config
    from seqlab.training.pipeline import train

    run_dir = base / name
    done = run_dir / ".trained"
    if done.is_file():
        return run_dir
    recipe, overrides = RECIPES[name]
    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    cwd = os.getcwd()
    os.chdir(REPO)  # the recipes name their fixture files relative to the repository root
    try:
        cfg = load_config(REPO / "configs" / recipe, [*overrides, "training.progress=false"])
        train(cfg, run_dir)
    finally:
        os.chdir(cwd)
    done.write_text("ok\n")
    return run_dir
