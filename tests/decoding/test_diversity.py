"""Diverse beam search (seqlab/decoding/diversity.py, run by beam.py) on the toy encoder-decoder."""

import pytest
import torch
from test_beam import SOURCES, run
from toy_seq2seq import ToySeq2Seq

from seqlab.decoding import LengthPenalty, NoRepeatNGram, ProcessorList, RepetitionPenalty, beam_search
from seqlab.errors import ConfigError


def identical(a, b):
    """Bitwise: the same tokens, the same float scores, the same attention."""
    assert a.tokens == b.tokens and a.score == b.score and a.log_prob == b.log_prob
    assert (a.attention is None) == (b.attention is None)
    if a.attention is not None:
        assert torch.equal(a.attention, b.attention)


PROCESSORS = ProcessorList([RepetitionPenalty(1.4), NoRepeatNGram(2)])


@pytest.mark.parametrize("strength", [0.0, 0.8])
def test_one_group_is_plain_beam_bitwise(strength):
    model = ToySeq2Seq(seed=4)
    kwargs = dict(beam_size=4, n_best=3, length_penalty=LengthPenalty("gnmt", 0.6), processors=PROCESSORS)
    plain = run(beam_search, model, SOURCES, **kwargs)
    grouped = run(beam_search, model, SOURCES, diverse_groups=1, diversity_strength=strength, **kwargs)
    for p, g in zip(plain, grouped, strict=True):
        assert len(p) == len(g) == 3
        for a, b in zip(p, g, strict=True):
            identical(a, b)


@pytest.mark.parametrize(("beam_size", "groups"), [(6, 2), (6, 3), (4, 4)])
@pytest.mark.parametrize("processors", [None, PROCESSORS], ids=["plain", "processors"])
def test_strength_zero_gives_independent_beams_of_the_group_size(beam_size, groups, processors):
    model = ToySeq2Seq(seed=5)
    size = beam_size // groups
    minimum = torch.tensor([0, 2, 0, 4, 1, 0, 3, 0])
    common = dict(max_length=10, min_length=minimum, processors=processors)
    alone = run(beam_search, model, SOURCES, beam_size=size, n_best=size, **common)
    grouped = run(
        beam_search, model, SOURCES, beam_size=beam_size, n_best=beam_size,
        diverse_groups=groups, diversity_strength=0.0, **common,
    )  # fmt: skip
    for independent, merged in zip(alone, grouped, strict=True):
        # every group found the independent beam's n-best: each hypothesis once per group
        assert len(merged) == groups * len(independent)
        for i, hyp in enumerate(independent):
            for copy in merged[i * groups : (i + 1) * groups]:
                identical(hyp, copy)


def first_tokens(results):
    return [[h.tokens[0] for h in hyps] for hyps in results]


def test_groups_start_differently_where_plain_beam_agrees():
    model = ToySeq2Seq(seed=0, eos_bias=-2.0)
    plain = run(beam_search, model, SOURCES, beam_size=4, n_best=4, min_length=1)
    agreeing = [i for i, tokens in enumerate(first_tokens(plain)) if len(set(tokens)) < 4]
    assert agreeing  # plain beam's n-best shares a first token for these sentences
    diverse = run(
        beam_search, model, SOURCES, beam_size=4, n_best=4, min_length=1,
        diverse_groups=4, diversity_strength=50.0,
    )  # fmt: skip
    for i in agreeing:
        assert len(set(first_tokens(diverse)[i])) == 4


def test_diversity_raises_distinct_outputs_in_the_n_best():
    model = ToySeq2Seq(seed=0, eos_bias=-2.0)
    kwargs = dict(beam_size=6, n_best=6, max_length=8, diverse_groups=3)
    same = run(beam_search, model, SOURCES, diversity_strength=0.0, **kwargs)
    diverse = run(beam_search, model, SOURCES, diversity_strength=2.0, **kwargs)
    distinct = lambda results: sum(len({tuple(h.tokens) for h in hyps}) for hyps in results)  # noqa: E731
    assert distinct(diverse) > distinct(same)


@pytest.mark.parametrize("strength", [0.5, 5.0])
def test_batched_diverse_beam_equals_each_sentence_alone(strength):
    model = ToySeq2Seq(seed=1)
    maximum = torch.tensor([12, 3, 8, 12, 5, 12, 1, 10])
    minimum = torch.tensor([0, 0, 2, 5, 0, 1, 0, 3])
    kwargs = dict(
        beam_size=6, n_best=4, diverse_groups=3, diversity_strength=strength,
        length_penalty=LengthPenalty("gnmt", 0.8), coverage_penalty=0.2, processors=PROCESSORS,
    )  # fmt: skip
    batched = run(beam_search, model, SOURCES, max_length=maximum, min_length=minimum, **kwargs)
    for i, source in enumerate(SOURCES):
        (alone,) = run(
            beam_search, model, [source], max_length=maximum[i : i + 1], min_length=minimum[i : i + 1],
            **kwargs,
        )  # fmt: skip
        assert len(alone) == len(batched[i]) == 4
        for a, b in zip(alone, batched[i], strict=True):
            assert a.tokens == b.tokens
            assert a.score == pytest.approx(b.score, abs=1e-5)
            assert a.log_prob == pytest.approx(b.log_prob, abs=1e-5)


def test_the_penalty_is_part_of_the_score():
    # with many groups sharing a sentence, later groups pay for the tokens earlier ones chose
    model = ToySeq2Seq(seed=2)
    results = run(
        beam_search, model, SOURCES, beam_size=4, n_best=4, diverse_groups=4, diversity_strength=1.0
    )
    assert any(h.score < h.log_prob - 0.5 for hyps in results for h in hyps)
    assert all(h.score <= h.log_prob + 1e-9 for hyps in results for h in hyps)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            dict(beam_size=4, diverse_groups=3),
            r"diverse_groups = 3: must divide beam_size = 4 \(valid: 1, 2, 4\)",
        ),
        (dict(beam_size=4, diverse_groups=0), "diverse_groups = 0: must be an integer >= 1"),
        (dict(beam_size=4, diverse_groups=2.0), "diverse_groups = 2.0"),
        (
            dict(beam_size=4, diverse_groups=2, diversity_strength=-0.1),
            r"diversity_strength = -0.1: .* \[0, 100\]",
        ),
        (dict(beam_size=4, diverse_groups=2, diversity_strength=float("inf")), "diversity_strength = inf"),
    ],
)
def test_bad_group_settings_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        run(beam_search, ToySeq2Seq(), SOURCES[:2], **kwargs)
