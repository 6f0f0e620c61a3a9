"""StepWeight: per-step products whose weight gradient is one product after the loop equal autograd's."""

import pytest
import torch

from seqlab.models.step_products import StepWeight


def loop(weight, base, inputs, deferred, extra_use=False):
    """A recurrence over T steps: h_t = tanh(base_t + [x_t; h_{t-1}] @ weight) -> sum of squares."""
    step = StepWeight(weight) if deferred else None
    h = inputs.new_zeros(inputs.shape[1], weight.shape[1])
    total = 0
    for t in range(inputs.shape[0]):
        x = torch.cat([inputs[t], h], dim=1)
        b = base[t] if base.dim() == 3 else base
        h = torch.tanh(step.addmm(b, x) if step is not None else torch.addmm(b, x, weight))
        total = total + h.square().sum()
    if extra_use:  # the weight also used outside the loop's products
        w = step.weight if step is not None else weight
        total = total + w.sin().sum()
    return total


def make_leaves(seed, bias_shape, steps, batch, size, hidden):
    """[weight [size + hidden, hidden], base [hidden] ("row") or [steps, batch, hidden], inputs
    [steps, batch, size]], all requiring gradients."""
    torch.manual_seed(seed)
    weight = torch.randn(size + hidden, hidden, requires_grad=True)
    base = torch.randn(hidden if bias_shape == "row" else (steps, batch, hidden), requires_grad=True)
    return [weight, base, torch.randn(steps, batch, size, requires_grad=True)]


@pytest.mark.parametrize(("bias_shape", "extra_use"), [("row", False), ("per_step", False), ("row", True)])
def test_gradients_equal_autograd(bias_shape, extra_use):
    weight, base, inputs = leaves = make_leaves(0, bias_shape, steps=5, batch=3, size=4, hidden=6)
    expected = torch.autograd.grad(loop(weight, base, inputs, False, extra_use), leaves)
    got = torch.autograd.grad(loop(weight, base, inputs, True, extra_use), leaves)
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_backward_twice_through_a_retained_graph():
    torch.manual_seed(1)
    weight = torch.randn(7, 3, requires_grad=True)
    base = torch.randn(3)
    inputs = torch.randn(4, 2, 4)
    total = loop(weight, base, inputs, True)
    total.backward(retain_graph=True)
    first = weight.grad.clone()
    total.backward()
    torch.testing.assert_close(weight.grad, 2 * first)


def test_plain_product_without_gradients():
    weight = torch.randn(5, 3, requires_grad=True)
    with torch.no_grad():
        step = StepWeight(weight)
        out = step.addmm(torch.zeros(3), torch.randn(2, 5))
    assert not step.deferred
    assert step.weight is weight
    assert not out.requires_grad


@pytest.mark.parametrize("bias_shape", ["row", "per_step"])
def test_under_bf16_autocast_the_products_run_in_bf16_and_gradients_match_autocast_s_own(bias_shape):
    # training.amp: bf16 on the CPU: the deferred products against autocast's own addmm, each
    # gradient in its leaf's dtype (float32)
    batch, size, hidden = 4, 5, 8
    weight, base, inputs = leaves = make_leaves(2, bias_shape, steps=6, batch=batch, size=size, hidden=hidden)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected = torch.autograd.grad(loop(weight, base, inputs, False), leaves)
        step = StepWeight(weight)
        assert step.weight.dtype == torch.bfloat16
        assert step.addmm(base if base.dim() == 1 else base[0], torch.randn(batch, size + hidden)).dtype == (
            torch.bfloat16
        )
        got = torch.autograd.grad(loop(weight, base, inputs, True), leaves)
    for a, b, leaf in zip(got, expected, leaves, strict=True):
        assert a.dtype == b.dtype == leaf.dtype == torch.float32
        torch.testing.assert_close(a, b, atol=0.1, rtol=0.05)  # bf16: 8 bits of mantissa
