"""The line-start state of a stream-trained LM (seqlab/models/line_start.py).

A tiny LSTM LM is trained in-process on tests/fixtures/tiny_train.txt as a stream (BPTT windows,
carried state, ``<eos>`` after every line), with the model section of configs/tiny_lm.yaml.
"""

import dataclasses
from pathlib import Path

import pytest
import torch

from seqlab.config import load_config
from seqlab.data.batching.bptt import BPTTBatcher
from seqlab.errors import CheckpointError, ConfigError, DataError
from seqlab.models import LanguageModel, RecurrentState
from seqlab.models.line_start import (
    LINE_START_FILE,
    estimate_line_start,
    expand_state,
    fit_start_state,
    line_end_states,
    line_nll,
    line_token_nll,
    load_line_start,
    mean_state,
    primer_state,
    read_line_start_metadata,
    save_line_start,
    split_lines,
    zero_state,
)

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "configs" / "tiny_lm.yaml"
TRAIN = REPO / "tests" / "fixtures" / "tiny_train.txt"
VALID = REPO / "tests" / "fixtures" / "tiny_valid.txt"


def encode(path: Path, stoi: dict[str, int], eos: int, unk: int) -> torch.Tensor:
    ids = []
    for line in path.read_text().splitlines():
        ids += [stoi.get(word, unk) for word in line.lower().split()] + [eos]
    return torch.tensor(ids, dtype=torch.long)


@pytest.fixture(scope="module")
def corpus():
    words = sorted({w for line in TRAIN.read_text().splitlines() for w in line.lower().split()})
    stoi = {w: i + 2 for i, w in enumerate(words)}  # 0 <eos>, 1 <unk>
    train, valid = encode(TRAIN, stoi, 0, 1), encode(VALID, stoi, 0, 1)
    return train, valid, len(stoi) + 2


def new_model(vocab_size: int, seed: int = 0, **changes) -> LanguageModel:
    cfg = dataclasses.replace(load_config(TINY).model, dropout=0.0, **changes)
    torch.manual_seed(seed)
    return LanguageModel(cfg, vocab_size)


@pytest.fixture(scope="module")
def trained(corpus):
    """The tiny LM trained on the training stream, as the Trainer trains it (carried state)."""
    train, _, vocab_size = corpus
    torch.set_num_threads(1)
    model = new_model(vocab_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    batcher = BPTTBatcher(train, batch_size=4, bptt=8)
    for epoch in range(6):
        batcher.set_epoch(epoch)
        for batch in batcher:
            loss, _ = model.loss(batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.reset_carry()
    return model.eval()


def test_split_lines_drops_eos_and_the_unfinished_tail():
    lines = split_lines(torch.tensor([5, 6, 0, 0, 7, 0, 8]), eos_id=0)
    assert [line.tolist() for line in lines] == [[5, 6], [], [7]]


def test_estimated_states_have_line_start_shapes(trained, corpus):
    train, _, _ = corpus
    layers, hidden = trained.cfg.num_layers, trained.cfg.hidden_size
    ends = line_end_states(trained, train, 0, rows=4)
    assert ends.h.shape[0] == layers and ends.h.shape[2] == hidden and ends.h.shape[1] > 50
    assert ends.c is not None and ends.c.shape == ends.h.shape
    for method in ("mean", "primer", "fitted"):
        state = estimate_line_start(trained, train, 0, method, fit_steps=3)
        assert state.h.shape == (layers, 1, hidden), method
        assert state.c is not None and state.c.shape == (layers, 1, hidden), method
        assert not state.h.requires_grad and not state.c.requires_grad


def test_a_gru_state_has_no_cell(corpus):
    train, _, vocab_size = corpus
    model = new_model(vocab_size, cell="gru").eval()
    state = estimate_line_start(model, train, 0, "mean", max_tokens=400, rows=2)
    assert state.c is None and state.h.shape == (2, 1, 32)


def test_line_end_states_are_the_real_states_before_each_eos(trained, corpus):
    train, _, _ = corpus
    ids = train[:120]
    ends = line_end_states(trained, ids, 0, rows=1, max_tokens=None)
    positions = [p for p in (ids == 0).nonzero().flatten().tolist()]
    # kept: every <eos> but the first (the row's first line starts from zeros)
    assert ends.h.shape[1] == len(positions) - 1
    for k, pos in enumerate(positions[1:]):
        with torch.no_grad():
            _, state = trained(ids[:pos].unsqueeze(0), zero_state(trained))
        torch.testing.assert_close(ends.h[:, k : k + 1], state.h, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(ends.c[:, k : k + 1], state.c, rtol=1e-5, atol=1e-6)


def test_primer_is_the_state_after_reading_up_to_a_line_end(trained, corpus):
    train, _, _ = corpus
    end = int((train == 0).nonzero().flatten()[(train == 0).nonzero().flatten() >= 30][0])
    with torch.no_grad():
        _, expected = trained(train[:end].unsqueeze(0), zero_state(trained))
    got = primer_state(trained, train, 0, primer_tokens=30)
    assert torch.equal(got.h, expected.h) and torch.equal(got.c, expected.c)


def test_batched_line_scores_equal_one_line_at_a_time(trained, corpus):
    _, valid, _ = corpus
    lines = split_lines(valid, 0)[:9]
    start = mean_state(line_end_states(trained, valid, 0, rows=2))
    batched = line_token_nll(trained, lines, 0, start, batch_size=4)
    for line, nll in zip(lines, batched):
        inputs = torch.cat([torch.tensor([0]), line]).unsqueeze(0)
        targets = torch.cat([line, torch.tensor([0])])
        with torch.no_grad():
            logits, _ = trained(inputs, start)
        alone = torch.nn.functional.cross_entropy(logits[0], targets, reduction="none")
        torch.testing.assert_close(nll, alone, rtol=1e-5, atol=1e-5)
    total, tokens = line_nll(trained, lines, 0, start)
    assert tokens == sum(len(line) + 1 for line in lines)
    assert total == pytest.approx(sum(float(n.sum()) for n in batched), rel=1e-6)


def test_a_start_state_beats_zeros_on_held_out_lines(trained, corpus):
    train, valid, _ = corpus
    lines = split_lines(valid, 0)
    zeros, tokens = line_nll(trained, lines, 0, None)
    mean, _ = line_nll(trained, lines, 0, estimate_line_start(trained, train, 0, "mean"))
    fitted, _ = line_nll(trained, lines, 0, estimate_line_start(trained, train, 0, "fitted"))
    assert mean < zeros, (mean / tokens, zeros / tokens)
    assert fitted < zeros, (fitted / tokens, zeros / tokens)


def test_fitting_lowers_the_training_loss_and_leaves_the_model_alone(trained, corpus):
    train, _, _ = corpus
    lines = [line for line in split_lines(train, 0) if len(line)]
    before = {name: p.detach().clone() for name, p in trained.state_dict().items()}
    grads = [p.requires_grad for p in trained.parameters()]
    zeros = zero_state(trained)
    fitted = fit_start_state(trained, lines, 0, zeros, steps=30, batch_size=32, lr=0.05)
    assert line_nll(trained, lines, 0, fitted)[0] < line_nll(trained, lines, 0, zeros)[0]
    for name, value in trained.state_dict().items():
        assert torch.equal(value, before[name]), name
    assert [p.requires_grad for p in trained.parameters()] == grads
    assert not trained.training


def test_save_load_round_trips_bitwise(tmp_path, trained, corpus):
    train, _, _ = corpus
    state = estimate_line_start(trained, train, 0, "fitted", fit_steps=5)
    path = save_line_start(tmp_path, state, {"method": "fitted", "lines": 12})
    assert path == tmp_path / LINE_START_FILE
    loaded = load_line_start(tmp_path, trained)
    assert loaded is not None and loaded.h.dtype == state.h.dtype
    assert torch.equal(loaded.h, state.h) and torch.equal(loaded.c, state.c)
    assert read_line_start_metadata(tmp_path) == {"method": "fitted", "lines": "12"}
    # and it is the safetensors format, nothing else
    from safetensors.torch import load_file

    assert set(load_file(str(path))) == {"h", "c"}


def test_load_is_none_without_a_file_and_refuses_a_mismatch(tmp_path, corpus):
    _, _, vocab_size = corpus
    assert load_line_start(tmp_path) is None
    small = new_model(vocab_size)
    save_line_start(tmp_path, zero_state(small))
    wider = new_model(vocab_size, hidden_size=16)
    with pytest.raises(CheckpointError, match="does not fit"):
        load_line_start(tmp_path, wider)
    gru = new_model(vocab_size, cell="gru")
    with pytest.raises(CheckpointError, match="does not fit"):
        load_line_start(tmp_path, gru)
    (tmp_path / LINE_START_FILE).write_bytes(b"\x80\x04 not safetensors")
    with pytest.raises(CheckpointError):
        load_line_start(tmp_path)


def test_user_errors_name_the_problem(trained, corpus):
    train, _, _ = corpus
    with pytest.raises(ConfigError, match="method"):
        estimate_line_start(trained, train, 0, "median")
    with pytest.raises(DataError, match="no <eos>"):
        estimate_line_start(trained, torch.tensor([3, 4, 5]), 0, "mean")
    with pytest.raises(ConfigError, match=r"\[L, 1, H\]"):
        save_line_start(Path("/nonexistent"), expand_state(zero_state(trained), 2))
    assert isinstance(expand_state(zero_state(trained), 3), RecurrentState)


def test_zero_fitting_steps_return_the_start_unchanged(trained, corpus):
    train, _, _ = corpus
    lines = [line for line in split_lines(train, 0) if len(line)]
    init = mean_state(line_end_states(trained, train, 0, rows=4))
    same = fit_start_state(trained, lines, 0, init, steps=0)
    assert torch.equal(same.h, init.h) and torch.equal(same.c, init.c)
