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
from seqlab.data.readers.lines import read_lines
from seqlab.errors import ConfigError
from seqlab.training.pipeline import train

ROOT = Path(__file__).resolve().parents[1]
VALID = ROOT / "tests" / "fixtures" / "tiny_valid.txt"


def train_tiny_lm(run_dir: Path, *overrides: str) -> dict:
    """configs/tiny_lm.yaml for 60 steps into ``run_dir`` (``overrides`` on top)."""
    data = [f"data.train={ROOT / 'tests' / 'fixtures' / 'tiny_train.txt'}", f"data.valid={VALID}"]
    cfg = load_config(ROOT / "configs" / "tiny_lm.yaml", [*data, "training.max_steps=60", *overrides])
    return train(cfg, run_dir)


@pytest.fixture(scope="module")
def line_model(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("api") / "run"
    summary = train_tiny_lm(run_dir, "data.lm_mode=lines", "data.max_tokens=64", "training.validate_every=60")
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


@pytest.fixture(scope="module")
def stream_run_with_line_start(tmp_path_factory):
    """A stream-trained tiny LM whose run holds an estimated line-start state."""
    from seqlab.data.corpora.lm import encode_file
    from seqlab.models.line_start import estimate_line_start, save_line_start

    run_dir = tmp_path_factory.mktemp("api_stream") / "run"
    train_tiny_lm(run_dir)
    predictor = seqlab.load(run_dir)
    assert predictor.model.line_start is None  # nothing saved yet: zeros
    ids = encode_file(ROOT / "tests" / "fixtures" / "tiny_train.txt", run_dir)
    state = estimate_line_start(predictor.model, ids, predictor.vocab.eos_id, method="mean")
    save_line_start(run_dir, state, {"method": "mean"})
    return run_dir, state


def test_a_saved_line_start_is_where_every_consumer_starts(stream_run_with_line_start):
    from seqlab.models.line_start import line_nll

    run_dir, state = stream_run_with_line_start
    predictor = seqlab.load(run_dir)
    assert torch.equal(predictor.model.line_start.h, state.h)
    assert torch.equal(predictor.model.init_state(3).c[:, 2:3], state.c)
    lines = read_lines(VALID)[:6]
    ids = [torch.tensor(predictor.vocab.encode(predictor.tokenizer.tokenize(line))) for line in lines]
    expected, tokens = line_nll(predictor.model, ids, predictor.vocab.eos_id, start=state)
    scores = predictor.score(lines)
    assert sum(s.tokens for s in scores) == tokens
    assert -sum(s.logprob for s in scores) == pytest.approx(expected, rel=1e-5)
    assert expected != pytest.approx(line_nll(predictor.model, ids, predictor.vocab.eos_id)[0], rel=1e-6)


def test_export_carries_the_line_start(stream_run_with_line_start, tmp_path):
    from seqlab.export import export_run
    from seqlab.models.line_start import load_line_start

    run_dir, state = stream_run_with_line_start
    result = export_run(run_dir, "torchscript", tmp_path / "out")
    assert tmp_path / "out" / "line_start.safetensors" in result.files
    assert torch.equal(load_line_start(tmp_path / "out").h, state.h)
    manifest = json.loads(result.manifest.read_text())
    assert "line_start.safetensors" in manifest["usage"]["how"] and manifest["usage"]["lm_mode"] == "stream"


# ---------------------------------------------------------------------------------------------
# Verified loads (issue 14, item 4)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("verified") / "run"
    train_tiny_lm(run_dir, "training.max_steps=20", "training.validate_every=20")
    return run_dir


def _copy(run: Path, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "copy"
    shutil.copytree(run, target, symlinks=True)
    return target


def test_load_refuses_a_flipped_byte_in_the_weights(small_run, tmp_path):
    run = _copy(small_run, tmp_path)
    weights = run / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-3] ^= 0x10  # inside a tensor: the file still parses
    weights.write_bytes(bytes(data))
    with pytest.raises(seqlab.IntegrityError, match="model.safetensors"):
        seqlab.load(run)
    seqlab.load(run, verify=False)  # someone repairing the run by hand


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_weights_replaced_by_a_non_file_are_refused_not_replaced_by_last(small_run, tmp_path, kind):
    import os

    run = _copy(small_run, tmp_path)
    (run / "model.safetensors").unlink()
    if kind == "directory":
        (run / "model.safetensors").mkdir()
    else:
        os.mkfifo(run / "model.safetensors")
    for verify in (True, False):
        with pytest.raises(seqlab.CheckpointError, match="model.safetensors.*regular file"):
            seqlab.load(run, verify=verify)


def test_float64_weights_are_refused_naming_the_tensor(small_run, tmp_path):
    from safetensors.torch import load_file, save_file

    run = _copy(small_run, tmp_path)
    tensors = load_file(str(run / "model.safetensors"))
    name = sorted(tensors)[0]
    tensors[name] = tensors[name].double()
    save_file(tensors, str(run / "model.safetensors"))
    with pytest.raises(seqlab.CheckpointError, match=rf"{name}.*float64"):
        seqlab.load(run, verify=False)


def test_a_run_from_before_manifests_loads_with_a_warning(small_run, tmp_path, caplog):
    import json
    import logging

    run = _copy(small_run, tmp_path)
    for manifest in run.rglob("manifest.json"):  # as an older seqlab wrote it: no manifest anywhere
        manifest.unlink()
    for state in run.glob("ckpt-*/state.json"):
        state.write_text(
            json.dumps({k: v for k, v in json.loads(state.read_text()).items() if k != "manifest"})
        )
    with caplog.at_level(logging.WARNING):
        seqlab.load(run)
    assert "no manifest.json" in caplog.text
    (run / "ckpt-best-x").mkdir()  # a checkpoint written with a manifest: the run's own was deleted
    (run / "ckpt-best-x" / "manifest.json").write_text("{}")
    with pytest.raises(seqlab.IntegrityError, match="manifest.json: missing, but its checkpoint ckpt-best-x"):
        seqlab.load(run)


def test_every_predictor_verifies(small_run, tmp_path):
    from seqlab.api import LanguageModelPredictor

    run = _copy(small_run, tmp_path)
    (run / "vocab.json").write_text((run / "vocab.json").read_text() + " ")
    with pytest.raises(seqlab.IntegrityError, match="vocab.json"):
        LanguageModelPredictor(run)


def test_a_load_hashes_each_file_once(small_run, monkeypatch):
    from collections import Counter

    from seqlab.rundir import manifest

    hashed: Counter = Counter()
    real = manifest.file_sha256
    monkeypatch.setattr(manifest, "file_sha256", lambda path: (hashed.update([path]), real(path))[1])
    seqlab.load(small_run)
    assert hashed and max(hashed.values()) == 1
    assert any(path.name == "model.safetensors" for path in hashed)


def test_generate_beam_one_is_greedy_and_beam_returns_its_n_best(line_model):
    predictor, _ = line_model
    greedy = predictor.generate("the", 12, greedy=True, stop_at_eos=True)
    assert predictor.generate("the", 12, beam_size=1, greedy=True, stop_at_eos=True) == greedy
    beams = predictor.generate("the", 12, beam_size=3, num_samples=2, stop_at_eos=True)
    assert len(beams) == 2 and all(text.startswith("the") for text in beams)
    with pytest.raises(ConfigError, match="beam search does not sample"):
        predictor.generate("the", 5, beam_size=3, temperature=0.5)
    with pytest.raises(ConfigError, match="at most beam_size"):
        predictor.generate("the", 5, beam_size=2, num_samples=3)
