"""End to end through the real CLI: a tiny classifier trained in a temp dir, then evaluate, predict
(one text, a file in batches, --explain), encode and similar; encode from a language model; exact
resume of a classifier run."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_runner import run_cli
from safetensors.torch import load_file

from seqlab.cli import main

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "configs" / "tiny_classifier.yaml"
TRAIN = REPO / "tests" / "fixtures" / "tiny_cls_train.tsv"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("cls") / "tiny"
    run_cli("train", str(TINY), "--run-dir", str(run_dir))
    return run_dir


@pytest.fixture(scope="module")
def texts(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("texts") / "texts.txt"
    lines = [line.split("\t")[0] for line in TRAIN.read_text(encoding="utf-8").splitlines()[:20]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_train_writes_labels_vocab_and_tokenizer(run):
    for name in (
        "config.yaml",
        "vocab.json",
        "labels.json",
        "tokenizer",
        "model.safetensors",
        "last",
        "best",
    ):
        assert (run / name).exists(), name
    assert json.loads((run / "labels.json").read_text())["labels"] == ["food", "sport", "weather"]


def test_evaluate_prints_metrics_table_and_writes_confusion_png(run, tmp_path, capsys):
    assert main(["evaluate", str(run)]) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and "macro-f1" in out
    assert "precision  recall      f1  support" in out
    for label in ("food", "sport", "weather"):
        assert any(line.startswith(label) for line in out.splitlines()), label
    assert (run / "confusion.png").read_bytes()[:8] == PNG_MAGIC
    plot = tmp_path / "train_confusion.png"
    assert main(["evaluate", str(run), "--data", str(TRAIN), "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert plot.read_bytes()[:8] == PNG_MAGIC
    accuracy = float(out.split("accuracy ")[1].split()[0])
    assert accuracy >= 0.95  # the tiny model overfits its tiny training set


def test_predict_one_text_prints_probabilities(run, capsys):
    assert main(["predict", str(run), "the soup was hot and full of fresh herbs"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.strip().splitlines()]
    probs = [float(r[0]) for r in rows]
    assert [r[1] for r in rows][0] == "food"
    assert sorted(r[1] for r in rows) == ["food", "sport", "weather"]
    assert probs == sorted(probs, reverse=True) and abs(sum(probs) - 1) < 1e-3


def test_predict_file_in_batches_matches_one_by_one(run, texts, tmp_path, capsys):
    import seqlab

    output = tmp_path / "out.jsonl"
    args = ["predict", str(run), "--input", str(texts), "--output", str(output), "--batch-size", "7"]
    assert main(args) == 0
    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    lines = texts.read_text(encoding="utf-8").splitlines()
    assert [r["text"] for r in records] == lines
    predictor = seqlab.load(run)
    for record in records[:5]:
        alone = predictor.predict(record["text"])
        assert record["label"] == alone.label
        for label, prob in alone.probabilities.items():
            assert abs(record["probabilities"][label] - prob) < 1e-5  # padding never changes a prediction


def test_explain_shows_attention_weights_summing_to_one(run, capsys):
    text = "strong winds knocked down a few trees"
    assert main(["predict", str(run), text, "--explain"]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in out[out.index("attention:") + 1 :]]
    assert [r[1] for r in rows] == text.split()
    assert abs(sum(float(r[0]) for r in rows) - 1) < 1e-3


def test_encode_and_similar(run, texts, tmp_path, capsys):
    vectors_path = tmp_path / "vectors.npy"
    assert main(["encode", str(run), str(texts), "-o", str(vectors_path), "--pool", "max"]) == 0
    vectors = np.load(vectors_path)
    assert vectors.shape == (20, 32) and vectors.dtype == np.float32  # 2 directions x hidden 16
    lines = texts.read_text(encoding="utf-8").splitlines()
    query = lines[3]
    capsys.readouterr()
    assert main(["similar", str(run), query, "--in", str(texts), "--top-k", "4"]) == 0
    rows = [line.split(None, 2) for line in capsys.readouterr().out.strip().splitlines()]
    assert len(rows) == 4
    assert rows[0][2] == query and abs(float(rows[0][0]) - 1) < 1e-4  # the query itself comes first
    scores = [float(r[0]) for r in rows]
    assert scores == sorted(scores, reverse=True)


def test_predict_refuses_a_language_model_and_bad_arguments(run, capsys):
    assert main(["predict", str(run)]) == 2
    assert "TEXT or --input" in capsys.readouterr().err


def test_encode_from_a_language_model(tmp_path, texts, capsys):
    lm = tmp_path / "lm"
    common = ["--set", f"data.train={REPO}/tests/fixtures/tiny_train.txt"]
    common += ["--set", f"data.valid={REPO}/tests/fixtures/tiny_valid.txt", "--set", "training.max_steps=10"]
    assert main(["train", str(REPO / "configs" / "tiny_lm.yaml"), "--run-dir", str(lm), *common]) == 0
    out = tmp_path / "lm.npy"
    assert main(["encode", str(lm), str(texts), "-o", str(out), "--pool", "last"]) == 0
    vectors = np.load(out)
    assert vectors.shape == (20, 32)  # hidden_size of tiny_lm
    assert main(["predict", str(lm), "the cat"]) == 2
    assert "generate" in capsys.readouterr().err


def test_stop_then_resume_equals_uninterrupted(tmp_path, monkeypatch):
    """Stopped mid-epoch at step 6 and resumed to 13: bitwise the weights of a run straight to 13."""
    from seqlab.config import load_config
    from seqlab.training.pipeline import train

    monkeypatch.chdir(REPO)
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    full = load_config(TINY, ["training.max_steps=13"])
    train(full, whole)
    train(load_config(TINY, ["training.max_steps=6"]), broken)
    train(full, broken, resume=True)  # a new budget (max_steps 6 -> 13), as if it had crashed
    one, two = (
        load_file(str(whole / "last" / "model.safetensors")),
        load_file(str(broken / "last" / "model.safetensors")),
    )
    assert one.keys() == two.keys()
    for name in one:
        assert torch.equal(one[name], two[name]), name


def test_pretrained_vectors_class_weights_and_mean_pooling(tmp_path, caplog, capsys):
    import logging

    vectors = tmp_path / "vectors.txt"
    rows = [f"{word} " + " ".join(["0.5"] * 16) for word in ("soup", "rain", "goal", "Cake")]
    vectors.write_text("4 16\n" + "\n".join(rows) + "\n", encoding="utf-8")
    run = tmp_path / "run"
    sets = [
        f"data.train={TRAIN}",
        f"data.valid={REPO}/tests/fixtures/tiny_cls_valid.tsv",
        f"model.pretrained_vectors={vectors}",
        "model.freeze_vectors=true",
        "model.pooling=mean",
        "training.class_weights=balanced",
        "training.max_steps=3",
    ]
    args = ["train", str(TINY), "--run-dir", str(run)]
    for item in sets:
        args += ["--set", item]
    with caplog.at_level(logging.INFO):
        assert main(args) == 0
    log = caplog.text
    assert "3 of" in log and "coverage" in log and "frozen" in log  # soup, rain, goal; "Cake" is not "cake"
    assert "class weights: food=" in log
    capsys.readouterr()
    assert main(["predict", str(run), "the soup", "--explain"]) == 2
    assert "attention pooling" in capsys.readouterr().err
