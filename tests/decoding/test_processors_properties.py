"""Property-based tests (hypothesis) of the logits processors and the searches that use them.

Any logits float32 holds (huge, tiny, subnormal, banned ``-inf``) and any settings inside the valid
ranges of :mod:`seqlab.ranges` give outputs without NaN or ``+inf``, rows that keep a token while
the input had one (unless a banning processor says otherwise), valid token ids and finite scores;
any setting outside its range raises ConfigError naming the range, never anything else (issue 14).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from toy_seq2seq import BOS, EOS, ToySeq2Seq, make_batch

from seqlab.api import build_processors
from seqlab.decoding import (
    BanTokens,
    CoveragePenalty,
    LengthPenalty,
    MinLength,
    NoRepeatNGram,
    RepetitionPenalty,
    Temperature,
    TopK,
    TopP,
    beam_search,
    greedy_search,
    length_limits,
    sample_search,
)
from seqlab.errors import ConfigError
from seqlab.predictors.generation import generate
from seqlab.ranges import COVERAGE_PENALTY, REPETITION_PENALTY, TEMPERATURE, TOP_P, NumberRange

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEARCHES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAX_V = 12


def in_range(valid: NumberRange) -> st.SearchStrategy[float]:
    """Floats of the range, its bounds included (hypothesis favours the ends)."""
    return st.floats(valid.low, valid.high, exclude_min=valid.low_open)


def out_of_range(valid: NumberRange) -> st.SearchStrategy[object]:
    numbers = st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not valid.contains(v))
    return st.one_of(numbers, st.booleans(), st.none(), st.text(max_size=5))


FLOAT32_MAX = float(np.finfo(np.float32).max)
LOGITS = st.one_of(
    st.floats(width=32, allow_nan=False, allow_infinity=False),
    st.sampled_from([FLOAT32_MAX, -FLOAT32_MAX, 1e37, -1e37, 1e-45, 0.0]),  # the edges, more often
)


@st.composite
def logits_and_history(draw: st.DrawFn) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits FloatTensor[B, V] of any finite float32, some banned; history LongTensor[B, t])."""
    rows, vocab = draw(st.integers(1, 3)), draw(st.integers(1, MAX_V))
    values = draw(arrays(np.float32, (rows, vocab), elements=LOGITS))
    banned = draw(arrays(np.bool_, (rows, vocab)))
    logits = torch.from_numpy(np.where(banned, -np.inf, values).astype(np.float32))
    length = draw(st.integers(0, 6))
    history = draw(arrays(np.int64, (rows, length), elements=st.integers(0, vocab - 1)))
    return logits, torch.from_numpy(history)


PROCESSORS = st.one_of(
    in_range(TEMPERATURE).map(Temperature),
    in_range(TOP_P).map(TopP),
    in_range(REPETITION_PENALTY).map(RepetitionPenalty),
    st.integers(1, MAX_V + 2).map(TopK),
    st.integers(1, 4).map(NoRepeatNGram),
    st.builds(MinLength, st.integers(0, 8), st.integers(0, MAX_V - 1), st.integers(0, 3)),
    st.lists(st.integers(0, MAX_V - 1), max_size=4).map(BanTokens),
)
BANS = (TopK, TopP, NoRepeatNGram, MinLength, BanTokens)


def keeps_a_token(logits: torch.Tensor) -> torch.Tensor:
    return (logits > -math.inf).any(dim=-1)


@FAST
@given(data=logits_and_history(), processor=PROCESSORS)
def test_a_valid_processor_never_makes_nan_or_plus_inf(data, processor):
    logits, history = data
    before = logits.clone()
    try:
        out = processor(logits, history)
    except ConfigError as error:  # the documented error: an id past the vocabulary
        assert "vocabulary size" in str(error)
        return
    assert torch.equal(logits, before)  # the input is left as it was
    assert out.shape == logits.shape and out.dtype == logits.dtype
    assert not out.isnan().any() and not (out == math.inf).any()
    assert not ((out > -math.inf) & (logits == -math.inf)).any()  # nothing banned comes back
    if not isinstance(processor, BANS):
        assert torch.equal(keeps_a_token(out), keeps_a_token(logits))


@FAST
@given(data=logits_and_history(), temperature=in_range(TEMPERATURE))
def test_temperature_keeps_the_order_and_the_best_token(data, temperature):
    logits, history = data
    out = Temperature(temperature)(logits, history)
    assert not out.isnan().any() and not (out == math.inf).any()
    for row_in, row_out in zip(logits, out, strict=True):
        ranked = row_out[row_in.argsort()]
        assert (ranked[1:] >= ranked[:-1]).all()  # never reorders (ties may appear)
        if row_in.max() > -math.inf:
            assert row_out[row_in.argmax()] == row_out.max()


@FAST
@given(data=logits_and_history(), penalty=in_range(REPETITION_PENALTY))
def test_repetition_penalty_only_lowers_the_tokens_already_seen(data, penalty):
    logits, history = data
    out = RepetitionPenalty(penalty)(logits, history)
    seen = torch.zeros_like(logits, dtype=torch.bool).scatter(1, history, True)
    assert torch.equal(out[~seen], logits[~seen])
    assert (out[seen] <= logits[seen]).all()
    assert torch.equal(out[seen].isfinite(), logits[seen].isfinite())  # lowered, never banned


@FAST
@given(data=logits_and_history(), k=st.integers(1, MAX_V + 2), p=in_range(TOP_P))
def test_truncation_keeps_the_best_tokens_as_they_were(data, k, p):
    logits, history = data
    finite = logits.isfinite().sum(dim=-1)
    top_k = TopK(k)(logits, history)
    assert torch.equal(top_k.isfinite().sum(dim=-1), finite.clamp(max=k))
    top_p = TopP(p)(logits, history)
    for out in (top_k, top_p):
        kept = out.isfinite()
        assert torch.equal(out[kept], logits[kept])
        assert torch.equal(keeps_a_token(out), keeps_a_token(logits))


@FAST
@given(valid=st.sampled_from([TEMPERATURE, TOP_P, REPETITION_PENALTY, COVERAGE_PENALTY]), data=st.data())
def test_a_value_out_of_range_is_a_config_error_naming_the_range(valid, data):
    value = data.draw(out_of_range(valid))
    make = {
        TEMPERATURE: Temperature,
        TOP_P: TopP,
        REPETITION_PENALTY: RepetitionPenalty,
        COVERAGE_PENALTY: CoveragePenalty,
    }[valid]
    try:
        make(value)
    except ConfigError as error:
        assert valid.text in str(error)
    else:
        raise AssertionError(f"{make.__name__}({value!r}) was accepted")


# -- language-model generation -------------------------------------------------------------------


class TableModel:
    """A protocol-only language model whose step ``i`` returns ``table[i % len(table)]`` [B, V]."""

    def __init__(self, table: torch.Tensor) -> None:
        self.table, self.steps, self.training = table, 0, False

    def init_state(self, batch_size, device=None):
        return None

    def decode_step(self, tokens, state, memory=None):
        self.steps += 1
        return self.table[self.steps % self.table.shape[0]][: tokens.shape[0]].clone(), state, None

    def __call__(self, inputs, state):  # the forward that reads prompts: a decode_step per position
        steps = [self.decode_step(inputs[:, t], state)[0] for t in range(inputs.shape[1])]
        return torch.stack(steps, dim=1), state

    def eval(self):
        return self

    def train(self, mode=True):
        return self


LM_CONTROLS = st.fixed_dictionaries(
    {},
    optional={
        "temperature": in_range(TEMPERATURE),
        "top_k": st.integers(1, MAX_V + 2),
        "top_p": in_range(TOP_P),
        "repetition_penalty": in_range(REPETITION_PENALTY),
        "no_repeat_ngram": st.integers(1, 3),
        "min_length": st.integers(0, 10),
    },
)


@SEARCHES
@given(
    table=st.integers(6, MAX_V).flatmap(lambda v: arrays(np.float32, (3, 2, v), elements=LOGITS)),
    controls=LM_CONTROLS,
    sample=st.booleans(),
    stop_at_eos=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_generation_with_any_valid_controls_gives_valid_ids(table, controls, sample, stop_at_eos, seed):
    # the predictor's chain: <pad> and <bos> banned, then the controls; eos 3, pad 0 as in a Vocabulary
    vocab = table.shape[2]
    prompt = torch.tensor([[EOS, 5], [EOS, 4]])
    processors = build_processors(**controls, eos_id=EOS, prompt_length=2, banned=[0, 2])
    out = generate(
        TableModel(torch.from_numpy(table)), prompt, 20, processors, do_sample=sample,
        generator=torch.Generator().manual_seed(seed), eos_id=EOS, stop_at_eos=stop_at_eos, pad_id=0,
    )  # fmt: skip
    assert ((out >= 0) & (out < vocab)).all()
    for row in out[:, 2:].tolist():
        ended = row.index(0) if 0 in row else len(row)  # <pad> is banned: only an ended row has it
        assert all(token == 0 for token in row[ended:]) and 2 not in row
        if ended < len(row):
            assert row[ended - 1] == EOS


# -- Seq2Seq searches ----------------------------------------------------------------------------

S2S_CONTROLS = st.fixed_dictionaries(
    {
        "search": st.sampled_from(["greedy", "beam", "sample"]),
        "max_length": st.integers(0, 14),
        "min_length": st.integers(0, 14),
        "no_repeat_ngram": st.integers(0, 3),
        "repetition_penalty": in_range(REPETITION_PENALTY),
        "temperature": in_range(TEMPERATURE),
        "top_k": st.integers(0, 8),
        "top_p": in_range(TOP_P),
        "beam_size": st.integers(1, 4),
        "length_penalty": st.sampled_from(["none", "average", "gnmt"]),
        "alpha": st.floats(0, 10),
        "coverage_penalty": in_range(COVERAGE_PENALTY),
        "eos_bias": st.floats(-1e30, 1e30),
        "seed": st.integers(0, 2**16),
    }
)


@SEARCHES
@given(
    controls=S2S_CONTROLS,
    sources=st.lists(st.lists(st.integers(4, 7), min_size=1, max_size=5), min_size=1, max_size=3),
)
def test_seq2seq_search_with_any_valid_controls_ends_every_hypothesis(controls, sources):
    c = controls
    model = ToySeq2Seq(vocab_size=8, eos_bias=c["eos_bias"])
    src, src_lengths = make_batch(sources)
    memory = model.encode(src, src_lengths)
    max_lengths, min_lengths = length_limits(
        memory.lengths, max_length=c["max_length"], min_length=c["min_length"]
    )
    chain = build_processors(
        repetition_penalty=c["repetition_penalty"], no_repeat_ngram=c["no_repeat_ngram"] or None
    )
    common = dict(max_lengths=max_lengths, min_lengths=min_lengths, processors=chain, bos_id=BOS, eos_id=EOS)
    state = model.start_state(memory)
    if c["search"] == "beam":
        k, penalty = c["beam_size"], LengthPenalty(c["length_penalty"], c["alpha"])
        found = beam_search(
            model, memory, state, beam_size=k, n_best=k, length_penalty=penalty,
            coverage_penalty=c["coverage_penalty"], **common,
        )  # fmt: skip
    elif c["search"] == "sample":
        generator = torch.Generator().manual_seed(c["seed"])
        found = [[h] for h in sample_search(
            model, memory, state, temperature=c["temperature"], top_k=c["top_k"], top_p=c["top_p"],
            generator=generator, **common,
        )]  # fmt: skip
    else:
        found = [[h] for h in greedy_search(model, memory, state, **common)]
    assert len(found) == len(sources)
    for hyps in found:
        assert hyps
        for hyp in hyps:
            assert len(hyp.tokens) <= c["max_length"]
            assert all(4 <= t < 8 or t == 1 for t in hyp.tokens)  # never <pad>, <bos> or <eos> inside
            assert math.isfinite(hyp.score) and math.isfinite(hyp.log_prob)
        scores = [h.score for h in hyps]
        assert scores == sorted(scores, reverse=True)


@FAST
@given(
    lengths=st.lists(st.integers(0, 500), min_size=1, max_size=4),
    max_length=st.integers(0, 10_000),
    min_length=st.integers(0, 10_000),
    max_ratio=st.none() | st.floats(0, allow_infinity=False),
    min_ratio=st.none() | st.floats(0, allow_infinity=False),
)
def test_length_limits_stay_in_range_for_any_ratio(lengths, max_length, min_length, max_ratio, min_ratio):
    maximum, minimum = length_limits(
        torch.tensor(lengths), max_length=max_length, max_length_ratio=max_ratio,
        min_length=min_length, min_length_ratio=min_ratio,
    )  # fmt: skip
    assert ((maximum >= 0) & (maximum <= max_length)).all()
    assert ((minimum >= min_length) & (minimum <= max(min_length, max_length))).all()
