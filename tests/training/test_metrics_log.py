"""metrics.jsonl is strict JSON, truncates on resume, and feeds TensorBoard when asked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seqlab.training.metrics_log import MetricsLog


def test_records_are_strict_json_lines(tmp_path: Path) -> None:
    log = MetricsLog(tmp_path)
    log.log({"split": "train", "step": 1, "loss": float("nan"), "lr": 0.1})
    log.log({"split": "valid", "step": 1, "ppl": float("inf"), "best": True})
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    records = [json.loads(line, parse_constant=pytest.fail) for line in lines]
    assert records[0] == {"split": "train", "step": 1, "loss": None, "lr": 0.1}
    assert records[1]["ppl"] is None and log.lines == 2


def test_truncate_and_reopen_counts_lines(tmp_path: Path) -> None:
    log = MetricsLog(tmp_path)
    for step in range(5):
        log.log({"split": "train", "step": step})
    reopened = MetricsLog(tmp_path)
    assert reopened.lines == 5
    reopened.truncate(3)
    steps = [json.loads(line)["step"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert steps == [0, 1, 2] and reopened.lines == 3


def test_disabled_writes_nothing(tmp_path: Path) -> None:
    log = MetricsLog(tmp_path / "run", enabled=False)
    log.log({"split": "train", "step": 1})
    assert not (tmp_path / "run").exists()


def test_tensorboard_writer(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    log = MetricsLog(tmp_path, tensorboard=True)
    log.log({"split": "valid", "step": 3, "loss": 1.5, "best": True})
    log.close()
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
