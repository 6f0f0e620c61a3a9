"""bench/speed_changes.py: one short run prints every change, and each equals its baseline's numbers."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "speed_changes.py"


def test_short_run_prints_every_change_and_each_matches_its_baseline(tmp_path):
    out = tmp_path / "changes.json"
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--threads",
            "1",
            "--repeats",
            "1",
            "--batches",
            "1",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    payload = json.loads(out.read_text(encoding="utf-8"))
    assert len(payload["results"]) >= 4  # 5 once bench/peers has trained its seqlab model
    for name, row in payload["results"].items():
        assert name.split(" (")[0] in result.stdout
        assert row["baseline"] > 0 and row["changed"] > 0
    tolerance = {"stacked": 1e-4, "fused": 1e-5, "token-gate": 1e-4, "greedy": 1e-3}
    for name, row in payload["results"].items():
        assert row["max_diff"] < tolerance[name.split()[0]], (name, row["max_diff"])
