"""Seq2SeqModel: the fused decoder path equals the step-by-step path on the same weights, decode_step
equals teacher forcing, padding never matters, the bridge/tying/sharing options, label smoothing,
scheduled sampling, and a tiny model that learns to reverse short sequences."""

import math

import pytest
import torch

from seqlab.config import ModelConfig
from seqlab.data.batching.seq2seq import EncodedPair, collate_pairs
from seqlab.errors import ConfigError
from seqlab.models.seq2seq import Seq2SeqModel, teacher_forcing_ratio

ARCHITECTURES = {
    "sutskever": dict(attention="none"),
    "cho": dict(attention="none", context_every_step=True),
    "luong_dot": dict(attention="luong", attention_score="dot"),
    "luong_general": dict(attention="luong", attention_score="general"),
    "luong_concat": dict(attention="luong", attention_score="concat"),
    "luong_feeding": dict(attention="luong", input_feeding=True),
    "bahdanau": dict(attention="bahdanau"),
}
FUSABLE = ("sutskever", "cho", "luong_dot", "luong_general", "luong_concat")


def small(**overrides) -> ModelConfig:
    base = dict(
        embedding_size=8, hidden_size=6, num_layers=2, bidirectional=True, dropout=0.0, init_range=0.3
    )
    return ModelConfig(**{**base, **overrides})


def batch():
    pairs = [
        EncodedPair([4, 5, 6, 7], [5, 6, 7]),
        EncodedPair([6, 5], [8, 9, 10, 4, 5]),
        EncodedPair([9], [4]),
    ]
    return collate_pairs(pairs)


def decoded_logits(model, b, steps=None):
    """decode_step over the first ``steps`` teacher-forced inputs of ``b`` -> logits [B, steps, V]."""
    memory = model.encode(b.src, b.src_lengths)
    state = model.start_state(memory)
    out = []
    for t in range(b.tgt_in.shape[1] if steps is None else steps):
        logits, state, _ = model.decode_step(b.tgt_in[:, t], state, memory)
        out.append(logits)
    return torch.stack(out, 1)


@pytest.fixture(autouse=True)
def seed():
    torch.manual_seed(0)


@pytest.mark.parametrize("name", FUSABLE)
def test_fused_path_equals_step_by_step_path(name):
    model = Seq2SeqModel(small(**ARCHITECTURES[name]), 12, 11).eval()
    assert model.decoder.can_fuse
    b = batch()
    fused_logits, fused_attention = model(b.src, b.src_lengths, b.tgt_in, fused=True)
    step_logits, step_attention = model(b.src, b.src_lengths, b.tgt_in, fused=False)
    assert torch.allclose(fused_logits, step_logits, atol=1e-5)
    if fused_attention is None:
        assert step_attention is None
    else:
        assert torch.allclose(fused_attention, step_attention, atol=1e-6)


@pytest.mark.parametrize("name", ["luong_feeding", "bahdanau"])
def test_step_only_architectures_refuse_to_fuse(name):
    model = Seq2SeqModel(small(**ARCHITECTURES[name]), 12, 11)
    assert not model.decoder.can_fuse
    b = batch()
    with pytest.raises(ConfigError, match="cannot fuse"):
        model(b.src, b.src_lengths, b.tgt_in, fused=True)


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_decode_step_equals_teacher_forcing_and_attention_is_a_distribution(name):
    model = Seq2SeqModel(small(**ARCHITECTURES[name], cell="gru" if name == "cho" else "lstm"), 12, 11).eval()
    b = batch()
    logits, attention = model(b.src, b.src_lengths, b.tgt_in)
    memory = model.encode(b.src, b.src_lengths)
    state = model.start_state(memory)
    for t in range(b.tgt_in.shape[1]):
        step_logits, state, step_attention = model.decode_step(b.tgt_in[:, t], state, memory)
        assert torch.allclose(step_logits, logits[:, t], atol=1e-5)
        if ARCHITECTURES[name]["attention"] == "none":
            assert step_attention is None
        else:
            assert torch.allclose(step_attention.sum(-1), torch.ones(3), atol=1e-6)
            assert bool((step_attention[1, 2:] == 0).all()) and bool((step_attention[2, 1:] == 0).all())


@pytest.mark.parametrize("name", ["luong_general", "bahdanau", "cho"])
def test_a_sentence_decodes_the_same_alone_and_in_a_padded_batch(name):
    model = Seq2SeqModel(small(**ARCHITECTURES[name]), 12, 11).eval()
    b = batch()
    logits, _ = model(b.src, b.src_lengths, b.tgt_in)
    alone = collate_pairs([EncodedPair([6, 5], [8, 9, 10, 4, 5])])
    alone_logits, _ = model(alone.src, alone.src_lengths, alone.tgt_in)
    assert torch.allclose(alone_logits[0], logits[1], atol=1e-5)


def test_reorder_selects_rows_of_memory_and_state():
    model = Seq2SeqModel(small(attention="luong", input_feeding=True), 12, 11).eval()
    b = batch()
    memory = model.encode(b.src, b.src_lengths)
    state = model.start_state(memory)
    _, state, _ = model.decode_step(b.tgt_in[:, 0], state, memory)
    index = torch.tensor([2, 0, 0])
    logits, _, attention = model.decode_step(b.tgt_in[:, 1], state, memory)
    picked_logits, _, picked_attention = model.decode_step(
        b.tgt_in[index, 1], state.reorder(index), memory.reorder(index)
    )
    assert torch.allclose(picked_logits, logits[index], atol=1e-6)
    assert torch.allclose(picked_attention, attention[index], atol=1e-6)


def test_bridges_tied_and_shared_embeddings():
    for bridge in ("linear", "copy", "zero"):
        cfg = small(attention="luong", bridge=bridge, bidirectional=False, num_layers=2)
        model = Seq2SeqModel(cfg, 12, 11)
        state = model.start_state(model.encode(batch().src, batch().src_lengths))
        assert state.rnn.h.shape == (2, 3, 6)
        if bridge == "zero":
            assert bool((state.rnn.h == 0).all())
    tied = Seq2SeqModel(small(attention="luong", tie_decoder_embeddings=True), 12, 11)
    assert tied.output.weight is tied.target_embedding.weight and tied.pre_output is not None
    shared = Seq2SeqModel(small(share_embeddings=True), 12, 12)
    assert shared.source_embedding is shared.target_embedding
    with pytest.raises(ConfigError, match="one vocabulary"):
        Seq2SeqModel(small(share_embeddings=True), 12, 11)


def test_label_smoothing_changes_the_loss_not_the_reported_nll():
    b = batch()
    torch.manual_seed(1)
    plain = Seq2SeqModel(small(), 12, 11)
    torch.manual_seed(1)
    smooth = Seq2SeqModel(small(), 12, 11, label_smoothing=0.2)
    plain_loss, plain_stats = plain.loss(b)
    smooth_loss, smooth_stats = smooth.loss(b)
    assert not math.isclose(float(plain_loss.detach()), float(smooth_loss.detach()), rel_tol=1e-4)
    assert plain_stats == pytest.approx(smooth_stats)
    assert plain_stats["tokens"] == b.num_tokens
    summary = Seq2SeqModel.summarize(plain_stats)
    assert summary["ppl"] == pytest.approx(math.exp(summary["loss"]))


def test_teacher_forcing_schedules():
    assert teacher_forcing_ratio("none", 10**6) == 1.0
    assert teacher_forcing_ratio("constant", 500, start=0.7) == 0.7
    assert teacher_forcing_ratio("linear", 0, 1.0, 100) == 1.0
    assert teacher_forcing_ratio("linear", 50, 1.0, 100) == pytest.approx(0.5)
    assert teacher_forcing_ratio("linear", 500, 1.0, 100) == 0.0
    values = [teacher_forcing_ratio("inverse_sigmoid", s, 1.0, 10) for s in (0, 10, 50, 100)]
    assert values == sorted(values, reverse=True) and values[-1] < 0.01


def test_scheduled_sampling_feeds_model_predictions_in_training_only():
    model = Seq2SeqModel(
        small(attention="luong"), 12, 11, scheduled_sampling="constant", scheduled_sampling_start=0.0
    )
    b = batch()
    memory = model.encode(b.src, b.src_lengths)
    mixed = model._scheduled_inputs(b, memory)
    assert torch.equal(mixed[:, 0], b.tgt_in[:, 0])  # <bos> stays
    assert torch.equal(mixed == 0, b.tgt_in == 0)  # padding stays
    predicted = mixed[:, 1:][b.tgt_in[:, 1:] != 0]
    assert not torch.equal(predicted, b.tgt_in[:, 1:][b.tgt_in[:, 1:] != 0])  # ratio 0: the model's own
    model.set_training_progress(0)
    loss, _ = model.loss(b)
    loss.backward()
    model.eval()  # evaluation always reads the reference: the same loss every time
    with torch.no_grad():
        assert float(model.loss(b)[0]) == float(model.loss(b)[0])
    model.schedule = ("linear", 1.0, 10.0)
    model.set_training_progress(5)
    assert model.teacher_forcing == pytest.approx(0.5)


def test_a_tiny_model_learns_to_reverse_short_sequences():
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    pairs = []
    for _ in range(40):
        length = int(torch.randint(2, 5, (1,), generator=generator))
        seq = torch.randint(4, 9, (length,), generator=generator).tolist()
        pairs.append(EncodedPair(seq, seq[::-1]))
    b = collate_pairs(pairs)
    cfg = small(attention="luong", embedding_size=16, hidden_size=16, num_layers=1, bidirectional=False)
    model = Seq2SeqModel(cfg, 9, 9)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)
    for _ in range(80):
        loss, _ = model.loss(b)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    _, stats = model.loss(b)
    assert stats["correct"] / stats["tokens"] > 0.95


@pytest.mark.parametrize("name", ["luong_feeding", "bahdanau", "luong_general"])
def test_inference_steps_follow_weight_changes(name):
    """At inference the LSTM's step weights are built once and reused; a changed parameter (an
    optimizer step, loaded weights) must be seen by the next decode."""
    model = Seq2SeqModel(small(**ARCHITECTURES[name]), 12, 11).eval()
    b = batch()

    with torch.no_grad():
        before = decoded_logits(model, b, 2)
        assert torch.allclose(before, model(b.src, b.src_lengths, b.tgt_in)[0][:, :2], atol=1e-5)
        model.decoder.rnn.weight_hh_l0.mul_(-1.5)
        after = decoded_logits(model, b, 2)
        assert torch.allclose(after, model(b.src, b.src_lengths, b.tgt_in)[0][:, :2], atol=1e-5)
        model.decoder.embedding.weight.mul_(2.0)  # the token-gate table must follow it too
        third = decoded_logits(model, b, 2)
        assert torch.allclose(third, model(b.src, b.src_lengths, b.tgt_in)[0][:, :2], atol=1e-5)
    assert not torch.allclose(before, after, atol=1e-3)
    assert not torch.allclose(after, third, atol=1e-3)


def test_inference_steps_follow_an_optimizer_that_bumps_no_version():
    """torch's fused Adam updates the weights without bumping their version counters: the cache
    must still see the update, as the trainer switches to training mode before every step."""
    from seqlab.config import OptimizerConfig
    from seqlab.training.optim import build_optimizer

    model = Seq2SeqModel(small(**ARCHITECTURES["luong_feeding"]), 12, 11)
    optimizer = build_optimizer(model.parameters(), OptimizerConfig(name="adam", lr=0.1))
    assert optimizer.param_groups[0]["fused"] is True
    b = batch()

    def decoded_and_teacher_forced():
        model.eval()
        with torch.no_grad():
            return decoded_logits(model, b, 1)[:, 0], model(b.src, b.src_lengths, b.tgt_in)[0][:, 0]

    before, forced = decoded_and_teacher_forced()
    torch.testing.assert_close(before, forced, atol=1e-5, rtol=1e-5)
    model.train()
    loss, _ = model.loss(b)
    loss.backward()
    optimizer.step()
    after, forced = decoded_and_teacher_forced()
    torch.testing.assert_close(after, forced, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(before, after, atol=1e-3)


@pytest.mark.parametrize("name", ["luong_feeding", "bahdanau", "sutskever"])
def test_token_gate_table_equals_the_per_step_product(name, monkeypatch):
    """At inference each token's share of the gates is looked up in a [V, 4H] table; without the
    table (a vocabulary above the size limit) the step computes it: the same logits."""
    import seqlab.models.decoder as decoder_module

    model = Seq2SeqModel(small(**ARCHITECTURES[name]), 12, 11).eval()
    b = batch()
    with torch.no_grad():
        with_table = decoded_logits(model, b)
        assert model.decoder._cached_stepper()[1] is not None
        monkeypatch.setattr(decoder_module, "TOKEN_TABLE_MAX_ELEMENTS", 0)
        model.decoder._stepper_cache = None
        without = decoded_logits(model, b)
        assert model.decoder._cached_stepper()[1] is None
    torch.testing.assert_close(with_table, without, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name", ["luong_general", "bahdanau"])
def test_a_coverage_decoder_steps_sums_its_attention_and_with_a_zero_weight_is_the_plain_one(name):
    plain = Seq2SeqModel(small(**ARCHITECTURES[name]), 12, 12).eval()
    model = Seq2SeqModel(small(**ARCHITECTURES[name], coverage=True), 12, 12).eval()
    assert not model.decoder.can_fuse
    with pytest.raises(ConfigError, match="with coverage cannot fuse"):
        model(batch().src, batch().src_lengths, batch().tgt_in, fused=True)
    b = batch()
    # decode_step equals the teacher-forced step path, and the state's coverage is the attention's sum
    logits, attention = model(b.src, b.src_lengths, b.tgt_in)
    memory = model.encode(b.src, b.src_lengths)
    state = model.start_state(memory)
    assert torch.equal(state.coverage, torch.zeros(b.src.shape))
    for t in range(b.tgt_in.shape[1]):
        step_logits, state, _ = model.decode_step(b.tgt_in[:, t], state, memory)
        torch.testing.assert_close(step_logits, logits[:, t], atol=1e-5, rtol=0)
    torch.testing.assert_close(state.coverage, attention.sum(1), atol=1e-5, rtol=0)
    result = model.load_state_dict(plain.state_dict(), strict=False)
    assert result.missing_keys == ["decoder.attention.coverage"]
    with torch.no_grad():
        model.decoder.attention.coverage.zero_()
    torch.testing.assert_close(
        model(b.src, b.src_lengths, b.tgt_in)[0], plain(b.src, b.src_lengths, b.tgt_in)[0]
    )
