import itertools
import math

import pytest
import torch
from toy_seq2seq import BOS, EOS, ToySeq2Seq, make_batch, random_sources, sequence_log_prob, teacher_force

from seqlab.decoding import (
    LengthPenalty,
    NoRepeatNGram,
    ProcessorList,
    RepetitionPenalty,
    beam_search,
    greedy_search,
)
from seqlab.errors import ConfigError

SOURCES = random_sources(8, seed=11, low=1, high=9)


def run(search, model, sources, max_length=12, min_length=0, **kwargs):
    src, src_lengths = make_batch(sources)
    memory = model.encode(src, src_lengths)
    n = len(sources)
    as_tensor = lambda v: v if isinstance(v, torch.Tensor) else torch.full((n,), v, dtype=torch.long)  # noqa: E731
    return search(
        model,
        memory,
        model.start_state(memory),
        max_lengths=as_tensor(max_length),
        min_lengths=as_tensor(min_length),
        bos_id=BOS,
        eos_id=EOS,
        **kwargs,
    )


def same(a, b):
    assert a.tokens == b.tokens
    assert a.score == pytest.approx(b.score, abs=1e-5)
    assert a.log_prob == pytest.approx(b.log_prob, abs=1e-5)
    assert (a.attention is None) == (b.attention is None)
    if a.attention is not None:
        assert torch.allclose(a.attention, b.attention, atol=1e-6)


@pytest.mark.parametrize(
    "processors",
    [None, ProcessorList([RepetitionPenalty(1.5), NoRepeatNGram(2)])],
    ids=["plain", "processors"],
)
@pytest.mark.parametrize("seed", [0, 5])
def test_beam_size_1_equals_greedy(seed, processors):
    model = ToySeq2Seq(seed=seed)
    minimum = torch.tensor([0, 2, 0, 4, 1, 0, 3, 0])
    greedy = run(greedy_search, model, SOURCES, min_length=minimum, processors=processors)
    beam = run(beam_search, model, SOURCES, min_length=minimum, processors=processors, beam_size=1)
    for g, b in zip(greedy, beam, strict=True):
        assert len(b) == 1
        same(g, b[0])


SETTINGS = {
    "gnmt+coverage": dict(length_penalty=LengthPenalty("gnmt", 0.8), coverage_penalty=0.3),
    "average+processors": dict(
        length_penalty=LengthPenalty("average"),
        processors=ProcessorList([RepetitionPenalty(1.4), NoRepeatNGram(2)]),
    ),
    "none": dict(length_penalty=LengthPenalty("none")),
}


@pytest.mark.parametrize("setting", SETTINGS, ids=list(SETTINGS))
@pytest.mark.parametrize("beam_size", [3, 5])
def test_batched_beam_equals_each_sentence_alone(beam_size, setting):
    model = ToySeq2Seq(seed=1)
    maximum = torch.tensor([12, 3, 8, 12, 5, 12, 1, 10])
    minimum = torch.tensor([0, 0, 2, 5, 0, 1, 0, 3])
    kwargs = dict(SETTINGS[setting], beam_size=beam_size, n_best=beam_size)
    batched = run(beam_search, model, SOURCES, max_length=maximum, min_length=minimum, **kwargs)
    assert {len(s) for s in SOURCES} != {max(len(s) for s in SOURCES)}  # padding is exercised
    for i, source in enumerate(SOURCES):
        (alone,) = run(
            beam_search,
            model,
            [source],
            max_length=maximum[i : i + 1],
            min_length=minimum[i : i + 1],
            **kwargs,
        )
        assert len(alone) == len(batched[i])
        for a, b in zip(alone, batched[i], strict=True):
            same(a, b)


def test_finished_sentences_leave_the_compute():
    model = ToySeq2Seq(seed=1)
    maximum = torch.tensor([12, 1, 2, 12, 1, 12, 1, 2])
    run(beam_search, model, SOURCES, max_length=maximum, beam_size=4)
    # Had every sentence stayed in the batch, each call would have had 8 x 4 rows.
    assert model.rows < model.steps * len(SOURCES) * 4


def test_n_best_is_sorted_distinct_and_complete():
    model = ToySeq2Seq(seed=2)
    results = run(
        beam_search, model, SOURCES, beam_size=5, n_best=5, length_penalty=LengthPenalty("gnmt", 0.6)
    )
    for hyps in results:
        assert len(hyps) == 5
        scores = [h.score for h in hyps]
        assert scores == sorted(scores, reverse=True)
        assert len({tuple(h.tokens) for h in hyps}) == 5


def test_small_search_space_is_searched_exhaustively():
    # 6 ids (pad, unk, bos, eos, 4, 5): 3 output tokens, so with max length 3 there are
    # 1 + 3 + 9 + 27 = 40 outputs. A beam of 27 keeps every prefix alive and finds all of them.
    model = ToySeq2Seq(vocab_size=6, seed=7)
    source = random_sources(1, vocab_size=6, seed=2)[0]
    penalty, beta = LengthPenalty("gnmt", 1.0), 0.5
    (hyps,) = run(
        beam_search,
        model,
        [source],
        max_length=3,
        beam_size=27,
        n_best=27,
        length_penalty=penalty,
        coverage_penalty=beta,
    )
    expected = []
    for length in range(4):
        for tokens in itertools.product([1, 4, 5], repeat=length):
            expected.append((expected_score(model, source, list(tokens), penalty, beta), list(tokens)))
    expected.sort(key=lambda pair: -pair[0])
    assert [h.tokens for h in hyps] == [tokens for _, tokens in expected[:27]]
    assert [h.score for h in hyps] == pytest.approx([score for score, _ in expected[:27]], abs=1e-5)


def expected_score(model, source, tokens, penalty, beta):
    """Documented score from teacher forcing: log_prob / lp(len + 1) + beta * sum_i log(min(sum_j a, 1))."""
    log_prob = sequence_log_prob(model, source, tokens)
    _, attention = teacher_force(model, source, tokens)
    length = len(tokens) + 1
    divisor = {"none": 1.0, "average": length, "gnmt": ((5 + length) / 6) ** penalty.alpha}[penalty.kind]
    coverage = sum(math.log(min(float(total), 1.0)) for total in attention.sum(0))
    return log_prob / divisor + beta * coverage


@pytest.mark.parametrize(
    ("kind", "alpha", "beta"),
    [("none", 0.0, 0.0), ("average", 0.0, 0.0), ("gnmt", 0.6, 0.0), ("gnmt", 1.2, 0.4), ("none", 0.0, 1.0)],
)
def test_penalised_scores_follow_the_documented_formula(kind, alpha, beta):
    model = ToySeq2Seq(seed=3)
    penalty = LengthPenalty(kind, alpha)
    results = run(
        beam_search, model, SOURCES, beam_size=4, n_best=4, length_penalty=penalty, coverage_penalty=beta
    )
    for source, hyps in zip(SOURCES, results, strict=True):
        for hyp in hyps:
            assert hyp.log_prob == pytest.approx(sequence_log_prob(model, source, hyp.tokens), abs=1e-5)
            assert hyp.score == pytest.approx(
                expected_score(model, source, hyp.tokens, penalty, beta), abs=1e-5
            )
            if kind == "none" and beta == 0:
                assert hyp.score == pytest.approx(hyp.log_prob, abs=1e-5)


def test_penalties_change_the_choice():
    model = ToySeq2Seq(seed=3)
    plain = run(beam_search, model, SOURCES, beam_size=5)
    longer = run(beam_search, model, SOURCES, beam_size=5, length_penalty=LengthPenalty("gnmt", 2.0))
    covered = run(beam_search, model, SOURCES, beam_size=5, coverage_penalty=5.0)
    tokens = lambda results: [r[0].tokens for r in results]  # noqa: E731
    assert tokens(plain) != tokens(longer) and tokens(plain) != tokens(covered)
    assert sum(len(r[0].tokens) for r in longer) > sum(len(r[0].tokens) for r in plain)


def repeats_an_ngram(tokens, n):
    grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return len(grams) != len(set(grams))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_no_repeat_ngram_never_repeats(n):
    model = ToySeq2Seq(seed=0, eos_bias=-3.0)  # long, repetitive outputs without blocking
    free = run(beam_search, model, SOURCES, beam_size=4, n_best=4, max_length=20)
    assert any(repeats_an_ngram(h.tokens, n) for hyps in free for h in hyps)
    blocked = run(
        beam_search, model, SOURCES, beam_size=4, n_best=4, max_length=20, processors=NoRepeatNGram(n)
    )
    for hyps in blocked:
        assert hyps and not any(repeats_an_ngram(h.tokens, n) for h in hyps)


def test_every_hypothesis_blocked_still_ends():
    # 6 ids: only unk, 4 and 5 can be output. Unigram blocking plus a minimum length of 10 bans every
    # token of every hypothesis after 3 steps (<eos> included): each must end, with a finite score.
    model = ToySeq2Seq(vocab_size=6, seed=2)
    sources = random_sources(5, vocab_size=6, seed=4)
    results = run(
        beam_search, model, sources, beam_size=4, n_best=4, min_length=10, processors=NoRepeatNGram(1)
    )
    for source, hyps in zip(sources, results, strict=True):
        assert len(hyps) == 4
        for hyp in hyps:
            assert sorted(hyp.tokens) == [1, 4, 5]
            assert math.isfinite(hyp.score)
            assert hyp.log_prob == pytest.approx(sequence_log_prob(model, source, hyp.tokens), abs=1e-5)


def test_min_and_max_lengths_are_respected():
    minimum = torch.tensor([0, 3, 5, 2, 1, 4, 6, 0])
    eager = run(beam_search, ToySeq2Seq(eos_bias=20.0), SOURCES, beam_size=3, n_best=3, min_length=minimum)
    for hyps, low in zip(eager, minimum.tolist(), strict=True):
        assert all(len(h.tokens) >= low for h in hyps)
        assert len(hyps[0].tokens) == low
    maximum = torch.tensor([4, 0, 7, 2, 9, 1, 3, 5])
    endless = run(beam_search, ToySeq2Seq(eos_bias=-20.0), SOURCES, beam_size=3, n_best=3, max_length=maximum)
    for hyps, high in zip(endless, maximum.tolist(), strict=True):
        assert all(len(h.tokens) == high for h in hyps)


def test_attention_per_hypothesis():
    model = ToySeq2Seq(seed=6)
    results = run(beam_search, model, SOURCES, beam_size=3, n_best=3)
    for source, hyps in zip(SOURCES, results, strict=True):
        for hyp in hyps:
            _, attention = teacher_force(model, source, hyp.tokens)
            assert hyp.attention.shape == (len(hyp.tokens) + 1, len(source))
            assert torch.allclose(hyp.attention, attention, atol=1e-6)


def test_no_attention_model():
    model = ToySeq2Seq(attention=False)
    results = run(beam_search, model, SOURCES[:3], beam_size=3)
    assert all(h.attention is None for hyps in results for h in hyps)
    with pytest.raises(ConfigError, match="coverage_penalty = 0.2: needs a model with attention"):
        run(beam_search, model, SOURCES[:3], beam_size=3, coverage_penalty=0.2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(beam_size=0), "beam_size = 0"),
        (dict(beam_size=2.0), "beam_size = 2.0"),
        (dict(beam_size=2, n_best=3), r"n_best = 3: must be an integer in \[1, beam_size = 2\]"),
        (dict(beam_size=2, coverage_penalty=-1), "coverage_penalty = -1"),
        (dict(beam_size=2, length_penalty="gnmt"), "length_penalty = 'gnmt': must be a LengthPenalty"),
        (dict(beam_size=2, max_length=torch.tensor([3])), "max_lengths: has 1 entries for a batch of 2"),
    ],
)
def test_beam_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        run(beam_search, ToySeq2Seq(), SOURCES[:2], **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(n_best=1),
        dict(n_best=2),
        dict(n_best=1, coverage_penalty=0.4),
        dict(n_best=1, processors=ProcessorList([RepetitionPenalty(1.3), NoRepeatNGram(2)])),
    ],
    ids=["1-best", "2-best", "coverage", "processors"],
)
def test_stopping_once_the_n_best_are_fixed_changes_no_output(kwargs):
    results = {}
    rows = {}
    for stop_early in (True, False):
        model = ToySeq2Seq(seed=3)
        results[stop_early] = run(
            beam_search, model, SOURCES, max_length=20, beam_size=5, stop_early=stop_early, **kwargs
        )
        rows[stop_early] = model.rows
    for early, full in zip(results[True], results[False], strict=True):
        assert len(early) == len(full) == kwargs["n_best"]
        for a, b in zip(early, full, strict=True):
            same(a, b)
    assert rows[True] < rows[False]  # the stop saved decoder work
