"""Pretraining for Seq2Seq: word vectors per side, encoder and decoder started from language models
(the copied tensors equal the language model's, the others as initialised, every tensor logged)."""

import dataclasses
import logging
from pathlib import Path

import pytest
import torch

from seqlab.api import load
from seqlab.cli import main
from seqlab.config import load_config
from seqlab.errors import ConfigError
from seqlab.models.factory import build_model
from seqlab.training.seq2seq_pretrain import (
    _lm_layers,
    check_pretrain_sources,
    init_side_from_lm,
    pretrain_seq2seq,
)

REPO = Path(__file__).resolve().parents[2]
TINY_S2S = REPO / "configs" / "tiny_seq2seq.yaml"
SPECIALS = ["<pad>", "<unk>", "<bos>", "<eos>"]
# 32-wide LM, like the tiny Seq2Seq's embedding and a 32-wide decoder
LM_SETTINGS = ["model.embedding_size=32", "model.hidden_size=32", "model.num_layers=1", "model.dropout=0.0"]


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory) -> Path:
    """A tiny word LM on the Seq2Seq fixture's source side, trained for a few steps."""
    folder = tmp_path_factory.mktemp("lm")
    lines = [
        line.split("\t")[0] for line in (REPO / "tests/fixtures/tiny_s2s_train.tsv").read_text().splitlines()
    ]
    (folder / "train.txt").write_text("\n".join(lines[:300]) + "\n")
    (folder / "valid.txt").write_text("\n".join(lines[300:340]) + "\n")
    overrides = [f"data.train={folder / 'train.txt'}", f"data.valid={folder / 'valid.txt'}"]
    overrides += [*LM_SETTINGS, "training.max_steps=4", "training.validate_every=4"]
    code = main(
        ["train", str(REPO / "configs/tiny_lm.yaml"), "--run-dir", str(folder / "run")] + _sets(overrides)
    )
    assert code == 0
    return folder / "run"


def _sets(values: list[str]) -> list[str]:
    return [part for value in values for part in ("--set", value)]


def seq2seq_model(tokens: list[str], **changes):
    cfg = load_config(TINY_S2S)
    cfg = dataclasses.replace(
        cfg, model=dataclasses.replace(cfg.model, **{"decoder_hidden_size": 32, **changes})
    )
    torch.manual_seed(5)
    return cfg, build_model(cfg, len(tokens), target_vocab_size=len(tokens))


def test_encoder_and_decoder_take_the_language_models_weights(lm_run):
    lm = load(lm_run)
    lm_tokens, source = list(lm.vocab.itos), lm.model.state_dict()
    known = [t for t in lm_tokens[4:] if t.isalpha()][:4]
    tokens = [*SPECIALS, "newword", *known[::-1]]
    _, model = seq2seq_model(tokens)
    before = {name: value.clone() for name, value in model.state_dict().items()}
    encoder = init_side_from_lm(model, "encoder", lm_run, tokens)
    decoder = init_side_from_lm(model, "decoder", lm_run, tokens)
    after = model.state_dict()
    for name, embedding in (("encoder", model.source_embedding), ("decoder", model.target_embedding)):
        weight = embedding.weight.detach()
        for row, token in enumerate(tokens):
            if token in lm_tokens and token != "<pad>":
                torch.testing.assert_close(weight[row], source["embedding.weight"][lm_tokens.index(token)])
            else:  # the padding row and a word the LM never saw keep their initial values
                torch.testing.assert_close(weight[row], before[f"{name}.embedding.weight"][row])
    for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        lm_value = source[f"recurrent.0.{kind}_l0"]
        torch.testing.assert_close(after[f"encoder.rnn.{kind}_l0"], lm_value)
        torch.testing.assert_close(after[f"decoder.rnn.{kind}_l0"], lm_value)
        torch.testing.assert_close(
            after[f"encoder.rnn.{kind}_l0_reverse"], before[f"encoder.rnn.{kind}_l0_reverse"]
        )
    output = model.output.weight.detach()
    torch.testing.assert_close(output[4 + 1], source["decoder.weight"][lm_tokens.index(known[-1])])
    torch.testing.assert_close(output[4], before["output.weight"][4])  # "newword"
    copied = {"encoder.embedding.weight", "decoder.embedding.weight", "output.weight", "output.bias"}
    for name, value in after.items():  # attention, bridge, combine: as initialised
        if not name.startswith(
            ("encoder.", "decoder.rnn.", "decoder.embedding.", "source_", "target_", "output.")
        ):
            torch.testing.assert_close(value, before[name], msg=name)
    assert set(encoder.copied) | set(decoder.copied) >= copied
    assert (
        "encoder.rnn.weight_ih_l0_reverse: backward direction; a left-to-right language model has none"
        in (encoder.skipped)
    )
    assert encoder.rows_found == len(known) + 3 and encoder.rows_total == len(tokens)  # specials but <pad>
    assert decoder.summary().startswith(f"init_decoder_from {lm_run}: copied")


def test_shapes_that_differ_are_skipped_and_named(lm_run):
    tokens = [*SPECIALS, "a", "b"]
    _, model = seq2seq_model(tokens, decoder_hidden_size=48, num_layers=2, attention="bahdanau")
    before = model.decoder.rnn.weight_ih_l0.detach().clone()
    report = init_side_from_lm(model, "decoder", lm_run, tokens)
    torch.testing.assert_close(model.decoder.rnn.weight_ih_l0.detach(), before)
    # 48 units: (192, 32 + 64) vs the LM's (128, 32)
    assert "decoder.rnn.weight_ih_l0: shape (128, 32) vs (192, 96)" in report.skipped
    assert "decoder.rnn.weight_hh_l1: missing (the language model has no layer 1)" in report.skipped
    assert "decoder.embedding.weight" in report.copied


def test_a_bahdanau_decoder_takes_the_input_weights_in_the_embeddings_columns(lm_run):
    tokens = [*SPECIALS, "a", "b"]
    _, model = seq2seq_model(tokens, attention="bahdanau")
    before = model.decoder.rnn.weight_ih_l0.detach().clone()
    report = init_side_from_lm(model, "decoder", lm_run, tokens)
    weight = model.decoder.rnn.weight_ih_l0.detach()  # (128, 32 embedding + 64 context)
    torch.testing.assert_close(weight[:, :32], load(lm_run).model.state_dict()["recurrent.0.weight_ih_l0"])
    torch.testing.assert_close(weight[:, 32:], before[:, 32:])
    line = (
        "decoder.rnn.weight_ih_l0[:, :32] (the embedding's columns; the other 64 keep their initial values)"
    )
    assert line in report.copied and "decoder.rnn.weight_hh_l0" in report.copied


def test_a_training_run_logs_what_was_copied(lm_run, tmp_path, caplog):
    sets = [f"model.init_encoder_from={lm_run}", f"model.init_decoder_from={lm_run}"]
    sets += ["model.decoder_hidden_size=32", "training.max_steps=2", "training.max_epochs=1"]
    with caplog.at_level(logging.INFO, logger="seqlab.training.seq2seq_pretrain"):
        code = main(["train", str(TINY_S2S), "--run-dir", str(tmp_path / "s2s")] + _sets(sets))
    assert code == 0
    text = caplog.text
    assert f"init_encoder_from {lm_run}: copied 5 tensors" in text
    assert "skipped encoder.rnn.weight_hh_l0_reverse: backward direction" in text
    assert f"init_decoder_from {lm_run}: copied 7 tensors" in text
    assert "copied decoder.rnn.weight_hh_l0" in text


def test_vectors_fill_the_rows_of_each_side_and_freeze(caplog):
    vectors = REPO / "tests/fixtures/tiny_vectors.txt"  # a, b and zzz, 4 wide
    source_tokens, target_tokens = [*SPECIALS, "a", "b", "c"], [*SPECIALS, "b", "x"]
    cfg, _ = seq2seq_model(source_tokens, embedding_size=4)
    torch.manual_seed(5)
    model = build_model(cfg, len(source_tokens), target_vocab_size=len(target_tokens))
    before = {name: value.clone() for name, value in model.state_dict().items()}
    model_cfg = dataclasses.replace(cfg.model, source_vectors=str(vectors), freeze_vectors=True)
    with caplog.at_level(logging.INFO, logger="seqlab.training.seq2seq_pretrain"):
        pretrain_seq2seq(
            dataclasses.replace(cfg, model=model_cfg), model, source_tokens, target_tokens, False
        )
    source = model.source_embedding.weight.detach()
    assert source[4].tolist() == [1, 2, 3, 4] and source[5].tolist() == [5, 6, 7, 8]
    torch.testing.assert_close(source[:4], before["source_embedding.weight"][:4])  # specials, <pad> too
    torch.testing.assert_close(source[6], before["source_embedding.weight"][6])  # c: no vector
    assert f"source vectors {vectors}: 2 of 7 vocabulary tokens found (coverage 28.6%); frozen" in caplog.text
    assert "missing e.g. <pad>, <unk>, <bos>, <eos>, c" in caplog.text
    assert not model.source_embedding.weight.requires_grad and model.target_embedding.weight.requires_grad
    torch.testing.assert_close(model.target_embedding.weight.detach(), before["target_embedding.weight"])
    model_cfg = dataclasses.replace(cfg.model, target_vectors=str(vectors))
    pretrain_seq2seq(dataclasses.replace(cfg, model=model_cfg), model, source_tokens, target_tokens, False)
    assert model.target_embedding.weight[4].tolist() == [5, 6, 7, 8]
    assert model.target_embedding.weight.requires_grad


def test_shared_embeddings_take_the_source_vectors_once():
    tokens = [*SPECIALS, "b", "a"]
    cfg, model = seq2seq_model(tokens, embedding_size=4, share_embeddings=True)
    vectors = str(REPO / "tests/fixtures/tiny_vectors.txt")
    model_cfg = dataclasses.replace(cfg.model, source_vectors=vectors)
    pretrain_seq2seq(dataclasses.replace(cfg, model=model_cfg), model, tokens, tokens, False)
    assert model.target_embedding.weight[4].tolist() == [5, 6, 7, 8]
    assert model.decoder.embedding.weight[5].tolist() == [1, 2, 3, 4]


def test_a_bad_vectors_line_names_file_and_line(tmp_path, capsys):
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("a 1 2 3 4\nb 1 2\n")
    sets = [f"model.target_vectors={vectors}", "model.embedding_size=4", "training.max_steps=1"]
    code = main(["train", str(TINY_S2S), "--run-dir", str(tmp_path / "s2s")] + _sets(sets))
    assert code == 2 and f"{vectors}:2: expected a word and 4 values, found 2" in capsys.readouterr().err


def test_runs_that_are_no_language_model_are_refused_before_training(lm_run, tmp_path, capsys):
    cfg = load_config(TINY_S2S)

    def check(**changes):
        check_pretrain_sources(dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, **changes)))

    with pytest.raises(ConfigError, match=r"model.init_encoder_from = '.*nowhere': no such directory"):
        check(init_encoder_from=str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match=r"init_decoder_from = .*: not a seqlab run directory"):
        check(init_decoder_from=str(tmp_path))
    other = tmp_path / "classifier"
    other.mkdir()
    (other / "config.yaml").write_text("task: classifier\n")
    with pytest.raises(ConfigError, match=r"a classifier run; init_encoder_from takes a language_model run"):
        check(init_encoder_from=str(other))
    with pytest.raises(ConfigError, match=r"its model.cell is 'lstm', this model's is 'gru'"):
        check(init_encoder_from=str(lm_run), cell="gru")
    run_dir = tmp_path / "s2s"
    code = main(
        ["train", str(TINY_S2S), "--run-dir", str(run_dir), "--set", f"model.init_encoder_from={other}"]
    )
    assert code == 2 and "a classifier run" in capsys.readouterr().err
    assert not run_dir.exists()


def test_frozen_vectors_stay_frozen_through_a_resume_without_the_file(tmp_path):
    vectors = tmp_path / "vectors.txt"
    vectors.write_text((REPO / "tests/fixtures/tiny_vectors.txt").read_text())
    run_dir = tmp_path / "s2s"
    sets = [f"model.source_vectors={vectors}", "model.freeze_vectors=true", "model.embedding_size=4"]
    sets += [
        "training.max_steps=2",
        "training.save_every=2",
        "training.metric=ppl",
        "training.metric_mode=min",
    ]
    assert main(["train", str(TINY_S2S), "--run-dir", str(run_dir)] + _sets(sets)) == 0
    vectors.unlink()  # a resume reads the weights from the checkpoint, not the file
    sets[3] = "training.max_steps=4"
    assert main(["train", str(TINY_S2S), "--run-dir", str(run_dir), "--resume"] + _sets(sets)) == 0
    run = load(run_dir)
    tokens = list(run.pipeline.source_vocab.itos)
    weight = run.model.source_embedding.weight.detach()
    assert weight[tokens.index("a")].tolist() == [1, 2, 3, 4] and weight[tokens.index("b")].tolist() == [
        5,
        6,
        7,
        8,
    ]
    assert run.model.target_embedding.weight[run.pipeline.target_vocab.itos.index("a")].tolist() != [
        1,
        2,
        3,
        4,
    ]


def test_the_language_models_layers_are_found_in_each_of_its_layouts():
    one, two, three = torch.zeros(1), torch.ones(1), torch.full((1,), 2.0)
    state = {
        "recurrent.0.weight_hh_l1_raw": one,
        "recurrent.2.bias_ih_l0": two,
        "recurrent.0.weight_ih_l0": three,
    }
    state["decoder.weight"] = one
    assert _lm_layers(state) == {("weight_hh", 1): one, ("bias_ih", 2): two, ("weight_ih", 0): three}
