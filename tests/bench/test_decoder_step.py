"""bench/decoder_step.py runs at tiny shapes, its two rows agree, and it writes its JSON."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "decoder_step.py"


def test_tiny_run_prints_both_rows_and_agreeing_outputs(tmp_path):
    out = tmp_path / "step.json"
    args = ["--threads", "1", "--batch", "3", "--steps", "4", "--embedding", "5", "--hidden", "6"]
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--repeats", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "nn.LSTM per step" in result.stdout and "LSTMSteps, per-step dW" in result.stdout
    payload = json.loads(out.read_text(encoding="utf-8"))
    assert set(payload["median_ms"]) == {"nn.LSTM per step", "LSTMSteps, per-step dW", "LSTMSteps"}
    assert payload["max_diff"] < 1e-5
    assert payload["max_grad_diff"] < 1e-4
