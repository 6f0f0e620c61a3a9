import dataclasses
import math
from dataclasses import dataclass

import pytest
import torch
from torch import Tensor

from seqlab.config import ExperimentConfig, ModelConfig
from seqlab.errors import CheckpointError, ConfigError
from seqlab.models import LanguageModel, RecurrentState, build_model, embedding_dropout
from seqlab.models.lstm import WeightDropLSTM

VOCAB = 11


@dataclass
class Batch:
    """Stand-in for seqlab.data.batching.bptt.LMBatch (same fields)."""

    inputs: Tensor
    targets: Tensor
    reset: bool = False

    @property
    def num_tokens(self) -> int:
        return self.targets.numel()


def tiny_config(**changes) -> ModelConfig:
    base = ModelConfig(embedding_size=8, hidden_size=8, num_layers=2)
    return dataclasses.replace(base, **changes)


def make_model(seed: int = 0, **changes) -> LanguageModel:
    torch.manual_seed(seed)
    return LanguageModel(tiny_config(**changes), VOCAB)


def random_batch(batch_size: int = 3, steps: int = 5, reset: bool = False, seed: int = 1) -> Batch:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, VOCAB, (batch_size, steps + 1), generator=g)
    return Batch(ids[:, :-1], ids[:, 1:], reset)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh"])
@pytest.mark.parametrize("locked", [False, True])
def test_forward_shapes_for_every_cell(cell, locked):
    model = make_model(cell=cell, locked_dropout=locked, dropout=0.2)
    logits, state = model(torch.randint(0, VOCAB, (3, 5)))
    assert logits.shape == (3, 5, VOCAB)
    assert state.h.shape == (2, 3, 8)
    assert (state.c is not None) == (cell == "lstm")
    loss, stats = model.loss(random_batch())
    loss.backward()
    assert stats["tokens"] == 15.0 and math.isclose(stats["nll_sum"] / 15, loss.item(), rel_tol=1e-5)


def test_tied_weights_share_storage_and_count_once():
    tied = make_model(tie_weights=True)
    assert tied.decoder.weight is tied.embedding.weight
    assert tied.decoder.weight.data_ptr() == tied.embedding.weight.data_ptr()
    untied = make_model()
    assert untied.num_parameters() - tied.num_parameters() == VOCAB * 8


def test_init_range_applies_to_embedding_and_decoder():
    model = make_model(init_range=0.05)
    assert model.embedding.weight.abs().max() <= 0.05
    assert model.decoder.weight.abs().max() <= 0.05
    assert torch.equal(model.decoder.bias, torch.zeros(VOCAB))


def test_carry_is_kept_across_loss_calls_and_reset():
    model = make_model()
    first, second = random_batch(seed=1), random_batch(seed=2)
    model.loss(first)
    carried = model.carry_state()["train.h"]
    loss_with_carry, _ = model.loss(second)
    fresh_logits, _ = model(second.inputs)  # from a zero state
    fresh_loss = torch.nn.functional.cross_entropy(
        fresh_logits.reshape(-1, VOCAB), second.targets.reshape(-1)
    )
    assert not torch.allclose(loss_with_carry, fresh_loss)  # the carry changed the result
    # the carried state is the one after `first`, detached
    assert not carried.requires_grad
    model.loss(first)
    reset_loss, _ = model.loss(dataclasses.replace(second, reset=True))
    torch.testing.assert_close(reset_loss, fresh_loss)


def test_carry_dropped_when_batch_size_changes():
    model = make_model()
    model.loss(random_batch(batch_size=3))
    small = random_batch(batch_size=2, seed=5)
    loss, _ = model.loss(small)
    model.reset_carry()
    torch.testing.assert_close(loss, model.loss(small)[0])


def test_eval_carry_is_independent_of_training_carry():
    model = make_model()
    model.loss(random_batch(seed=1))
    train_carry = model.carry_state()["train.h"].clone()
    model.eval()
    with torch.no_grad():
        model.loss(random_batch(seed=7))
        model.loss(random_batch(seed=8))
    state = model.carry_state()
    assert torch.equal(state["train.h"], train_carry)
    assert not torch.equal(state["eval.h"], train_carry)
    model.train()
    model.reset_carry("eval")
    assert set(model.carry_state()) == {"train.h", "train.c"}


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_carry_state_round_trip_gives_identical_next_loss(cell):
    model = make_model(cell=cell)
    model.loss(random_batch(seed=1))
    model.eval()
    with torch.no_grad():
        model.loss(random_batch(seed=3))
    model.train()
    saved = model.carry_state()
    expected_keys = {"train.h", "eval.h"} | ({"train.c", "eval.c"} if cell == "lstm" else set())
    assert set(saved) == expected_keys
    expected, _ = model.loss(random_batch(seed=2))

    restored = make_model(cell=cell)
    restored.load_state_dict(model.state_dict())
    restored.load_carry_state(saved)
    got, _ = restored.loss(random_batch(seed=2))
    assert torch.equal(got, expected)
    without = make_model(cell=cell)
    without.load_state_dict(model.state_dict())
    assert not torch.equal(without.loss(random_batch(seed=2))[0], expected)


def test_load_carry_state_rejects_wrong_keys_and_shapes():
    model = make_model()
    with pytest.raises(CheckpointError, match="unknown keys"):
        model.load_carry_state({"training.h": torch.zeros(2, 3, 8)})
    with pytest.raises(CheckpointError, match="shape"):
        model.load_carry_state({"train.h": torch.zeros(1, 3, 8), "train.c": torch.zeros(1, 3, 8)})
    with pytest.raises(CheckpointError, match="cell state"):
        model.load_carry_state({"train.h": torch.zeros(2, 3, 8)})


def test_summarize():
    summary = LanguageModel.summarize({"nll_sum": 20.0, "tokens": 10.0})
    assert summary["loss"] == 2.0 and math.isclose(summary["ppl"], math.exp(2.0))
    assert LanguageModel.summarize({"nll_sum": 1e6, "tokens": 1.0})["ppl"] == math.inf


def test_decode_step_matches_forward():
    model = make_model(cell="lstm").eval()
    inputs = torch.randint(0, VOCAB, (2, 6))
    expected, _ = model(inputs)
    state = model.init_state(2)
    assert isinstance(state, RecurrentState) and state.h.abs().sum() == 0
    for t in range(inputs.shape[1]):
        logits, state, attention = model.decode_step(inputs[:, t], state)
        assert attention is None
        torch.testing.assert_close(logits, expected[:, t], atol=1e-5, rtol=1e-5)


def test_embedding_dropout_drops_whole_word_types_in_training_only():
    model = make_model(embedding_dropout=0.5)
    inputs = torch.full((4, 50), 3)  # one word type everywhere
    torch.manual_seed(0)
    rows = [embedding_dropout(model.embedding, inputs, 0.5, True) for _ in range(20)]
    for emb in rows:  # either the word is dropped everywhere or kept everywhere (scaled by 2)
        assert torch.equal(emb, torch.zeros_like(emb)) or torch.allclose(emb, model.embedding(inputs) * 2)
    assert any(emb.abs().sum() == 0 for emb in rows)
    assert torch.equal(embedding_dropout(model.embedding, inputs, 0.5, False), model.embedding(inputs))


def test_weight_drop_and_locked_dropout_build_awd_lstm():
    model = make_model(weight_drop=0.3, locked_dropout=True, dropout=0.2, embedding_dropout=0.1)
    assert len(model.recurrent) == 2 and all(isinstance(m, WeightDropLSTM) for m in model.recurrent)
    loss, _ = model.loss(random_batch())
    loss.backward()
    assert model.recurrent[1].weight_hh_l0_raw.grad is not None


def test_tiny_model_overfits_repeated_sequence():
    torch.manual_seed(0)
    model = LanguageModel(ModelConfig(embedding_size=16, hidden_size=32, num_layers=1), VOCAB)
    sequence = torch.tensor([1, 4, 2, 7, 5, 9, 3] * 4)
    batch = Batch(sequence[:-1].unsqueeze(0), sequence[1:].unsqueeze(0), reset=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)
    first_loss = model.loss(batch)[0].item()
    for _ in range(200):  # usually done in about 30 steps
        optimizer.zero_grad()
        loss, _ = model.loss(batch)
        if loss.item() < 0.05:
            break
        loss.backward()
        optimizer.step()
    assert first_loss > 2.0 and loss.item() < 0.05


def test_build_model_and_bad_vocab():
    model = build_model(ExperimentConfig(model=tiny_config()), VOCAB)
    assert isinstance(model, LanguageModel) and model.vocab_size == VOCAB
    with pytest.raises(ConfigError, match="vocab_size = 0"):
        LanguageModel(tiny_config(), 0)


def test_build_model_rejects_unknown_task():
    cfg = ExperimentConfig()
    object.__setattr__(cfg, "task", "translation")  # bypass the validated loader
    with pytest.raises(ConfigError, match="task = 'translation'.*language_model"):
        build_model(cfg, VOCAB)
