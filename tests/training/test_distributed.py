"""Distributed helpers: single-process no-op, LossModule, and a two-process gloo DDP step."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from training_toys import FixedLoader, ToyModel, ToyValid, ddp_config, global_batch

from seqlab.training.distributed import DistInfo, LossModule, all_reduce_sums, init_distributed
from seqlab.training.trainer import Trainer

HERE = Path(__file__).parent
REPO = HERE.parent.parent


def test_not_launched_by_torchrun_is_single_process(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    info = init_distributed()
    assert info == DistInfo(rank=0, world_size=1, local_rank=0) and info.is_main
    assert all_reduce_sums({"a": 1.5}, info) == {"a": 1.5}


def test_loss_module_forwards_to_model_loss() -> None:
    model = ToyModel()
    batch = global_batch()
    loss, stats = LossModule(model).eval()(batch)
    expected, _ = model.loss(batch)
    assert torch.equal(loss, expected) and stats["tokens"] == 8.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_gloo_ranks_equal_one_process_on_the_global_batch(tmp_path: Path) -> None:
    port = _free_port()
    procs = []
    for rank in range(2):
        env = dict(
            os.environ,
            MASTER_ADDR="127.0.0.1",
            MASTER_PORT=str(port),
            RANK=str(rank),
            LOCAL_RANK=str(rank),
            WORLD_SIZE="2",
            OMP_NUM_THREADS="1",
            PYTHONPATH=os.pathsep.join([str(REPO), str(HERE), os.environ.get("PYTHONPATH", "")]),
        )
        cmd = [sys.executable, str(HERE / "ddp_worker.py"), str(tmp_path / "run"), str(tmp_path)]
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    for proc in procs:
        output, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, output.decode(errors="replace")

    torch.manual_seed(0)
    model = ToyModel(dropout=0.0, carry=False)
    result = Trainer(
        model, ddp_config(), FixedLoader([global_batch()]), ToyValid(), tmp_path / "single"
    ).fit()
    for rank in range(2):
        params = load_file(str(tmp_path / f"rank{rank}.safetensors"))
        for name, param in model.named_parameters():
            torch.testing.assert_close(params[name], param.detach(), atol=1e-6, rtol=0)
        valid = json.loads((tmp_path / f"rank{rank}.json").read_text())
        assert valid["loss"] == pytest.approx(result["valid"]["loss"], abs=1e-6)  # summed across ranks
    assert (tmp_path / "run" / "last").is_symlink()  # rank 0 wrote the run directory
