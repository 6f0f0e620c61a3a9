"""Attention: rows sum to one over real source tokens, exactly zero at padding, padding changes no
weight, every score function batches all target steps at once."""

import pytest
import torch

from seqlab.errors import ConfigError
from seqlab.models.attention import Attention, masked_softmax


@pytest.fixture(autouse=True)
def seed():
    torch.manual_seed(0)


def test_masked_softmax_rows_sum_to_one_and_padding_is_exactly_zero():
    scores = torch.randn(3, 4, 5) * 10
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [1, 0, 0, 0, 0]], dtype=torch.bool)
    weights = masked_softmax(scores, mask)
    assert torch.allclose(weights.sum(-1), torch.ones(3, 4))
    assert bool((weights[1, :, 2:] == 0).all()) and bool((weights[2, :, 1:] == 0).all())
    assert torch.allclose(weights[2, :, 0], torch.ones(4))


@pytest.mark.parametrize("score", ["dot", "general", "concat", "additive"])
def test_scores_ignore_padding_and_batch_over_steps(score):
    attention = Attention(score, query_size=6, memory_size=6)
    states = torch.randn(2, 5, 6)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    query = torch.randn(2, 4, 6)
    context, weights = attention(query, states, mask)
    assert context.shape == (2, 4, 6) and weights.shape == (2, 4, 5)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 4), atol=1e-6)
    assert bool((weights[0, :, 3:] == 0).all())
    # the padded sentence alone, without its padding, gets the same weights and context
    alone_context, alone = attention(query[:1], states[:1, :3], mask[:1, :3])
    assert torch.allclose(alone, weights[:1, :, :3], atol=1e-6)
    assert torch.allclose(alone_context, context[:1], atol=1e-6)
    # changing what sits in the padding changes nothing
    noisy = states.clone()
    noisy[0, 3:] = 100.0
    assert torch.allclose(attention(query, noisy, mask)[1], weights, atol=1e-6)
    # all steps at once equals one step at a time, with and without the cached keys
    keys = attention.keys(states)
    for t in range(4):
        one_context, one = attention(query[:, t : t + 1], states, mask, keys)
        assert torch.allclose(one[:, 0], weights[:, t], atol=1e-6)
        assert torch.allclose(one_context[:, 0], context[:, t], atol=1e-6)


def test_bad_scores_are_refused():
    with pytest.raises(ConfigError, match="must be one of"):
        Attention("cosine", 4, 4)
    with pytest.raises(ConfigError, match="as wide"):
        Attention("dot", 4, 8)


@pytest.mark.parametrize("score", ["dot", "general", "concat", "additive"])
def test_coverage_enters_every_score_and_a_zero_weight_changes_nothing(score):
    torch.manual_seed(0)
    plain = Attention(score, query_size=6, memory_size=6)
    covered = Attention(score, query_size=6, memory_size=6, coverage=True)
    result = covered.load_state_dict(plain.state_dict(), strict=False)
    assert result.missing_keys == ["coverage"]
    states, query = torch.randn(2, 5, 6), torch.randn(2, 3, 6)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    coverage = torch.rand(2, 3, 5) * mask.unsqueeze(1)
    _, expected = plain(query, states, mask)
    _, weights = covered(query, states, mask, coverage=coverage)
    torch.testing.assert_close(weights, expected)
    with torch.no_grad():
        covered.coverage.fill_(-3.0)  # a negative weight turns attention away from covered tokens
    _, away = covered(query, states, mask, coverage=coverage)
    assert not torch.allclose(away, expected)
    assert bool((away[0, :, 3:] == 0).all())  # padding stays exactly zero
    with pytest.raises(ValueError, match="coverage"):
        covered(query, states, mask)
