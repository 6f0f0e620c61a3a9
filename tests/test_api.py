"""The language-model predictor starts every line the way its model trained.

For a model trained in ``lm_mode: lines`` the Trainer validated each line from a fresh state; the
predictor's ``score`` (line by line), ``perplexity`` and ``predict_next`` must see exactly those
states, so their figures equal the Trainer's own validation.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

import seqlab
from seqlab.config import load_config
from seqlab.data.readers import read_lines
from seqlab.pipeline import train

ROOT = Path(__file__).resolve().parents[1]
VALID = ROOT / "tests" / "fixtures" / "tiny_valid.txt"


@pytest.fixture(scope="module")
def line_model(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("api") / "run"
    overrides = [
        f"data.train={ROOT / 'tests' / 'fixtures' / 'tiny_train.txt'}",
        f"data.valid={VALID}",
        "data.lm_mode=lines",
        "data.max_tokens=64",
        "training.max_steps=60",
        "training.validate_every=60",
    ]
    summary = train(load_config(ROOT / "configs" / "tiny_lm.yaml", overrides), run_dir)
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    final = [r for r in records if r["split"] == "valid"][-1]
    assert summary["step"] == final["step"] == 60
    return seqlab.load(run_dir), final


def test_score_and_perplexity_equal_the_trainers_validation(line_model):
    predictor, validation = line_model
    lines = read_lines(VALID)
    scores = predictor.score(lines)
    line_ppl = math.exp(-sum(s.logprob for s in scores) / sum(s.tokens for s in scores))
    assert line_ppl == pytest.approx(validation["ppl"], rel=1e-4)
    assert predictor.perplexity(lines)["ppl"] == pytest.approx(validation["ppl"], rel=1e-6)


def test_predict_next_reads_the_line_from_a_fresh_state(line_model):
    predictor, _ = line_model
    text = read_lines(VALID)[0]
    ids = predictor._context_ids(text)
    state = predictor.model.init_state(1)
    for token in ids:
        logits, state, _ = predictor.model.decode_step(torch.tensor([token]), state)
    expected = torch.softmax(logits[0], dim=-1).max().item()
    assert predictor.predict_next(text, top_k=1)[0][1] == pytest.approx(expected, rel=1e-5)
