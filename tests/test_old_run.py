"""A run directory written before the package was reorganised (issue 15) still loads and generates.

``tests/fixtures/old_run_lm`` was written by the code at 5266ee3 (before any module moved) with::

    seqlab train configs/tiny_lm.yaml --run-dir /tmp/oldrun/lm --set training.max_steps=4 \
        --set training.save_every=2 --set training.validate_every=2 --set model.embedding_size=4 \
        --set model.hidden_size=4 --set model.num_layers=1

and trimmed to the files inference reads (``last/`` and its optimizer state left out). Its manifests
are checked on load, so a change in the run-directory format (a file renamed, a hash scheme changed)
fails here.
"""

import json
import shutil
from pathlib import Path

import pytest

import seqlab

OLD_RUN = Path(__file__).parent / "fixtures" / "old_run_lm"


@pytest.fixture
def old_run(tmp_path: Path) -> Path:
    """A private copy, so that nothing a load might write can touch the committed fixture."""
    target = tmp_path / "old_run_lm"
    shutil.copytree(OLD_RUN, target, symlinks=True)
    return target


def test_old_run_directory_loads_verified_and_generates(old_run: Path) -> None:
    predictor = seqlab.load(old_run)  # verify=True: its manifests match
    [text] = predictor.generate("the", max_tokens=5, seed=1)
    words = text.split()
    assert words[0] == "the"
    assert 1 < len(words) <= 6
    vocab = set(json.loads((old_run / "vocab.json").read_text(encoding="utf-8"))["tokens"])
    assert all(word in vocab for word in words[1:]), words


def test_old_run_directory_scores_and_predicts_next(old_run: Path) -> None:
    predictor = seqlab.load(old_run)
    [score] = predictor.score(["the cat sat"])
    assert score.perplexity > 1.0
    top = predictor.predict_next("the cat", top_k=3)
    assert len(top) == 3
    assert all(0.0 <= p <= 1.0 for _, p in top)
