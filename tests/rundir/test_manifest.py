"""Manifests: the sha256 of each file of a run directory or checkpoint, checked on every load."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from seqlab.errors import CheckpointError, IntegrityError
from seqlab.rundir.manifest import (
    MANIFEST_FILE,
    file_sha256,
    read_manifest,
    replace_file,
    verify_manifest,
    write_manifest,
)


def _run(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    (run / "tokenizer").mkdir(parents=True)
    (run / "config.yaml").write_text("task: language_model\n")
    (run / "tokenizer" / "tokenizer.json").write_text("{}\n")
    (run / "model.safetensors").write_bytes(b"weights" * 10)
    (run / "notes.txt").write_text("not listed\n")
    return run


def test_manifest_lists_files_and_folders_and_verifies(tmp_path):
    run = _run(tmp_path)
    write_manifest(run, ["config.yaml", "tokenizer", "model.safetensors", "absent.json"])
    listed = read_manifest(run)
    assert sorted(listed) == ["config.yaml", "model.safetensors", "tokenizer/tokenizer.json"]
    assert listed["config.yaml"] == [file_sha256(run / "config.yaml")]
    assert verify_manifest(run) is True
    (run / "notes.txt").write_text("changed, but not listed\n")
    assert verify_manifest(run) is True


@pytest.mark.parametrize("damage", ["flip", "missing", "directory", "fifo"])
def test_a_damaged_file_is_refused_by_name(tmp_path, damage):
    run = _run(tmp_path)
    write_manifest(run, ["config.yaml", "tokenizer", "model.safetensors"])
    weights = run / "model.safetensors"
    data = bytearray(weights.read_bytes())
    weights.unlink()
    if damage == "flip":
        data[-1] ^= 0x01
        weights.write_bytes(bytes(data))
    elif damage == "directory":
        weights.mkdir()
    elif damage == "fifo":
        os.mkfifo(weights)  # must be refused, never opened for a blocking read
    with pytest.raises(IntegrityError, match="model.safetensors") as info:
        verify_manifest(run)
    assert isinstance(info.value, CheckpointError)
    assert "\n" not in str(info.value)
    assert {"flip": "sha256", "missing": "missing", "directory": "regular", "fifo": "regular"}[damage] in str(
        info.value
    )


def test_verify_only_some_files(tmp_path):
    run = _run(tmp_path)
    write_manifest(run, ["config.yaml", "model.safetensors"])
    (run / "config.yaml").write_text("changed\n")
    assert verify_manifest(run, only=["model.safetensors"]) is True
    with pytest.raises(IntegrityError, match="config.yaml"):
        verify_manifest(run, only=["config.yaml"])


def test_no_manifest_warns_once_and_loads(tmp_path, caplog):
    run = _run(tmp_path)
    with caplog.at_level(logging.WARNING):
        assert verify_manifest(run) is False
    assert "no manifest.json" in caplog.text and "not verified" in caplog.text


def test_a_manifest_deleted_from_a_run_written_with_manifests_is_refused(tmp_path):
    # a run directory whose checkpoint has a manifest wrote its own first
    run = _run(tmp_path)
    checkpoint = run / "ckpt-last-5-abcd"
    checkpoint.mkdir()
    (checkpoint / "state.json").write_text(json.dumps({"format_version": 1, "manifest": MANIFEST_FILE}))
    write_manifest(checkpoint, ["state.json"])
    with pytest.raises(
        IntegrityError, match=r"run/manifest.json: missing, but its checkpoint ckpt-last-5-abcd"
    ):
        verify_manifest(run)
    # a checkpoint's state.json records that it had a manifest
    (checkpoint / MANIFEST_FILE).unlink()
    with pytest.raises(IntegrityError, match=r"manifest.json: missing, but its state.json records one"):
        verify_manifest(checkpoint)
    # from before manifests: no record, a warning
    (checkpoint / "state.json").write_text(json.dumps({"format_version": 1}))
    assert verify_manifest(checkpoint) is False


@pytest.mark.parametrize(
    "text", ["not json", "[]", '{"format_version": 9, "files": {}}', '{"format_version": 1}']
)
def test_an_unreadable_manifest_is_refused(tmp_path, text):
    run = _run(tmp_path)
    (run / MANIFEST_FILE).write_text(text)
    with pytest.raises(IntegrityError, match="manifest.json"):
        verify_manifest(run)


def test_replace_file_keeps_the_manifest_true_at_every_instant(tmp_path, monkeypatch):
    """A kill before or after the os.replace of a listed file leaves a manifest that accepts what is
    there; once done, only the new digest is accepted."""
    run = _run(tmp_path)
    write_manifest(run, ["config.yaml", "model.safetensors"])
    old = file_sha256(run / "model.safetensors")
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        if Path(dst).name == "model.safetensors":
            seen.append(read_manifest(run)["model.safetensors"])
            verify_manifest(run)  # the old file, before the switch
            real_replace(src, dst)
            verify_manifest(run)  # the new one, before the manifest is rewritten
            return None
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    replace_file(run / "model.safetensors", lambda tmp: tmp.write_bytes(b"new weights"))
    monkeypatch.undo()
    new = file_sha256(run / "model.safetensors")
    assert seen == [[old, new]]
    assert read_manifest(run)["model.safetensors"] == [new]
    assert json.loads((run / MANIFEST_FILE).read_text())["files"]["model.safetensors"] == new
    assert not list(run.glob(".tmp-*"))


def test_replace_file_adds_an_entry_and_leaves_runs_without_a_manifest_alone(tmp_path):
    run = _run(tmp_path)
    replace_file(run / "extra.bin", lambda tmp: tmp.write_bytes(b"x"))
    assert not (run / MANIFEST_FILE).exists()
    write_manifest(run, ["config.yaml"])
    replace_file(run / "extra.bin", lambda tmp: tmp.write_bytes(b"y"))
    assert read_manifest(run)["extra.bin"] == [file_sha256(run / "extra.bin")]
