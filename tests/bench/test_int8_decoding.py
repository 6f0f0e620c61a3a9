"""bench/int8_decoding.py on a tiny trained run: both rows, a part row, the unbatched check, its JSON."""

import json
import subprocess
import sys
from pathlib import Path

from seqlab.config import load_config
from seqlab.training.pipeline import train

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "bench" / "int8_decoding.py"


def test_tiny_run_prints_float32_int8_and_part_rows_and_writes_its_json(tmp_path):
    run = tmp_path / "run"
    cfg = load_config(
        REPO / "configs" / "tiny_seq2seq.yaml",
        [
            f"data.train={REPO / 'tests/fixtures/tiny_s2s_train.tsv'}",
            f"data.valid={REPO / 'tests/fixtures/tiny_s2s_valid.tsv'}",
            "training.max_steps=20",
            "training.metric=loss",
            "training.metric_mode=min",
        ],
    )
    train(cfg, run)
    out = tmp_path / "int8.json"
    args = ["--beams", "2", "1", "--repeats", "1", "--limit", "12", "--unbatched", "4", "--parts", "steps"]
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(run), *args, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=REPO,
    )
    assert "beam 2" in result.stdout and "greedy" in result.stdout and "load average" in result.stdout
    payload = json.loads(out.read_text(encoding="utf-8"))
    assert payload["sources"] == 12 and set(payload["beams"]) == {"2", "1"}
    for table in payload["beams"].values():
        assert set(table) == {"float32", "int8", "int8 steps only"}
        assert table["float32"]["ratio"] == 1.0 and table["float32"]["wer_delta"] == 0.0
        assert table["int8"]["unbatched_equal"] == "4/4"
        assert 0 <= table["int8"]["same_output_share"] <= 1
