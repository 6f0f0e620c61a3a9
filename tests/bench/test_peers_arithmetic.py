"""bench/peers/arithmetic.py: the FLOP count of the peers model and the ceiling it prints."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "peers" / "arithmetic.py"
sys.path.insert(0, str(SCRIPT.parent))
_module = sys.modules.get("arithmetic")
if _module is not None and Path(getattr(_module, "__file__", None) or "").parent != SCRIPT.parent:
    del sys.modules["arithmetic"]

import arithmetic  # noqa: E402


def test_forward_count_by_hand():
    # one decoder step reading a 3-token source, input feeding: layer 1 (256 + 512 + 512 inputs),
    # layer 2 (1,024), attention scores and context (2 x 512 x 3), tanh(W[h; c]), output layer
    step = 2048 * 1280 + 2048 * 1024 + 2 * 512 * 3 + 512 * 1024 + 512 * 2000
    source = 2 * 1024 * 512 + 2 * 1024 * 768 + 512 * 512
    assert arithmetic.forward_macs(3, 1, True) == step + 3 * source
    assert arithmetic.forward_macs(3, 1, True) - arithmetic.forward_macs(3, 1, False) == 2048 * 512
    assert arithmetic.forward_macs(3, 4, True) - arithmetic.forward_macs(3, 2, True) == 2 * step


def test_script_prints_the_ceiling_from_a_results_file(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for name, lines in {"train.en": ["a b c", "d e"], "train.ja": ["x y", "z"], "dev.en": ["a b"],
                        "dev.ja": ["x"]}.items():  # fmt: skip
        (data / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    medians = {
        "seqlab": {"train_tok_s": 1000.0, "beam5_sent_s": 50.0, "greedy_sent_s": 200.0},
        "seqlab-fused": {"train_tok_s": 1500.0},
        "opennmt": {"train_tok_s": 1100.0, "beam5_sent_s": 60.0, "greedy_sent_s": 220.0},
    }
    results = {
        "machine": {"threads": "1", "cpu": "test", "seqlab_commit": "abc"},
        "data": {"directory": str(data)},
        "seqlab_mean_batch_sentences": 4,
        "summary": {"medians": medians},
    }
    path = tmp_path / "peers.json"
    path.write_text(json.dumps(results), encoding="utf-8")
    out = tmp_path / "arith.json"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--results", str(path), "--mm-seconds", "0.01", "--out", str(out)],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert "largest possible ratio over OpenNMT-py" in run.stdout
    payload = json.loads(out.read_text(encoding="utf-8"))
    # 3 + 2 target tokens with </s>: (2 + 1) + (1 + 1)
    macs = arithmetic.forward_macs(3, 3, True) + arithmetic.forward_macs(2, 2, True)
    assert payload["flops_per_token"]["input_feeding"] == pytest.approx(6 * macs / 5)
    assert payload["flops_per_token"]["fused"] < payload["flops_per_token"]["input_feeding"]
    for name, row in payload["toolkits"].items():
        feeding = "fused" if name == "seqlab-fused" else "input_feeding"
        assert row["headroom"] == pytest.approx(
            payload["ceiling_tok_s"][feeding] / medians[name]["train_tok_s"]
        )
        assert row["fraction"] == pytest.approx(row["gflop_s"] / payload["peak"])
    assert (
        payload["decoding"]["beam5_sent_s"]["flops_per_sentence"]
        > payload["decoding"]["greedy_sent_s"]["flops_per_sentence"]
    )


def test_missing_results_file_is_a_clear_error(tmp_path):
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--results", str(tmp_path / "none.json")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2
    assert "none.json: no such file" in run.stderr
