"""Per-step matrix products whose weight gradient is computed once, as one product over all steps.

A recurrent loop multiplies the same weight ``W [In, Out]`` by a new input ``x_t [B, In]`` at every
step. Autograd's backward of each ``addmm`` then makes its own weight gradient ``x_t^T g_t``: a
``[In, B] x [B, Out]`` product with a short inner dimension (B), written to a fresh ``[In, Out]``
tensor and added into the running gradient, once per step. For the decoder's layers (In 1,024,
Out 2,048) that is 8 MB written and 16 MB read per step and layer, and products that run below the
machine's matrix-product speed.

Here the per-step backward computes only the input's gradient ``g_t W^T`` (which the previous step
needs) and keeps ``(x_t, g_t)``; the weight's gradient is made after the last step's backward, as
``[x_1; ...; x_T]^T [g_1; ...; g_T]``: one product with inner dimension B*T (what cuDNN's LSTM
backward does). Same sum, different order of additions: equal to autograd's up to rounding (tested).

Use: ``w = StepWeight(weight)`` once before the loop, then ``w.addmm(base, x_t)`` at every step.
Without gradients it is a plain ``torch.addmm``.

Under autocast (``training.amp: bf16``, on the CPU or CUDA) the weight is cast to the autocast dtype
once per loop (not once per step, as autocast would cast a non-leaf weight), each step's inputs and
bias to it, and every gradient goes back in its tensor's own dtype: the weight's through the cast, in
float32, as autocast's own products do.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable


class _Pairs:
    """The (input, output gradient) pairs of one weight's products, filled during backward."""

    def __init__(self) -> None:
        self.inputs: list[Tensor] = []
        self.grads: list[Tensor] = []


class _CollectWeight(torch.autograd.Function):
    """Forward: the weight itself (a view). Backward, which autograd runs only after every product
    that used the view has run its own: the weight gradient of all those products in one ``mm``."""

    @staticmethod
    def forward(ctx: FunctionCtx, weight: Tensor, pairs: _Pairs) -> Tensor:
        ctx.pairs = pairs  # type: ignore[attr-defined]
        ctx.set_materialize_grads(False)
        return weight.view_as(weight)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: Tensor | None) -> tuple[Tensor | None, None]:
        pairs: _Pairs = ctx.pairs
        if not pairs.inputs:
            return grad, None
        inputs = torch.cat(pairs.inputs) if len(pairs.inputs) > 1 else pairs.inputs[0]
        grads = torch.cat(pairs.grads) if len(pairs.grads) > 1 else pairs.grads[0]
        pairs.inputs.clear()
        pairs.grads.clear()
        weight_grad = inputs.t().mm(grads)  # [In, B*T] x [B*T, Out]
        if grad is not None:  # the view was also used outside StepWeight.addmm
            weight_grad += grad
        return weight_grad, None


class _StepAddmm(torch.autograd.Function):
    """``base + x @ w`` whose backward hands ``(x, grad)`` to the weight's collector."""

    @staticmethod
    def forward(ctx: FunctionCtx, base: Tensor, inputs: Tensor, weight: Tensor, pairs: _Pairs) -> Tensor:
        ctx.dtypes = (base.dtype, inputs.dtype)  # type: ignore[attr-defined]
        base, inputs = base.to(weight.dtype), inputs.to(weight.dtype)  # the weight's: autocast's
        ctx.save_for_backward(inputs, weight)
        ctx.pairs = pairs  # type: ignore[attr-defined]
        ctx.base_shape = base.shape  # type: ignore[attr-defined]
        return torch.addmm(base, inputs, weight)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None, None]:
        inputs, weight = ctx.saved_tensors
        grad = grad.to(weight.dtype)
        base_dtype, inputs_dtype = ctx.dtypes
        if ctx.needs_input_grad[2]:
            ctx.pairs.inputs.append(inputs)
            ctx.pairs.grads.append(grad)
        grad_inputs = grad.mm(weight.t()).to(inputs_dtype) if ctx.needs_input_grad[1] else None
        grad_base = None
        if ctx.needs_input_grad[0]:
            grad_base = grad
            while grad_base.dim() > len(ctx.base_shape):  # a broadcast bias [Out]
                grad_base = grad_base.sum(0)
            grad_base = grad_base.to(base_dtype)
        return grad_base, grad_inputs, None, None


class StepWeight:
    """One weight ``[In, Out]`` used at every step of a loop.

    Args:
        weight: the weight as the products use it (``x @ weight``); a view or expression of
            parameters is fine (its gradient flows back through it).
        defer: False leaves the gradient to autograd's per-product backward (the baseline the
            deferred gradient is benchmarked and tested against).
    """

    def __init__(self, weight: Tensor, defer: bool = True) -> None:
        device = weight.device.type
        if torch.is_autocast_enabled(device) and weight.is_floating_point():
            weight = weight.to(torch.get_autocast_dtype(device))  # once per loop; its backward casts back
        self.deferred = defer and torch.is_grad_enabled() and weight.requires_grad
        self._pairs = _Pairs()
        self.weight = _CollectWeight.apply(weight, self._pairs) if self.deferred else weight

    def addmm(self, base: Tensor, inputs: Tensor) -> Tensor:
        """base [B, Out] or [Out] + inputs [B, In] @ weight -> [B, Out]."""
        if self.deferred and torch.is_grad_enabled():
            return _StepAddmm.apply(base, inputs, self.weight, self._pairs)
        return torch.addmm(base, inputs, self.weight)
