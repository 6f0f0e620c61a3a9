import math
import re

import pytest
import torch

from seqlab.decoding.processors import (
    BanTokens,
    MinLength,
    NoRepeatNGram,
    ProcessorList,
    RepetitionPenalty,
    Temperature,
    TopK,
    TopP,
)
from seqlab.errors import ConfigError

NONE = torch.zeros(1, 0, dtype=torch.long)


@pytest.mark.parametrize(
    ("make", "name", "value"),
    [
        (lambda v: Temperature(v), "temperature", 0),
        (lambda v: Temperature(v), "temperature", -1.5),
        (lambda v: Temperature(v), "temperature", float("inf")),
        (lambda v: Temperature(v), "temperature", True),
        (lambda v: Temperature(v), "temperature", "1.0"),
        # values that once overflowed float32 into NaN and crashed sampling (issue 14)
        (lambda v: Temperature(v), "temperature", 1e-320),
        (lambda v: Temperature(v), "temperature", 1e308),
        (lambda v: Temperature(v), "temperature", 0.009),
        (lambda v: Temperature(v), "temperature", 100.5),
        (lambda v: TopK(v), "k", 0),
        (lambda v: TopK(v), "k", 2.5),
        (lambda v: TopK(v), "k", True),
        (lambda v: TopP(v), "p", 0.0),
        (lambda v: TopP(v), "p", 1.5),
        (lambda v: TopP(v), "p", float("nan")),
        (lambda v: TopP(v), "p", None),
        (lambda v: RepetitionPenalty(v), "penalty", 0.9),
        (lambda v: RepetitionPenalty(v), "penalty", False),
        (lambda v: RepetitionPenalty(v), "penalty", 1e308),
        (lambda v: NoRepeatNGram(v), "n", 0),
        (lambda v: NoRepeatNGram(v), "n", 2.0),
        (lambda v: MinLength(v, 3), "min_length", -1),
        (lambda v: MinLength(v, 3), "min_length", True),
        (lambda v: MinLength(2, v), "eos_id", -1),
        (lambda v: MinLength(2, v), "eos_id", "3"),
        (lambda v: ProcessorList([v]), r"processors\[0\]", 5),
    ],
)
def test_processors_reject_bad_arguments(make, name, value):
    with pytest.raises(ConfigError, match=rf"{name} = {re.escape(repr(value))}: must be"):
        make(value)


@pytest.mark.parametrize(
    ("make", "valid"),
    [
        (Temperature, "in [0.01, 100]"),
        (TopP, "in (0, 1]"),
        (RepetitionPenalty, "in [1, 100]"),
    ],
)
def test_range_errors_name_the_valid_range(make, valid):
    with pytest.raises(ConfigError, match=re.escape(valid)):
        make(1e308)


def test_temperature_sharpens_and_flattens():
    logits = torch.tensor([[2.0, 1.0, 0.0]])
    base = logits.softmax(-1)[0, 0]
    assert Temperature(0.5)(logits, NONE).softmax(-1)[0, 0] > base
    assert Temperature(2.0)(logits, NONE).softmax(-1)[0, 0] < base
    assert torch.equal(Temperature(1.0)(logits, NONE), logits)


@pytest.mark.parametrize("k", [1, 3, 5, 100])
def test_top_k_leaves_exactly_k_finite(k):
    logits = torch.randn(4, 10, generator=torch.Generator().manual_seed(0))
    out = TopK(k)(logits, NONE)
    assert (out.isfinite().sum(-1) == min(k, 10)).all()
    best = logits.topk(min(k, 10), dim=-1).indices
    assert torch.equal(out.gather(-1, best), logits.gather(-1, best))


def test_top_k_with_ties_still_keeps_exactly_k():
    assert TopK(2)(torch.zeros(1, 5), NONE).isfinite().sum() == 2


def test_top_p_keeps_the_nucleus():
    probs = torch.tensor([[0.5, 0.05, 0.3, 0.15]])
    logits = probs.log()
    kept = lambda p: TopP(p)(logits, NONE).isfinite()[0].tolist()  # noqa: E731
    assert kept(0.5) == [True, False, False, False]
    assert kept(0.6) == [True, False, True, False]
    assert kept(0.79) == [True, False, True, False]
    assert kept(0.81) == [True, False, True, True]
    assert kept(1.0) == [True, True, True, True]
    assert kept(0.01) == [True, False, False, False]  # at least one token


def test_top_p_rows_are_independent():
    logits = torch.tensor([[5.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    out = TopP(0.9)(logits, NONE)
    assert out.isfinite().sum(-1).tolist() == [1, 3]


def test_repetition_penalty_lowers_generated_tokens():
    logits = torch.tensor([[2.0, -1.0, 0.5, 1.0]])
    generated = torch.tensor([[0, 1, 1]])
    out = RepetitionPenalty(2.0)(logits, generated)
    assert out.tolist() == [[1.0, -2.0, 0.5, 1.0]]
    assert out.softmax(-1)[0, 0] < logits.softmax(-1)[0, 0]
    assert out.softmax(-1)[0, 1] < logits.softmax(-1)[0, 1]


def test_no_repeat_ngram_bans_the_completing_token():
    logits = torch.zeros(2, 6)
    generated = torch.tensor([[1, 2, 3, 1, 2], [1, 2, 3, 4, 5]])
    out = NoRepeatNGram(3)(logits, generated)
    assert out[0].isinf().nonzero().flatten().tolist() == [3]  # "1 2 3" exists; "1 2" ends the row
    assert out[1].isfinite().all()
    unigram = NoRepeatNGram(1)(torch.zeros(1, 6), torch.tensor([[4, 1, 4]]))
    assert unigram[0].isinf().nonzero().flatten().tolist() == [1, 4]
    assert NoRepeatNGram(2)(torch.zeros(1, 6), torch.tensor([[4]])).isfinite().all()


def test_min_length_bans_eos_until_reached():
    logits = torch.zeros(1, 5)
    eos = 3
    assert MinLength(3, eos)(logits, torch.tensor([[1, 2]]))[0, eos] == -math.inf
    assert MinLength(3, eos)(logits, torch.tensor([[1, 2, 4]]))[0, eos] == 0
    assert MinLength(2, eos, prompt_length=2)(logits, torch.tensor([[1, 2, 4]]))[0, eos] == -math.inf
    assert MinLength(3, eos)(logits, torch.tensor([[1, 2]])).isfinite().sum() == 4


def test_processor_list_applies_in_order_and_does_not_mutate_input():
    logits = torch.tensor([[4.0, 2.0, 1.0, 0.0]])
    original = logits.clone()
    processors = ProcessorList([Temperature(2.0), TopK(2), MinLength(5, 0)])
    out = processors(logits, torch.tensor([[1]]))
    assert out.isfinite()[0].tolist() == [False, True, False, False]
    assert out[0, 1] == 1.0
    assert torch.equal(logits, original)
    assert len(processors) == 3 and isinstance(next(iter(processors)), Temperature)


def test_ban_tokens_bans_exactly_those_ids():
    logits = torch.randn(2, 6)
    out = BanTokens([0, 4])(logits, NONE.expand(2, 0))
    assert torch.isneginf(out[:, [0, 4]]).all()
    assert torch.equal(out[:, [1, 2, 3, 5]], logits[:, [1, 2, 3, 5]])
    with pytest.raises(ConfigError, match="token_ids"):
        BanTokens([1, -2])


def test_processors_treat_each_row_of_the_beam_layout_with_its_own_history():
    # [sentences x beams, V] rows, each with its own history: a processor applied to all rows at once
    # equals it applied to each row alone.
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(12, 9, generator=g).log_softmax(-1)
    history = torch.randint(0, 9, (12, 7), generator=g)
    history[5] = torch.tensor([1, 2, 3, 1, 2, 3, 1])  # repeats: "3 1" and "1 2" are taken
    for processor in [
        NoRepeatNGram(1),
        NoRepeatNGram(2),
        NoRepeatNGram(3),
        RepetitionPenalty(1.7),
        TopK(3),
        TopP(0.6),
    ]:
        together = processor(logits, history)
        for row in range(12):
            alone = processor(logits[row : row + 1], history[row : row + 1])
            assert torch.equal(together[row : row + 1], alone), (processor, row)
    assert NoRepeatNGram(2)(logits, history)[5].isinf().tolist() == [i == 2 for i in range(9)]


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_no_repeat_ngram_tensor_path_equals_the_reference(n):
    g = torch.Generator().manual_seed(n)
    processor = NoRepeatNGram(n)
    for length in range(10):
        history = torch.randint(0, 4, (30, length), generator=g)
        mask = processor.banned_mask(history, 5)
        for row, tokens in enumerate(history.tolist()):
            assert set(mask[row].nonzero().flatten().tolist()) == processor.banned_tokens(tokens)
