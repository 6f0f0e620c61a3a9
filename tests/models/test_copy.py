"""Copy attention: the mixture is a distribution over the extended vocabulary; with the generation
probability forced to 1 the copy model is the plain decoder (same weights), forced to 0 it is the
attention; the loss's target log-probabilities are the mixture's; the fused path, the step path and
``decode_step`` agree; the coverage loss; a tiny copy task with words the target vocabulary lacks is
solved only with copying on."""

import math
import random

import pytest
import torch

from seqlab.config import ModelConfig
from seqlab.data.batching.seq2seq import EncodedPair, collate_pairs
from seqlab.decoding.search import greedy_search
from seqlab.decoding.step import length_limits
from seqlab.errors import ConfigError
from seqlab.models.copy import coverage_penalty_sum, mixture_log_probs, target_log_probs
from seqlab.models.seq2seq import Seq2SeqModel
from seqlab.text.extended_vocab import extend_source
from seqlab.text.vocab import Vocabulary

SOURCE_V, TARGET_V = 10, 12
ARCHITECTURES = {
    "luong_general": dict(attention="luong", attention_score="general"),
    "luong_feeding": dict(attention="luong", input_feeding=True),
    "bahdanau": dict(attention="bahdanau"),
    "luong_coverage": dict(attention="luong", coverage=True, coverage_loss=1.0),
}


def small(**overrides) -> ModelConfig:
    base = dict(
        embedding_size=8, hidden_size=6, num_layers=2, bidirectional=True, dropout=0.0, init_range=0.3
    )
    return ModelConfig(**{**base, **overrides})


def copy_batch(extended_targets: bool = True):
    """Three sources with 1, 2 and 0 words outside the target vocabulary (ids 12, 13)."""
    pairs = [
        EncodedPair([4, 5, 1, 7], [12, 8, 6] if extended_targets else [5, 8, 6], [6, 8, 12, 9]),
        EncodedPair([6, 1, 1], [13, 12, 5, 13] if extended_targets else [4, 11, 5], [5, 12, 13]),
        EncodedPair([9], [7], [7]),
    ]
    return collate_pairs(pairs)


def stepped(model, b):
    """decode_step over the teacher-forced inputs of ``b`` -> [B, T, extended] and attention [B, T, S]."""
    memory = model.encode(b.src, b.src_lengths, b.src_copy)
    state = model.start_state(memory)
    out, weights = [], []
    for t in range(b.tgt_in.shape[1]):
        scores, state, attention = model.decode_step(b.tgt_in[:, t], state, memory)
        out.append(scores)
        weights.append(attention)
    return torch.stack(out, 1), torch.stack(weights, 1)


def force_generation(model, logit: float) -> None:
    """p_gen = sigmoid(logit) whatever the inputs (+inf: 1, -inf: 0)."""
    with torch.no_grad():
        model.copy.gate.weight.zero_()
        model.copy.gate.bias.fill_(logit)


@pytest.fixture(autouse=True)
def seed():
    torch.manual_seed(0)


def test_the_mixture_is_a_distribution_over_each_sentences_extended_vocabulary():
    model = Seq2SeqModel(small(copy_attention=True), SOURCE_V, TARGET_V).eval()
    scores, _ = stepped(model, copy_batch())
    assert scores.shape[-1] == TARGET_V + 2  # the second sentence has two words to copy
    torch.testing.assert_close(scores.logsumexp(-1), torch.zeros(scores.shape[:2]), atol=1e-5, rtol=0)
    assert torch.isinf(scores[0, :, 13]).all() and torch.isinf(scores[2, :, 12:]).all()
    assert torch.isfinite(scores[1, :, 12:]).all() and torch.isfinite(scores[:, :, :TARGET_V]).all()


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_generation_probability_one_is_the_plain_decoder(name):
    plain = Seq2SeqModel(small(**ARCHITECTURES[name]), SOURCE_V, TARGET_V)
    model = Seq2SeqModel(small(**ARCHITECTURES[name], copy_attention=True), SOURCE_V, TARGET_V)
    result = model.load_state_dict(plain.state_dict(), strict=False)
    assert sorted(result.missing_keys) == ["copy.gate.bias", "copy.gate.weight"]
    force_generation(model, math.inf)
    plain.eval(), model.eval()
    b = copy_batch(extended_targets=False)
    scores, attention = stepped(model, b)
    memory = plain.encode(b.src, b.src_lengths)
    state, expected, weights = plain.start_state(memory), [], []
    for t in range(b.tgt_in.shape[1]):
        logits, state, step_attention = plain.decode_step(b.tgt_in[:, t], state, memory)
        expected.append(logits.log_softmax(-1))
        weights.append(step_attention)
    torch.testing.assert_close(scores[..., :TARGET_V], torch.stack(expected, 1), atol=1e-6, rtol=0)
    torch.testing.assert_close(attention, torch.stack(weights, 1))
    assert torch.isinf(scores[..., TARGET_V:]).all()
    plain_loss, plain_stats = plain.loss(b)
    copy_loss, copy_stats = model.loss(b)
    torch.testing.assert_close(copy_loss, plain_loss)
    assert copy_stats["correct"] == plain_stats["correct"]


def test_generation_probability_zero_is_the_attention_scattered_on_the_source_words():
    model = Seq2SeqModel(small(copy_attention=True), SOURCE_V, TARGET_V).eval()
    force_generation(model, -math.inf)
    b = copy_batch()
    scores, attention = stepped(model, b)
    ids = b.src_copy.unsqueeze(1).expand_as(attention)
    expected = torch.zeros(*attention.shape[:2], TARGET_V + 2).scatter_add(-1, ids, attention)
    torch.testing.assert_close(scores.exp(), expected, atol=1e-6, rtol=0)


def test_the_loss_reads_the_mixtures_entry_of_each_target():
    g = torch.Generator().manual_seed(1)
    logits, gate = torch.randn(2, 3, TARGET_V, generator=g), torch.randn(2, 3, generator=g)
    attention = torch.randn(2, 3, 4, generator=g).softmax(-1)
    copy_ids = torch.tensor([[5, 12, 13, 12], [6, 7, 12, 1]])
    target = torch.tensor([[12, 13, 4], [12, 7, 11]])
    full = mixture_log_probs(logits, gate, attention, copy_ids, TARGET_V + 2)
    expected = full.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    torch.testing.assert_close(target_log_probs(logits, gate, attention, copy_ids, target), expected)


@pytest.mark.parametrize("name", ["luong_general", "bahdanau", "luong_coverage"])
def test_fused_and_step_paths_and_decode_step_agree(name):
    model = Seq2SeqModel(small(**ARCHITECTURES[name], copy_attention=True), SOURCE_V, TARGET_V).eval()
    b = copy_batch()
    stepwise, _ = model.forward_copy(b.src, b.src_lengths, b.src_copy, b.tgt_in, fused=False)
    if model.decoder.can_fuse:
        fused, _ = model.forward_copy(b.src, b.src_lengths, b.src_copy, b.tgt_in, fused=True)
        torch.testing.assert_close(fused, stepwise, atol=1e-5, rtol=0)
    with torch.no_grad():
        decoded, _ = stepped(model, b)
    torch.testing.assert_close(decoded, stepwise.detach(), atol=1e-5, rtol=0)


def test_the_copy_loss_is_the_teacher_forced_nll_and_its_gradient_is_finite():
    model = Seq2SeqModel(small(copy_attention=True), SOURCE_V, TARGET_V)
    b = copy_batch()
    loss, stats = model.loss(b)
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    assert model.copy.gate.weight.grad.abs().sum() > 0
    with torch.no_grad():
        scores, _ = model.forward_copy(b.src, b.src_lengths, b.src_copy, b.tgt_in)
    real = b.tgt_out != 0
    nll = -scores.gather(-1, b.tgt_out.unsqueeze(-1)).squeeze(-1).masked_select(real).sum()
    assert stats["nll_sum"] == pytest.approx(float(nll), rel=1e-5)
    assert stats["tokens"] == float(real.sum())


def test_a_copy_model_without_copy_ids_says_what_it_needs():
    model = Seq2SeqModel(small(copy_attention=True), SOURCE_V, TARGET_V).eval()
    b = copy_batch()
    memory = model.encode(b.src, b.src_lengths)
    with pytest.raises(ValueError, match="copy ids"):
        model.decode_step(b.tgt_in[:, 0], model.start_state(memory), memory)


def test_copying_needs_attention():
    with pytest.raises(ConfigError, match="need attention"):
        Seq2SeqModel(small(attention="none", copy_attention=True), SOURCE_V, TARGET_V)
    with pytest.raises(ConfigError, match="need attention"):
        Seq2SeqModel(small(attention="none", coverage_loss=1.0), SOURCE_V, TARGET_V)


def test_coverage_penalty_counts_attention_paid_again():
    attention = torch.tensor([[[1.0, 0.0], [0.6, 0.4], [0.0, 1.0]]])  # [B=1, T=3, S=2]
    # step 0: nothing before; step 1: min(0.6, 1) + min(0.4, 0); step 2: min(0, 1.6) + min(1, 0.4)
    real = torch.tensor([[True, True, True]])
    assert float(coverage_penalty_sum(attention, real)) == pytest.approx(1.0)
    assert float(coverage_penalty_sum(attention, torch.tensor([[True, False, True]]))) == pytest.approx(0.4)


def test_coverage_loss_adds_its_weight_times_the_penalty_per_token():
    plain = Seq2SeqModel(small(), SOURCE_V, TARGET_V)
    covered = Seq2SeqModel(small(coverage_loss=2.0), SOURCE_V, TARGET_V)
    covered.load_state_dict(plain.state_dict())
    b = copy_batch(extended_targets=False)
    plain_loss, plain_stats = plain.loss(b)
    covered_loss, covered_stats = covered.loss(b)
    _, attention = plain(b.src, b.src_lengths, b.tgt_in)
    penalty = coverage_penalty_sum(attention, b.tgt_out != 0) / b.num_tokens
    torch.testing.assert_close(covered_loss, plain_loss + 2.0 * penalty)
    assert float(penalty.detach()) > 0 and covered_stats == plain_stats


# -- the copy task -------------------------------------------------------------------------------


def copy_task(seed: int = 0):
    """Target = source: 3-6 common words with one rare word each (each rare word occurs once, so
    neither vocabulary holds it); the test sentences' rare words are new."""
    rng = random.Random(seed)
    common = [f"w{i}" for i in range(8)]

    def sentence(rare: str) -> list[str]:
        tokens = [rng.choice(common) for _ in range(rng.randint(3, 6))]
        tokens[rng.randrange(len(tokens))] = rare
        return tokens

    train = [sentence(f"r{i}") for i in range(1500)]
    test = [sentence(f"new{i}") for i in range(60)]
    return train, test, Vocabulary.build(train, min_freq=2), rng


def copy_task_exact_match(copy: bool, steps: int = 150) -> float:
    train, test, vocab, rng = copy_task()

    def encode(tokens):
        extended = extend_source(tokens, vocab)
        target = extended.target_ids(tokens, vocab) if copy else vocab.encode(tokens)
        return EncodedPair(vocab.encode(tokens), target, extended.ids if copy else None), extended

    cfg = small(embedding_size=24, hidden_size=24, num_layers=1, init_range=0.1, copy_attention=copy)
    model = Seq2SeqModel(cfg, len(vocab), len(vocab))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    pairs = [encode(tokens)[0] for tokens in train]
    for _ in range(steps):
        loss, _ = model.loss(collate_pairs(rng.sample(pairs, 32)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    encoded = [encode(tokens) for tokens in test]
    b = collate_pairs([pair for pair, _ in encoded])
    max_lengths, min_lengths = length_limits(b.src_lengths, max_length=10)
    with torch.no_grad():
        memory = model.encode(b.src, b.src_lengths, b.src_copy)
        found = greedy_search(
            model, memory, model.start_state(memory), max_lengths=max_lengths, min_lengths=min_lengths,
            bos_id=model.bos_id, eos_id=model.eos_id,
        )  # fmt: skip
    outputs = [extended.decode(h.tokens, vocab) for h, (_, extended) in zip(found, encoded)]
    return sum(out == ref for out, ref in zip(outputs, test)) / len(test)


def test_a_copy_task_with_unseen_words_is_solved_only_with_copying():
    assert copy_task_exact_match(copy=True) >= 0.9
    assert copy_task_exact_match(copy=False) == 0.0  # the rare word comes out as <unk>


def test_label_smoothing_and_scheduled_sampling_train_a_copy_model():
    model = Seq2SeqModel(
        small(copy_attention=True), SOURCE_V, TARGET_V, label_smoothing=0.1,
        scheduled_sampling="constant", scheduled_sampling_start=0.5,
    )  # fmt: skip
    plain_nll = Seq2SeqModel(small(copy_attention=True), SOURCE_V, TARGET_V)
    plain_nll.load_state_dict(model.state_dict())
    b = copy_batch()
    loss, stats = model.loss(b)
    loss.backward()
    assert torch.isfinite(loss) and all(
        torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None
    )
    model.eval(), plain_nll.eval()  # no scheduled sampling outside training: the same NLL
    assert model.loss(b)[1] == plain_nll.loss(b)[1]
    assert model.loss(b)[0] > plain_nll.loss(b)[0]  # the smoothed loss is larger
