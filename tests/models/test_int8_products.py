"""int8 products: close to the float32 product for inputs in [-1, 1], each row's result independent
of its batch, a packed bias used as is; a build without the x86 kernels named in one line."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from seqlab.models.int8_products import Int8Linear, Int8StepWeight, int8_kernels_missing

pytestmark = pytest.mark.skipif(int8_kernels_missing() is not None, reason="no x86 int8 kernels")


def bounded(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_int8_linear_is_close_to_the_float_layer_and_keeps_leading_dimensions():
    torch.manual_seed(0)
    linear = nn.Linear(64, 48)
    x = bounded(3, 5, 64)
    expected = linear(x).detach()
    got = Int8Linear.from_linear(linear)(x)
    assert got.shape == (3, 5, 48) and got.dtype == torch.float32
    # inputs in steps of 1/63, weights in steps of max|w_row|/127: a few hundredths here
    assert (got - expected).abs().max() < 0.05 * expected.abs().max()
    assert (got - expected).abs().max() > 0  # it is a different product, not the float one


def test_a_wider_input_range_is_clamped_so_the_layer_is_only_for_bounded_inputs():
    linear = nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[1.0, 0.0, 0.0, 0.0]]))
    layer = Int8Linear.from_linear(linear)
    inside = layer(torch.tensor([[0.5, 0.0, 0.0, 0.0]]))
    outside = layer(torch.tensor([[5.0, 0.0, 0.0, 0.0]]))
    assert inside.item() == pytest.approx(0.5, abs=1 / 63)
    assert outside.item() == pytest.approx((255 - 64) / 63, abs=1e-3)  # uint8's top: 5 is read as 3.03


@given(rows=st.integers(1, 40), pick=st.integers(0, 39), seed=st.integers(0, 2**16))
def test_each_rows_result_is_the_same_alone_and_in_any_batch(rows, pick, seed):
    torch.manual_seed(seed)
    layer = Int8Linear.from_linear(nn.Linear(24, 12))
    x = bounded(rows, 24, seed=seed)
    x[0] *= 0.01  # rows of very different ranges: a per-batch input scale would change the others
    row = pick % rows
    assert torch.equal(layer(x)[row], layer(x[row : row + 1])[0])


def test_step_weight_adds_its_base_or_uses_the_bias_packed_with_it():
    torch.manual_seed(1)
    weight = torch.randn(16, 20) * 0.2  # [In, Out], as StepWeight takes it
    bias = torch.randn(20)
    x = bounded(6, 16)
    expected = torch.addmm(bias, x, weight)
    base = torch.randn(6, 20)
    plain = Int8StepWeight(weight)
    assert (plain.addmm(base, x) - torch.addmm(base, x, weight)).abs().max() < 0.05
    packed = Int8StepWeight(weight, bias)
    assert (packed.addmm(bias, x) - expected).abs().max() < 0.05
    assert (packed.addmm(base, x) - torch.addmm(base, x, weight)).abs().max() < 0.05  # another base


def test_a_build_without_the_kernels_is_named_in_one_line():
    message = int8_kernels_missing(["qnnpack", "none"])
    assert message is not None and "\n" not in message
    assert "x86" in message and "qnnpack" in message
