import math

import pytest
import torch
from toy_seq2seq import (
    BOS,
    EOS,
    PAD,
    ToySeq2Seq,
    make_batch,
    random_sources,
    sequence_log_prob,
    teacher_force,
)

from seqlab.decoding import NoRepeatNGram, ProcessorList, RepetitionPenalty, greedy_search, sample_search
from seqlab.errors import ConfigError

SOURCES = random_sources(7, seed=3)


def lengths(values):
    return torch.tensor(values, dtype=torch.long)


def run(search, model, sources, max_length=12, min_length=0, **kwargs):
    src, src_lengths = make_batch(sources)
    memory = model.encode(src, src_lengths)
    n = len(sources)
    max_lengths = max_length if isinstance(max_length, torch.Tensor) else lengths([max_length] * n)
    min_lengths = min_length if isinstance(min_length, torch.Tensor) else lengths([min_length] * n)
    return search(
        model,
        memory,
        model.start_state(memory),
        max_lengths=max_lengths,
        min_lengths=min_lengths,
        bos_id=BOS,
        eos_id=EOS,
        **kwargs,
    )


def reference_greedy(model, source, max_length):
    """Plain one-sentence greedy: argmax of log-softmax with <bos>/<pad> banned, <eos> forced at the end."""
    src, src_lengths = make_batch([source])
    memory = model.encode(src, src_lengths)
    state, token, out = model.start_state(memory), BOS, []
    while True:
        logits, state, _ = model.decode_step(torch.tensor([token]), state, memory)
        scores = logits[0].log_softmax(-1)
        scores[[BOS, PAD]] = -math.inf
        token = EOS if len(out) == max_length else int(scores.argmax())
        if token == EOS:
            return out
        out.append(token)


def test_greedy_matches_a_plain_reference_loop_for_every_sentence():
    model = ToySeq2Seq()
    hyps = run(greedy_search, model, SOURCES, max_length=9)
    assert [h.tokens for h in hyps] == [reference_greedy(model, s, 9) for s in SOURCES]
    assert any(len(h.tokens) < 9 for h in hyps) and any(len(h.tokens) == 9 for h in hyps)


def test_greedy_batched_equals_each_sentence_alone():
    model = ToySeq2Seq(seed=4)
    processors = ProcessorList([RepetitionPenalty(1.3), NoRepeatNGram(2)])
    batched = run(greedy_search, model, SOURCES, processors=processors)
    for source, hyp in zip(SOURCES, batched, strict=True):
        (alone,) = run(greedy_search, model, [source], processors=processors)
        assert alone.tokens == hyp.tokens
        assert alone.score == pytest.approx(hyp.score, abs=1e-6)
        assert torch.allclose(alone.attention, hyp.attention, atol=1e-6)


def test_greedy_log_prob_and_attention_match_teacher_forcing():
    model = ToySeq2Seq()
    for source, hyp in zip(SOURCES, run(greedy_search, model, SOURCES), strict=True):
        assert hyp.log_prob == pytest.approx(sequence_log_prob(model, source, hyp.tokens), abs=1e-5)
        assert hyp.score == pytest.approx(hyp.log_prob, abs=1e-5)  # no processors: nothing changes the scores
        _, attention = teacher_force(model, source, hyp.tokens)
        assert hyp.attention.shape == (len(hyp.tokens) + 1, len(source))
        assert torch.allclose(hyp.attention, attention, atol=1e-6)
        assert torch.allclose(hyp.attention.sum(-1), torch.ones(len(hyp.tokens) + 1), atol=1e-5)


def test_greedy_without_attention_returns_none():
    hyps = run(greedy_search, ToySeq2Seq(attention=False), SOURCES[:3])
    assert all(h.attention is None for h in hyps)


@pytest.mark.parametrize("search", [greedy_search, sample_search])
def test_per_sentence_min_and_max_lengths(search):
    # A model that wants to stop at once: only the minimum length keeps it going.
    eager = ToySeq2Seq(eos_bias=20.0)
    minimum = lengths([0, 3, 5, 2, 1, 4, 6])
    hyps = run(search, eager, SOURCES, max_length=10, min_length=minimum)
    assert [len(h.tokens) for h in hyps] == minimum.tolist()
    # A model that never wants to stop: only the maximum length ends it.
    endless = ToySeq2Seq(eos_bias=-20.0)
    maximum = lengths([4, 0, 7, 2, 9, 1, 3])
    hyps = run(search, endless, SOURCES, max_length=maximum)
    assert [len(h.tokens) for h in hyps] == maximum.tolist()
    assert all(math.isfinite(h.score) for h in hyps)


@pytest.mark.parametrize("search", [greedy_search, sample_search])
def test_never_emits_bos_or_pad(search):
    model = ToySeq2Seq()
    model.output_bias[[BOS, PAD]] = 30.0
    hyps = run(search, model, SOURCES)
    assert all(BOS not in h.tokens and PAD not in h.tokens for h in hyps)


@pytest.mark.parametrize(
    ("search", "kwargs"),
    [
        (greedy_search, {}),
        (sample_search, dict(temperature=0.01, generator=torch.Generator().manual_seed(0))),
        (sample_search, dict(temperature=100.0, top_p=0.5, generator=torch.Generator().manual_seed(1))),
        (sample_search, dict(top_k=2, generator=torch.Generator().manual_seed(2))),
    ],
)
def test_all_tokens_banned_forces_eos_with_its_log_prob(search, kwargs):
    # 6 ids: pad, unk, bos, eos, 4, 5. Unigram blocking with a minimum length of 10 bans every
    # token once unk, 4 and 5 have been used: the row must still end, with a finite score.
    model = ToySeq2Seq(vocab_size=6, seed=2)
    sources = random_sources(7, vocab_size=6, seed=3)
    hyps = run(search, model, sources, min_length=10, processors=NoRepeatNGram(1), **kwargs)
    for source, hyp in zip(sources, hyps, strict=True):
        assert sorted(hyp.tokens) == [1, 4, 5]
        assert hyp.log_prob == pytest.approx(sequence_log_prob(model, source, hyp.tokens), abs=1e-5)
        assert math.isfinite(hyp.score)


@pytest.mark.parametrize("temperature", [1e-320, 1e308, 0.0099, 101.0])
def test_sampling_refuses_a_temperature_out_of_range(temperature):
    # 1e-320 and 1e308 once made NaN probabilities and crashed torch.multinomial (issue 14)
    with pytest.raises(ConfigError, match=r"temperature = .*: must be a number in \[0.01, 100\]"):
        run(sample_search, ToySeq2Seq(), SOURCES, temperature=temperature)


def test_sampling_with_a_seed_is_reproducible():
    model = ToySeq2Seq()
    draw = lambda seed: run(  # noqa: E731
        sample_search, model, SOURCES, temperature=1.5, generator=torch.Generator().manual_seed(seed)
    )
    first, again, other = draw(0), draw(0), draw(1)
    assert [h.tokens for h in first] == [h.tokens for h in again]
    assert [h.score for h in first] == [h.score for h in again]
    assert [h.tokens for h in first] != [h.tokens for h in other]


def test_sampling_top_k_1_is_greedy():
    model = ToySeq2Seq()
    greedy = run(greedy_search, model, SOURCES)
    sampled = run(sample_search, model, SOURCES, top_k=1, generator=torch.Generator().manual_seed(5))
    assert [h.tokens for h in sampled] == [h.tokens for h in greedy]


@pytest.mark.parametrize("top_k", [2, 3])
def test_sampling_respects_top_k(top_k):
    model = ToySeq2Seq()
    for seed in range(4):
        hyps = run(sample_search, model, SOURCES, top_k=top_k, generator=torch.Generator().manual_seed(seed))
        for source, hyp in zip(SOURCES, hyps, strict=True):
            log_probs, _ = teacher_force(model, source, hyp.tokens)
            log_probs[:, [BOS, PAD]] = -math.inf
            forced_end = len(hyp.tokens) == 12  # the maximum length: <eos> was the only choice
            for step, token in enumerate(hyp.tokens if forced_end else [*hyp.tokens, EOS]):
                assert token in log_probs[step].topk(top_k).indices.tolist()


def test_search_rejects_bad_arguments():
    model = ToySeq2Seq()
    with pytest.raises(ConfigError, match="top_k = -1"):
        run(sample_search, model, SOURCES[:2], top_k=-1)
    with pytest.raises(ConfigError, match="temperature = 0"):
        run(sample_search, model, SOURCES[:2], temperature=0)
    with pytest.raises(ConfigError, match="max_lengths: has 3 entries for a batch of 2"):
        run(greedy_search, model, SOURCES[:2], max_length=lengths([3, 3, 3]))
    with pytest.raises(ConfigError, match="min_lengths = \\[-1, 0\\]"):
        run(greedy_search, model, SOURCES[:2], min_length=lengths([-1, 0]))
