"""Checkpoints: round trip, tied weights, pickle refusal, format version, atomic saves."""

from __future__ import annotations

import json
import os
import pickle
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from training_toys import ToyBatch, ToyModel

from seqlab.errors import CheckpointError, IntegrityError
from seqlab.rundir.safetensors_io import load_model_weights, read_state_dict, save_model_weights
from seqlab.training import checkpoint as ckpt_mod
from seqlab.training.checkpoint import load_checkpoint, save_checkpoint
from seqlab.training.rng import restore_rng


def _trained(seed: int = 0) -> tuple[ToyModel, torch.optim.Optimizer]:
    torch.manual_seed(seed)
    model = ToyModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    batch = ToyBatch(torch.tensor([1, 2, 3]), torch.tensor([4, 7, 10]))
    for _ in range(2):
        loss, _ = model.loss(batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return model, optimizer


def test_round_trip_model_optimizer_rng_carry(tmp_path: Path) -> None:
    model, optimizer = _trained()
    random.seed(3)
    np.random.seed(4)
    torch.manual_seed(5)
    state = {"step": 7, "epoch": 1, "sampler": {"position": 2}}
    save_checkpoint(tmp_path / "last", model, state, optimizer, model.carry_state())
    expected = (random.random(), float(np.random.rand()), torch.rand(1))

    loaded = load_checkpoint(tmp_path / "last")
    assert loaded.state["format_version"] == 1
    assert loaded.state["step"] == 7 and loaded.state["sampler"] == {"position": 2}
    fresh, fresh_opt = _trained(seed=1)
    loaded.load_model(fresh)
    loaded.load_optimizer(fresh_opt)
    for a, b in zip(model.state_dict().values(), fresh.state_dict().values()):
        assert torch.equal(a, b)
    assert torch.equal(loaded.carry["carry"], model.carry)
    original = optimizer.state_dict()
    restored = fresh_opt.state_dict()
    assert original["param_groups"] == restored["param_groups"]
    for index, entry in original["state"].items():
        for name, value in entry.items():
            assert torch.equal(value, restored["state"][index][name])
    restore_rng(loaded.rng_json, loaded.rng_tensors)
    assert (random.random(), float(np.random.rand())) == expected[:2]
    assert torch.equal(torch.rand(1), expected[2])


def test_tied_weights_stored_once_and_stay_tied(tmp_path: Path) -> None:
    model, _ = _trained()
    path = tmp_path / "model.safetensors"
    save_model_weights(path, model)
    state = read_state_dict(path)
    assert set(state) == set(model.state_dict())
    fresh = ToyModel()
    load_model_weights(path, fresh)
    assert fresh.out.weight is fresh.embed.weight
    assert torch.equal(fresh.out.weight, model.embed.weight)
    assert not list(tmp_path.glob(".tmp-*"))


class _Exploit:
    """Unpickling this would create the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("writer", ["torch.save", "pickle", "garbage", "empty"])
def test_non_safetensors_refused_without_running_code(tmp_path: Path, writer: str) -> None:
    marker = tmp_path / "pwned"
    model, optimizer = _trained()
    save_checkpoint(tmp_path / "last", model, {"step": 1}, optimizer)
    victims = [tmp_path / "last" / "model.safetensors", tmp_path / "weights.safetensors"]
    for victim in victims:
        if writer == "torch.save":
            torch.save({"x": _Exploit(marker)}, victim)
        elif writer == "pickle":
            victim.write_bytes(pickle.dumps(_Exploit(marker)))
        elif writer == "garbage":
            victim.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!" + os.urandom(64))
        else:
            victim.write_bytes(b"")
    with pytest.raises(IntegrityError, match="model.safetensors"):  # the manifest notices first
        load_checkpoint(tmp_path / "last")
    with pytest.raises(CheckpointError, match="not a safetensors file.*never unpickles"):
        load_checkpoint(tmp_path / "last", verify=False)
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load_model_weights(victims[1], ToyModel())
    assert not marker.exists()


@pytest.mark.parametrize("version", [None, 2, "1"])
def test_format_version_checked(tmp_path: Path, version) -> None:
    model, _ = _trained()
    save_checkpoint(tmp_path / "last", model, {"step": 1})
    state_path = tmp_path / "last" / "state.json"
    data = json.loads(state_path.read_text())
    if version is None:
        del data["format_version"]
    else:
        data["format_version"] = version
    state_path.write_text(json.dumps(data))
    with pytest.raises(IntegrityError, match="state.json"):  # the manifest notices first
        load_checkpoint(tmp_path / "last")
    with pytest.raises(CheckpointError, match="format_version 1"):
        load_checkpoint(tmp_path / "last", verify=False)


def test_save_replaces_previous_and_removes_it(tmp_path: Path) -> None:
    model, optimizer = _trained()
    first = save_checkpoint(tmp_path / "last", model, {"step": 1}, optimizer)
    assert (tmp_path / "last").is_symlink()
    second = save_checkpoint(tmp_path / "last", model, {"step": 2}, optimizer)
    assert not first.exists() and second.exists()
    assert load_checkpoint(tmp_path / "last").state["step"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["last", second.name])


@pytest.mark.parametrize("crash_in", ["_write_json", "_switch_link"])
def test_crash_during_save_keeps_previous_and_next_save_cleans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crash_in: str
) -> None:
    model, optimizer = _trained()
    save_checkpoint(tmp_path / "last", model, {"step": 1}, optimizer)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("simulated crash")

    with monkeypatch.context() as patch:
        patch.setattr(ckpt_mod, crash_in, crash)
        with pytest.raises(KeyboardInterrupt):
            save_checkpoint(tmp_path / "last", model, {"step": 2}, optimizer)
    leftovers = [p for p in tmp_path.iterdir() if p.name != "last"]
    assert len(leftovers) == 2  # the previous folder and the crashed save's folder
    assert load_checkpoint(tmp_path / "last").state["step"] == 1

    final = save_checkpoint(tmp_path / "last", model, {"step": 3}, optimizer)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["last", final.name])
    assert load_checkpoint(tmp_path / "last").state["step"] == 3


def test_crash_while_writing_model_weights_keeps_old_file(tmp_path: Path, monkeypatch) -> None:
    model, _ = _trained()
    path = tmp_path / "model.safetensors"
    save_model_weights(path, model)
    before = path.read_bytes()
    other, _ = _trained(seed=2)
    from seqlab.rundir import safetensors_io

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("simulated crash")

    monkeypatch.setattr(safetensors_io, "fsync_path", crash)
    with pytest.raises(KeyboardInterrupt):
        save_model_weights(path, other)
    assert path.read_bytes() == before
    monkeypatch.undo()
    save_model_weights(path, other)
    assert not list(tmp_path.glob(".tmp-*"))


def test_missing_checkpoint_and_real_folder_link(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "last")
    model, _ = _trained()
    (tmp_path / "last").mkdir()  # e.g. a run dir copied with cp -rL
    save_checkpoint(tmp_path / "last", model, {"step": 4})
    assert load_checkpoint(tmp_path / "last").state["step"] == 4


def test_a_header_length_starting_with_byte_0x80_is_not_taken_for_a_pickle(tmp_path):
    """A safetensors header of 0x0980 bytes starts the file with 0x80, like a pickle's PROTO opcode."""
    from safetensors.torch import save_file

    from seqlab.rundir.safetensors_io import check_safetensors_header, read_tensors

    path = tmp_path / "w.safetensors"
    for padding in range(0, 3000, 7):
        save_file({"w": torch.zeros(2)}, str(path), metadata={"pad": "x" * padding})
        if path.read_bytes()[:1] == b"\x80":
            break
    assert path.read_bytes()[:1] == b"\x80"
    check_safetensors_header(path)
    assert read_tensors(path)["w"].shape == (2,)


# ---------------------------------------------------------------------------------------------
# Manifests, missing files, wrong shapes and dtypes (issue 14, items 3 and 4)
# ---------------------------------------------------------------------------------------------


def test_checkpoint_has_a_manifest_of_every_file_written_last(tmp_path: Path) -> None:
    from seqlab.rundir.manifest import MANIFEST_FILE, file_sha256, read_manifest

    model, optimizer = _trained()
    folder = save_checkpoint(tmp_path / "last", model, {"step": 1}, optimizer, model.carry_state())
    listed = read_manifest(folder)
    files = sorted(p.name for p in folder.iterdir() if p.name != MANIFEST_FILE)
    assert (
        sorted(listed)
        == files
        == ["model.safetensors", "optimizer.safetensors", "rng.safetensors", "state.json"]
    )
    assert all(listed[name] == [file_sha256(folder / name)] for name in files)


def test_flipped_byte_in_checkpoint_weights_is_refused(tmp_path: Path) -> None:
    model, optimizer = _trained()
    save_checkpoint(tmp_path / "last", model, {"step": 1}, optimizer)
    weights = tmp_path / "last" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0x40  # inside the last tensor: still a valid safetensors file
    weights.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=r"last/model.safetensors.*sha256"):
        load_checkpoint(tmp_path / "last")
    assert load_checkpoint(tmp_path / "last", verify=False).state["step"] == 1


def test_missing_optimizer_file_is_refused_not_reset(tmp_path: Path) -> None:
    model, optimizer = _trained()
    save_checkpoint(tmp_path / "last", model, {"step": 1}, optimizer)
    (tmp_path / "last" / "optimizer.safetensors").unlink()
    with pytest.raises(CheckpointError, match="optimizer.safetensors.*missing"):
        load_checkpoint(tmp_path / "last")
    with pytest.raises(CheckpointError, match="optimizer.safetensors.*missing"):
        load_checkpoint(tmp_path / "last", verify=False)


def test_wrong_shape_optimizer_tensor_is_named_with_both_shapes(tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    model, optimizer = _trained()
    save_checkpoint(tmp_path / "last", model, {"step": 1}, optimizer)
    path = tmp_path / "last" / "optimizer.safetensors"
    tensors = load_file(str(path))
    name = next(k for k in sorted(tensors) if k.endswith(".exp_avg"))
    tensors[name] = torch.zeros(3, 5)
    save_file(tensors, str(path))
    loaded = load_checkpoint(tmp_path / "last", verify=False)
    with pytest.raises(CheckpointError) as info:
        loaded.load_optimizer(_trained(seed=1)[1])
    message = str(info.value)
    assert "optimizer.safetensors" in message and name in message and "(3, 5)" in message


@pytest.mark.parametrize("dtype", [torch.float64, torch.int64])
def test_weights_of_another_dtype_are_refused_by_tensor_name(tmp_path: Path, dtype) -> None:
    from safetensors.torch import save_file

    model, _ = _trained()
    tensors = {k: v.clone() for k, v in model.state_dict().items() if k != "out.weight"}  # tied
    tensors["hidden.weight"] = tensors["hidden.weight"].to(dtype)
    path = tmp_path / "model.safetensors"
    save_file(tensors, str(path), metadata={"seqlab.aliases": json.dumps({"out.weight": "embed.weight"})})
    with pytest.raises(CheckpointError, match=rf"hidden.weight.*{str(dtype).replace('torch.', '')}.*float32"):
        load_model_weights(path, ToyModel())


def test_save_model_weights_updates_the_run_manifest(tmp_path: Path) -> None:
    from seqlab.rundir.manifest import file_sha256, read_manifest, verify_manifest, write_manifest

    model, _ = _trained()
    path = tmp_path / "model.safetensors"
    save_model_weights(path, model)
    write_manifest(tmp_path, ["model.safetensors"])
    save_model_weights(path, _trained(seed=3)[0])
    assert read_manifest(tmp_path)["model.safetensors"] == [file_sha256(path)]
    assert verify_manifest(tmp_path)
