import pytest
import torch

from seqlab.errors import ConfigError
from seqlab.models.pooling import AttentionPooling, padding_mask, pool

LENGTHS = torch.tensor([3, 1, 5])


def padded_outputs(size: int = 4, seed: int = 0) -> torch.Tensor:
    """[3, 5, size] with large garbage at padding, which no mode may see."""
    torch.manual_seed(seed)
    outputs = torch.randn(3, 5, size)
    mask = padding_mask(LENGTHS, 5)
    return outputs.masked_fill(~mask.unsqueeze(-1), 1e6)


def test_padding_mask():
    assert padding_mask(LENGTHS, 5).tolist() == [
        [True, True, True, False, False],
        [True, False, False, False, False],
        [True, True, True, True, True],
    ]


@pytest.mark.parametrize("mode", ["last", "mean", "max"])
def test_modes_shape_and_masking(mode):
    outputs = padded_outputs()
    pooled = pool(outputs, LENGTHS, mode)
    assert pooled.shape == (3, 4)
    for row, length in enumerate(LENGTHS.tolist()):
        real = outputs[row, :length]
        expected = {"last": real[-1], "mean": real.mean(0), "max": real.max(0).values}[mode]
        torch.testing.assert_close(pooled[row], expected)


def test_last_bidirectional_takes_backward_state_at_position_zero():
    outputs = padded_outputs(size=6)
    pooled = pool(outputs, LENGTHS, "last", bidirectional=True)
    for row, length in enumerate(LENGTHS.tolist()):
        torch.testing.assert_close(pooled[row, :3], outputs[row, length - 1, :3])
        torch.testing.assert_close(pooled[row, 3:], outputs[row, 0, 3:])


def test_unknown_mode():
    with pytest.raises(ConfigError, match="'median'.*last, mean, max"):
        pool(padded_outputs(), LENGTHS, "median")


def test_attention_weights_sum_to_one_and_are_zero_on_padding():
    torch.manual_seed(0)
    attention = AttentionPooling(4)
    outputs = padded_outputs()
    pooled, weights = attention(outputs, LENGTHS)
    assert pooled.shape == (3, 4) and weights.shape == (3, 5)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3))
    mask = padding_mask(LENGTHS, 5)
    assert bool((weights[~mask] == 0).all())
    assert bool((weights[mask] > 0).all())
    assert torch.isfinite(pooled).all()
    for row, length in enumerate(LENGTHS.tolist()):
        torch.testing.assert_close(pooled[row], weights[row, :length] @ outputs[row, :length])


def test_attention_is_learned_additive_scoring():
    torch.manual_seed(0)
    attention = AttentionPooling(4, attention_size=7)
    outputs = torch.randn(2, 3, 4)
    pooled, weights = attention(outputs, torch.tensor([3, 3]))
    scores = attention.score(torch.tanh(attention.projection(outputs))).squeeze(-1)
    torch.testing.assert_close(weights, torch.softmax(scores, -1))
    pooled.pow(2).sum().backward()
    assert attention.projection.weight.grad.abs().sum() > 0
    assert attention.score.weight.grad.abs().sum() > 0
