import math
import re

import pytest
import torch

from seqlab.decoding import CoveragePenalty, LengthPenalty
from seqlab.errors import ConfigError


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: LengthPenalty("wu"), "length_penalty = 'wu': must be one of none, average, gnmt"),
        (lambda: LengthPenalty("gnmt", -0.1), "alpha = -0.1: must be"),
        (lambda: LengthPenalty("gnmt", float("nan")), "alpha = nan: must be"),
        (lambda: LengthPenalty("gnmt", True), "alpha = True: must be"),
        (lambda: CoveragePenalty(-0.2), "coverage_penalty = -0.2: must be"),
        (lambda: CoveragePenalty("0.2"), "coverage_penalty = '0.2': must be"),
        # 1e308 is inf in float32: inf * 0 made a NaN score (issue 14)
        (lambda: CoveragePenalty(1e308), "coverage_penalty = 1e+308: must be a number in [0, 100]"),
    ],
)
def test_penalties_reject_bad_arguments(make, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        make()


def test_length_penalty_formulas():
    log_prob = torch.tensor([-3.0, -3.0, -7.5])
    length = torch.tensor([1, 4, 9])
    assert torch.equal(LengthPenalty("none")(log_prob, length), log_prob)
    assert torch.allclose(LengthPenalty("average")(log_prob, length), torch.tensor([-3.0, -0.75, -7.5 / 9]))
    gnmt = LengthPenalty("gnmt", 0.6)(log_prob, length)
    expected = [lp / ((5 + n) / 6) ** 0.6 for lp, n in zip([-3.0, -3.0, -7.5], [1, 4, 9], strict=True)]
    assert gnmt.tolist() == pytest.approx(expected)
    assert LengthPenalty("gnmt", 0.6)(log_prob, 1).tolist() == pytest.approx([-3.0, -3.0, -7.5])  # lp(1) = 1
    assert torch.equal(LengthPenalty("gnmt", 0.0)(log_prob, length), log_prob)


def test_length_penalty_favours_longer_hypotheses():
    short, long = torch.tensor([-2.0]), torch.tensor([-2.4])
    assert LengthPenalty("none")(short, 3) > LengthPenalty("none")(long, 6)
    assert LengthPenalty("gnmt", 1.0)(short, 3) < LengthPenalty("gnmt", 1.0)(long, 6)


def test_coverage_penalty_formula_ignores_padding():
    attention_sum = torch.tensor([[0.5, 2.0, 0.25, 0.0], [1.0, 1.0, 3.0, 0.9]])
    mask = torch.tensor([[True, True, True, False], [True, True, True, True]])
    penalty = CoveragePenalty(0.4)(attention_sum, mask)
    expected = [0.4 * (math.log(0.5) + 0.0 + math.log(0.25)), 0.4 * math.log(0.9)]
    assert penalty.tolist() == pytest.approx(expected)
    assert torch.equal(CoveragePenalty(0.0)(attention_sum, mask), torch.zeros(2))
