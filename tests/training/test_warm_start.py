"""model.init_from: weights copied by meaning (embedding rows by token, the output layer only with
the same labels, other tensors by name and shape), and every skip reported."""

import dataclasses
from pathlib import Path

import pytest
import torch

from seqlab.api import load
from seqlab.cli import main
from seqlab.config import load_config
from seqlab.errors import CheckpointError
from seqlab.models.factory import build_model
from seqlab.training.warm_start import warm_start

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "configs" / "tiny_classifier.yaml"


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("warm") / "source"
    code = main(["train", str(TINY), "--run-dir", str(run_dir), "--set", "training.max_epochs=2"])
    assert code == 0
    return run_dir


def fresh_model(source: Path, tokens: list[str], labels: int, **model_changes):
    cfg = load_config(source / "config.yaml")
    cfg = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, **model_changes))
    torch.manual_seed(123)
    return build_model(cfg, len(tokens), labels)


def test_embedding_rows_follow_the_tokens_not_the_ids(source):
    trained = load(source)
    source_tokens = list(trained.pipeline.vocab.itos)
    # another vocabulary: the specials, a few known words in reverse order, and new words
    known = source_tokens[-6:][::-1]
    tokens = ["<pad>", "<unk>", "<bos>", "<eos>", "qqqnew", *known, "zzznew"]
    model = fresh_model(source, tokens, len(trained.labels))
    before = model.embedding.weight.detach().clone()
    report = warm_start(model, source, tokens, trained.labels)
    source_weight = trained.model.embedding.weight.detach()
    weight = model.embedding.weight.detach()
    for row, token in enumerate(tokens):
        if token in source_tokens:
            torch.testing.assert_close(weight[row], source_weight[source_tokens.index(token)])
        else:
            torch.testing.assert_close(weight[row], before[row])
    assert report.rows_found == len(tokens) - 2
    assert report.rows_total == len(tokens)
    # same labels and shapes: the LSTM, the attention pooling and the output layer are copied too
    for name, value in trained.model.state_dict().items():
        if name != "embedding.weight":
            torch.testing.assert_close(model.state_dict()[name], value, msg=name)
    assert report.skipped == []


def test_output_layer_is_kept_when_the_labels_differ(source):
    trained = load(source)
    tokens = list(trained.pipeline.vocab.itos)
    labels = [*trained.labels[::-1]]  # same count, other order: rows would mean other classes
    model = fresh_model(source, tokens, len(labels))
    before = model.output.weight.detach().clone()
    report = warm_start(model, source, tokens, labels)
    torch.testing.assert_close(model.output.weight.detach(), before)
    assert "output.weight: the label sets differ" in report.skipped
    torch.testing.assert_close(
        model.recurrent.weight_ih_l0.detach(), trained.model.recurrent.weight_ih_l0.detach()
    )
    assert "init_from" in report.summary() and "skipped 2" in report.summary()


def test_other_shapes_are_skipped_and_named(source):
    trained = load(source)
    tokens = list(trained.pipeline.vocab.itos)
    hidden = trained.config.model.hidden_size * 2
    model = fresh_model(source, tokens, len(trained.labels), hidden_size=hidden)
    before = model.recurrent.weight_hh_l0.detach().clone()
    report = warm_start(model, source, tokens, trained.labels)
    torch.testing.assert_close(model.recurrent.weight_hh_l0.detach(), before)
    assert any(line.startswith("recurrent.weight_hh_l0: shape") for line in report.skipped)
    assert "embedding.weight" in report.copied  # the embedding width did not change


def test_a_directory_that_is_not_a_run_fails_clearly(source, tmp_path):
    trained = load(source)
    tokens = list(trained.pipeline.vocab.itos)
    model = fresh_model(source, tokens, len(trained.labels))
    with pytest.raises(CheckpointError, match="not a seqlab run directory"):
        warm_start(model, tmp_path, tokens, trained.labels)


def test_a_classifier_starts_from_a_language_models_embedding_and_forward_lstm(tmp_path):
    lm_dir = tmp_path / "lm"
    code = main(
        ["train", str(REPO / "configs" / "tiny_lm.yaml"), "--run-dir", str(lm_dir)]
        + ["--set", "training.max_steps=4", "--set", "training.validate_every=4"]
    )
    assert code == 0
    lm = load(lm_dir)
    tokens = list(lm.vocab.itos)[:40]
    cfg = load_config(TINY)
    model_cfg = dataclasses.replace(cfg.model, embedding_size=16, hidden_size=32, num_layers=2)
    torch.manual_seed(0)
    model = build_model(dataclasses.replace(cfg, model=model_cfg), len(tokens), 2)
    report = warm_start(model, lm_dir, tokens, ["neg", "pos"])
    source = lm.model.state_dict()
    torch.testing.assert_close(model.embedding.weight.detach(), source["embedding.weight"][:40])
    for name in ("weight_ih_l0", "weight_hh_l0", "weight_hh_l1", "bias_hh_l1"):
        torch.testing.assert_close(getattr(model.recurrent, name).detach(), source[f"recurrent.0.{name}"])
    # layer 2 reads both directions here (64 wide), the LM's reads 32
    assert "recurrent.weight_ih_l1: shape (128, 32) vs (128, 64)" in report.skipped
    # the backward direction, the pooling and the output layer have nothing to come from
    assert any(line.startswith("recurrent.weight_ih_l0_reverse: not in") for line in report.skipped)
    assert any(line.startswith("output.weight: ") for line in report.skipped)
