from pathlib import Path

import pytest
import torch

from seqlab.config import load_config
from seqlab.errors import CheckpointError, ConfigError
from seqlab.training.pipeline import train, with_absolute_paths

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "configs" / "tiny_lm.yaml"


def test_relative_data_paths_are_stored_absolute(monkeypatch):
    monkeypatch.chdir(REPO)
    cfg = with_absolute_paths(load_config(TINY))
    assert Path(cfg.data.train).is_absolute() and Path(cfg.data.train).is_file()
    assert Path(cfg.data.valid) == REPO / "tests" / "fixtures" / "tiny_valid.txt"


def test_resume_with_a_different_config_lists_the_differences(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    run = tmp_path / "run"
    train(load_config(TINY, ["training.max_steps=4"]), run)
    changed = load_config(TINY, ["training.max_steps=4", "model.hidden_size=48"])
    with pytest.raises(ConfigError) as info:
        train(changed, run, resume=True)
    message = str(info.value)
    assert "model.hidden_size: run has 32, now 48" in message
    assert "training.max_steps: run has" not in message  # equal keys are not listed
    budget = "training.max_epochs, training.max_steps, training.max_minutes, training.max_target_tokens"
    assert f"only {budget} may change" in message


def test_resume_without_a_run_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    with pytest.raises(CheckpointError, match="drop --resume"):
        train(load_config(TINY), tmp_path / "nothing", resume=True)


@pytest.mark.parametrize(
    "mode",
    [["data.lm_mode=lines", "data.max_tokens=48"], ["data.fresh_line_share=0.3"]],
    ids=["lines", "mixed"],
)
def test_line_and_mixed_modes_resume_exactly(tmp_path, monkeypatch, mode):
    from safetensors.torch import load_file

    monkeypatch.chdir(REPO)

    def run(run_dir, steps, resume=False):
        train(
            load_config(TINY, [f"training.max_steps={steps}", "training.save_every=10", *mode]),
            run_dir,
            resume,
        )

    run(tmp_path / "whole", 50)
    run(tmp_path / "parts", 25)
    run(tmp_path / "parts", 50, resume=True)
    whole = load_file(str(tmp_path / "whole" / "last" / "model.safetensors"))
    parts = load_file(str(tmp_path / "parts" / "last" / "model.safetensors"))
    assert whole.keys() == parts.keys() and all(torch.equal(whole[k], parts[k]) for k in whole)


# ---------------------------------------------------------------------------------------------
# A run directory is never overwritten by accident; its config is written atomically (issue 14)
# ---------------------------------------------------------------------------------------------


def _model_without_last(run: Path) -> dict[str, bytes]:
    """What ``seqlab average`` leaves: a config and weights, no last/. Returns the files' bytes."""
    from seqlab.config import save_config

    run.mkdir(parents=True)
    save_config(load_config(TINY), run / "config.yaml")
    (run / "model.safetensors").write_bytes(b"averaged weights")
    return {p.name: p.read_bytes() for p in run.iterdir()}


@pytest.mark.parametrize("holds", ["config and weights", "config only", "weights only"])
def test_train_refuses_a_directory_holding_a_run_without_last(tmp_path, monkeypatch, holds):
    monkeypatch.chdir(REPO)
    run = tmp_path / "averaged"
    before = _model_without_last(run)
    for name, part in (("config.yaml", "weights only"), ("model.safetensors", "config only")):
        if holds == part:
            (run / name).unlink()
            del before[name]
    with pytest.raises(CheckpointError) as info:
        train(load_config(TINY, ["training.max_steps=2"]), run)
    message = str(info.value)
    assert str(run) in message and "--resume" in message and "--overwrite" in message
    assert "\n" not in message
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


def test_overwrite_replaces_the_old_run(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    run = tmp_path / "run"
    _model_without_last(run)
    (run / "notes.txt").write_text("mine")
    train(load_config(TINY, ["training.max_steps=2", "training.validate_every=2"]), run, overwrite=True)
    assert (run / "model.safetensors").read_bytes() != b"averaged weights"
    assert (run / "notes.txt").read_text() == "mine"  # not a file seqlab writes: left alone


def test_run_dir_that_is_a_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    target = tmp_path / "file"
    target.write_text("keep me")
    for resume in (False, True):
        with pytest.raises(CheckpointError, match="not a directory"):
            train(load_config(TINY, ["training.max_steps=2"]), target, resume=resume)
    assert target.read_text() == "keep me"


def test_config_yaml_is_written_atomically(tmp_path, monkeypatch):
    """A kill during the write leaves the old config.yaml whole (temporary file + os.replace)."""
    import os

    from seqlab.config import save_config

    path = tmp_path / "config.yaml"
    save_config(load_config(TINY), path)
    before = path.read_bytes()
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))

    def killed(*args):
        raise KeyboardInterrupt("killed before the rename")

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        save_config(load_config(TINY, ["training.max_steps=7"]), path)
    assert path.read_bytes() == before
    assert synced  # the new text reached the disk before the rename would have happened
    assert [p.name for p in tmp_path.iterdir()] == ["config.yaml"]


def test_run_directory_has_a_manifest_that_resume_checks(tmp_path, monkeypatch):
    from seqlab.errors import IntegrityError
    from seqlab.rundir.manifest import read_manifest

    monkeypatch.chdir(REPO)
    run = tmp_path / "run"
    train(load_config(TINY, ["training.max_steps=4", "training.validate_every=4"]), run)
    listed = read_manifest(run)
    assert {"config.yaml", "vocab.json", "model.safetensors"} <= set(listed)
    assert any(name.startswith("tokenizer/") for name in listed)
    assert "metrics.jsonl" not in listed
    vocab = run / "vocab.json"
    vocab.write_text(vocab.read_text().replace('"the"', '"teh"'))
    with pytest.raises(IntegrityError, match="vocab.json"):
        train(load_config(TINY, ["training.max_steps=8", "training.validate_every=4"]), run, resume=True)
