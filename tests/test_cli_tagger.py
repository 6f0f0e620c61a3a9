"""End to end through the real CLI: a tiny BIO tagger (with character features) trained in a temp
dir, then evaluate (token accuracy, span F1, confusion PNG), predict, encode and similar."""

import json
from pathlib import Path

import numpy as np
import pytest
from cli_runner import run_cli

from seqlab.cli import main

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "configs" / "tiny_tagger.yaml"
TRAIN = REPO / "tests" / "fixtures" / "tiny_tag_train.txt"


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("tag") / "tiny"
    run_cli("train", str(TINY), "--run-dir", str(run_dir))
    return run_dir


@pytest.fixture(scope="module")
def sentences(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("texts") / "sentences.txt"
    lines = [" ".join(t.rsplit("/", 1)[0] for t in line.split()) for line in TRAIN.read_text().splitlines()]
    path.write_text("\n".join(lines[:12]) + "\n", encoding="utf-8")
    return path


def test_train_saves_tags_and_characters(run):
    labels = json.loads((run / "labels.json").read_text())["labels"]
    assert labels == ["B-LOC", "B-ORG", "B-PER", "I-LOC", "I-ORG", "I-PER", "O"]
    assert (run / "chars.json").is_file() and (run / "model.safetensors").is_file()


def test_evaluate_prints_token_accuracy_span_f1_and_writes_png(run, tmp_path, capsys):
    plot = tmp_path / "tags.png"
    assert main(["evaluate", str(run), "--data", str(TRAIN), "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "tokens" in out.splitlines()[0]
    figures = dict(zip(out.splitlines()[1].split()[::2], map(float, out.splitlines()[1].split()[1::2])))
    assert figures["token-accuracy"] >= 0.98 and figures["span-f1"] >= 0.95  # overfits its training set
    assert "macro-f1" in figures
    assert any(line.startswith("B-PER") for line in out.splitlines())
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_predict_tags_every_word(run, sentences, tmp_path, capsys):
    assert main(["predict", str(run), "Maria flew to Oslo on monday ."]) == 0
    pairs = [token.rsplit("/", 1) for token in capsys.readouterr().out.split()]
    assert [w for w, _ in pairs] == "Maria flew to Oslo on monday .".split()
    assert pairs[0][1] == "B-PER" and pairs[3][1] == "B-LOC" and pairs[1][1] == "O"
    output = tmp_path / "tags.jsonl"
    assert main(["predict", str(run), "--input", str(sentences), "--output", str(output)]) == 0
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert len(records) == 12 and all(len(r["tags"]) == len(r["text"].split()) for r in records)


def test_explain_is_for_classifiers(run, capsys):
    assert main(["predict", str(run), "Anna flew to Rome .", "--explain"]) == 2
    assert "attention" in capsys.readouterr().err


def test_encode_and_similar(run, sentences, tmp_path, capsys):
    out = tmp_path / "v.npy"
    assert main(["encode", str(run), str(sentences), "-o", str(out)]) == 0
    assert np.load(out).shape == (12, 32)
    query = sentences.read_text().splitlines()[5]
    capsys.readouterr()
    assert main(["similar", str(run), query, "--in", str(sentences), "--top-k", "3", "--pool", "last"]) == 0
    rows = [line.split(None, 2) for line in capsys.readouterr().out.strip().splitlines()]
    assert len(rows) == 3 and rows[0][2] == query
