import math
import re

import pytest
import torch

from seqlab.decoding import RepetitionPenalty, length_limits
from seqlab.decoding.step import next_token_scores
from seqlab.errors import ConfigError


def test_length_limits_the_tighter_bound_wins():
    source_lengths = torch.tensor([1, 4, 10, 30])
    maximum, minimum = length_limits(
        source_lengths, max_length=20, max_length_ratio=1.5, min_length=2, min_length_ratio=0.5
    )
    assert maximum.tolist() == [2, 6, 15, 20]  # min(20, ceil(1.5 * n))
    assert minimum.tolist() == [2, 2, 5, 15]  # max(2, floor(0.5 * n))
    maximum, minimum = length_limits(source_lengths, max_length=7)
    assert maximum.tolist() == [7] * 4 and minimum.tolist() == [0] * 4


def test_length_limits_with_huge_ratios_stay_in_range():
    # 1e308 * n overflowed the cast to int64: the maximum became -2**63, the minimum 0 (issue 14)
    source_lengths = torch.tensor([1, 4])
    maximum, minimum = length_limits(
        source_lengths, max_length=20, max_length_ratio=1e308, min_length=2, min_length_ratio=1e308
    )
    assert maximum.tolist() == [20, 20]
    assert minimum.tolist() == [20, 20]  # the minimum exceeds the maximum: the maximum wins
    maximum, minimum = length_limits(source_lengths, max_length=20, max_length_ratio=1e-320)
    assert maximum.tolist() == [1, 1] and minimum.tolist() == [0, 0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(max_length=-1), "max_length = -1"),
        (dict(max_length=5, min_length=1.5), "min_length = 1.5"),
        (dict(max_length=5, max_length_ratio=-2.0), "max_length_ratio = -2.0"),
        (dict(max_length=5, min_length_ratio="1"), "min_length_ratio = '1'"),
    ],
)
def test_length_limits_reject_bad_values(kwargs, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        length_limits(torch.tensor([3]), **kwargs)


def test_step_rules_ban_force_and_keep_log_probs():
    logits = torch.tensor([[0.0, 1.0, 2.0, 0.5, 3.0], [0.0, 1.0, 2.0, 0.5, 3.0], [0.0, 1.0, 2.0, 0.5, 3.0]])
    history = torch.tensor([[4], [4], [4]])
    eos = 3
    log_probs, scores = next_token_scores(
        logits,
        history,
        step=1,
        min_lengths=torch.tensor([2, 0, 0]),
        max_lengths=torch.tensor([5, 5, 1]),
        processors=RepetitionPenalty(2.0),
        eos_id=eos,
        banned=[0, 2],
    )
    assert torch.allclose(log_probs, logits.log_softmax(-1))
    assert scores[:, [0, 2]].eq(-math.inf).all()  # banned ids
    assert scores[0, eos] == -math.inf  # row 0 is shorter than its minimum
    assert scores[1, eos] == log_probs[1, eos]
    assert scores[1, 4] == pytest.approx(log_probs[1, 4] * 2.0)  # the processor saw the row's history
    assert (
        scores[2, eos] == log_probs[2, eos] and scores[2].isfinite().sum() == 1
    )  # at its maximum: <eos> only
