"""bench/dialogue_decoding.py: each method's figures are the ones ``seqlab evaluate --dialogue`` gives
with the same decoding options; MMI and diverse beam change answers; valid_unseen is scored on its
own pairs."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
SCRIPT = REPO / "bench" / "dialogue_decoding.py"


def run(*args: str, root: Path, script: bool = False) -> str:
    env = dict(os.environ, OMP_NUM_THREADS="1", SEQLAB_DATA=str(root))
    command = [sys.executable, str(SCRIPT)] if script else [sys.executable, "-m", "seqlab"]
    result = subprocess.run(
        [*command, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@pytest.fixture(scope="module")
def trained(tmp_path_factory, dailydialog_zips) -> tuple[Path, Path, Path]:
    """A data root holding the tiny dialogue fixtures as the DailyDialog zips, a tiny chatbot and a
    tiny language model of its replies (``data.pair_side: target``)."""
    root = tmp_path_factory.mktemp("root")
    texts = [(FIXTURES / f"tiny_dialogues_{s}.txt").read_text(encoding="utf-8") for s in ("train", "valid")]
    dailydialog_zips(root, *texts)
    chatbot = root / "chatbot"
    run("train", "configs/tiny_dailydialog.yaml", "--run-dir", str(chatbot), root=root)
    replies = root / "replies"
    run(
        "train", "configs/tiny_lm.yaml", "--run-dir", str(replies),
        "--set", "data.train=null", "--set", "data.valid=null", "--set", "data.dataset=dailydialog",
        "--set", "data.pair_side=target", "--set", "data.lm_mode=lines", "--set", "training.max_steps=30",
        root=root,
    )  # fmt: skip
    return root, chatbot, replies


def figure(output: str, name: str) -> float:
    return float(re.search(rf"{name}\s+([\d.]+)", output).group(1))


def test_each_method_scores_what_evaluate_scores_with_the_same_options(trained, tmp_path):
    root, chatbot, replies = trained
    out = tmp_path / "decoding.json"
    run(
        str(chatbot), "--mmi-lm", str(replies), "--mmi-lambda", "2", "--methods", "beam", "block",
        "diverse", "mmi", "--out", str(out), "--samples", "3", root=root, script=True,
    )  # fmt: skip
    payload = json.loads(out.read_text(encoding="utf-8"))
    flags = {
        "beam": [],
        "block": ["--no-repeat-ngram", "3"],
        "diverse": ["--beam-size", "10", "--diverse-groups", "5", "--diversity-strength", "0.5"],
        "mmi": ["--beam-size", "10", "--mmi-lm", str(replies), "--mmi-lambda", "2", "--mmi-gamma", "5"],
    }
    for method, extra in flags.items():
        for split in ("valid", "valid_unseen") if method in ("beam", "mmi") else ("valid",):
            text = run(
                "evaluate", str(chatbot), "--dialogue", "--data", f"dailydialog:{split}", *extra, root=root
            )
            found = payload["methods"][method][split]
            assert figure(text, "BLEU-2") == pytest.approx(found["bleu2"], abs=0.01), (method, split, text)
            assert figure(text, "distinct-2") == pytest.approx(found["distinct2"], abs=0.01), (method, split)
            # a lowercasing model's outputs against lowercased references: only more matches
            assert found["bleu2_lc"] >= found["bleu2"] and found["length_ratio"] > 0
    assert payload["pairs"]["valid_unseen"] < payload["pairs"]["valid"]
    assert payload["perplexity"]["valid"]["ppl"] != payload["perplexity"]["valid_unseen"]["ppl"]
    assert len(payload["samples"]) == 3 and {"context", "reference", "mmi"} <= set(payload["samples"][0])


def test_mmi_needs_its_language_model(trained, tmp_path):
    root, chatbot, _ = trained
    env = dict(os.environ, OMP_NUM_THREADS="1", SEQLAB_DATA=str(root))
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(chatbot), "--methods", "mmi", "--out", str(tmp_path / "x.json")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 2 and "method mmi: needs --mmi-lm" in result.stderr
