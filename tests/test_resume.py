"""Exact resume: a real SIGKILL of a training subprocess, then --resume, gives final weights bitwise
equal to an uninterrupted run (CPU, one thread, as configs/tiny_lm.yaml fixes)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

REPO = Path(__file__).resolve().parents[1]
TINY = str(REPO / "configs" / "tiny_lm.yaml")
STEPS = "training.max_steps=160"


def train_cmd(run_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "seqlab", "train", TINY, "--run-dir", str(run_dir), "--set", STEPS, *extra]


def env() -> dict[str, str]:
    return dict(os.environ, OMP_NUM_THREADS="1")


def last_logged_step(run_dir: Path) -> int:
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return 0
    steps = [json.loads(line)["step"] for line in path.read_text().splitlines() if line.strip().endswith("}")]
    return max(steps, default=0)


def kill_after(run_dir: Path, step: int, timeout: float = 120.0, resume: bool = False) -> None:
    proc = subprocess.Popen(
        train_cmd(run_dir, *(["--resume"] if resume else [])),
        cwd=REPO,
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + timeout
    while last_logged_step(run_dir) < step:
        assert proc.poll() is None, "training ended before it could be killed"
        assert time.time() < deadline, "training made no progress"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(str(run_dir / "last" / "model.safetensors"))


def test_sigkill_then_resume_equals_uninterrupted(tmp_path):
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    subprocess.run(train_cmd(whole), cwd=REPO, env=env(), check=True, capture_output=True)

    kill_after(broken, 45)  # first log past 45 is step 60: killed around its validation and save
    kill_after(broken, 85, resume=True)  # and once more after resuming (around step 100)
    done = subprocess.run(train_cmd(broken, "--resume"), cwd=REPO, env=env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

    expected, got = weights(whole), weights(broken)
    assert expected.keys() == got.keys()
    for name in expected:
        assert torch.equal(expected[name], got[name]), name


def test_resume_may_raise_the_budget_and_nothing_else(tmp_path):
    run_dir = tmp_path / "run"
    short = [sys.executable, "-m", "seqlab", "train", TINY, "--run-dir", str(run_dir)]
    short += ["--set", "training.max_steps=20", "--set", "training.validate_every=10"]
    subprocess.run(short, cwd=REPO, env=env(), capture_output=True, text=True, check=True)
    assert last_logged_step(run_dir) == 20
    longer = [
        *short[:-4],
        "--set",
        "training.max_steps=40",
        "--set",
        "training.validate_every=10",
        "--resume",
    ]
    result = subprocess.run(longer, cwd=REPO, env=env(), capture_output=True, text=True, check=True)
    assert "training.max_steps 20 -> 40" in result.stderr + result.stdout
    assert last_logged_step(run_dir) == 40
    assert "max_steps: 40" in (run_dir / "config.yaml").read_text()
    other = [*longer[:-1], "--set", "training.optimizer.lr=0.5", "--resume"]
    refused = subprocess.run(other, cwd=REPO, env=env(), capture_output=True, text=True)
    assert refused.returncode != 0
    assert "training.optimizer.lr: run has 0.01, now 0.5" in refused.stderr


# ---------------------------------------------------------------------------------------------
# Every file a resume needs is checked before training starts (issue 14, items 3 and 4)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def short_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("resume") / "run"
    cmd = train_cmd(run_dir)[:-2] + ["--set", "training.max_steps=20"]
    subprocess.run(cmd, cwd=REPO, env=env(), check=True, capture_output=True)
    return run_dir


def _resume(run: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = train_cmd(run)[:-2] + ["--set", "training.max_steps=40", "--resume", *extra]
    return subprocess.run(cmd, cwd=REPO, env=env(), capture_output=True, text=True, timeout=300)


def _copy(run: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(run, target, symlinks=True)
    return target


def _refused(result: subprocess.CompletedProcess, *names: str) -> str:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert all(name in lines[0] for name in names), lines[0]
    assert "done:" not in result.stdout  # refused before training started
    return lines[0]


def test_resume_without_optimizer_state_is_refused(short_run, tmp_path):
    run = _copy(short_run, tmp_path)
    (run / "last" / "optimizer.safetensors").unlink()
    _refused(_resume(run), "optimizer.safetensors", "missing")
    _refused(_resume(run, "--no-verify"), "optimizer.safetensors", "missing")
    assert last_logged_step(run) == 20


def test_resume_with_a_key_missing_from_state_json_names_file_and_key(short_run, tmp_path):
    run = _copy(short_run, tmp_path)
    state = run / "last" / "state.json"
    data = json.loads(state.read_text())
    del data["schedule"]
    state.write_text(json.dumps(data))
    _refused(_resume(run), "state.json", "sha256")  # the manifest notices first
    _refused(_resume(run, "--no-verify"), "state.json", "schedule")


def test_resume_with_a_wrong_shape_optimizer_tensor_names_it(short_run, tmp_path):
    from safetensors.torch import save_file

    run = _copy(short_run, tmp_path)
    path = run / "last" / "optimizer.safetensors"
    tensors = load_file(str(path))
    name = sorted(tensors)[1]
    tensors[name] = torch.zeros(2, 3)
    save_file(tensors, str(path))
    line = _refused(_resume(run, "--no-verify"), "optimizer.safetensors", name, "(2, 3)")
    assert "learning rate" not in line


def test_resume_refuses_a_flipped_byte_in_last(short_run, tmp_path):
    run = _copy(short_run, tmp_path)
    weights = run / "last" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-5] ^= 0x01
    weights.write_bytes(bytes(data))
    _refused(_resume(run), "model.safetensors", "sha256", "--no-verify")
    assert _resume(run, "--no-verify").returncode == 0
