"""int8 matrix products for decoding: weights quantized once, inputs quantized with a fixed scale.

PyTorch's dynamic quantization (``quantize_dynamic``, ``quantized::linear_dynamic``) quantizes each
call's input with a scale taken from that input's own range, over the whole batch: a sentence's
output then depends on the other sentences in its batch (batched and unbatched search can differ).
The products here quantize the input with one fixed scale instead, ``[-1, 1]`` onto the 7-bit
codes 1..127 (:data:`INPUT_SCALE`, :data:`INPUT_ZERO_POINT`), so each row's result depends on that
row alone. This is only for inputs bounded by 1 in absolute value (a larger one is read wrongly:
clamped, or past 127 where AVX2's sums may saturate), which is what the decoder's products read:
LSTM outputs ``h = o * tanh(c)``, ``tanh`` features, and attention contexts (weighted means of
encoder LSTM outputs). :mod:`seqlab.models.quantize` lists which layers qualify; a layer
whose input is unbounded (an embedding, a cell state) stays float32.

The weights are quantized symmetrically per output row (int8, scale ``max |w_row| / 127``); the
kernel is fbgemm's (x86), the one PyTorch's dynamic quantization runs: uint8 inputs x int8 weights
with int32 sums, then float32 out with the bias added. 7-bit input codes (as PyTorch's x86 dynamic
quantization uses, ``reduce_range``) keep AVX2's pairwise uint8 x int8 sums from saturating 16 bits.

PyTorch marks its quantized-tensor constructors deprecated (the ``torch.ao`` quantization stack is
moving to ``torchao``); the warning is silenced where a weight is packed, once per layer.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
from torch import Tensor, nn

INPUT_SCALE = 1.0 / 63.0
INPUT_ZERO_POINT = 64
"""Every int8 product's input is quantized as ``round(x / INPUT_SCALE) + INPUT_ZERO_POINT``: [-1, 1]
in steps of 1/63 onto the codes 1..127, the same for every row and call."""

ENGINES = ("x86", "fbgemm")
"""The quantized engines whose kernels these products use."""


def int8_kernels_missing(engines: Sequence[str] | None = None) -> str | None:
    """Why this PyTorch build cannot run the int8 products (one line), or None when it can.
    ``engines``: the quantized engines to judge (default: this build's)."""
    engines = list(torch.backends.quantized.supported_engines if engines is None else engines)
    if not any(engine in engines for engine in ENGINES):
        return f"int8 decoding needs PyTorch's x86 int8 kernels (fbgemm); this build has {', '.join(engines)}"
    if not hasattr(torch.ops.quantized, "linear_with_input_q_dq_qweight_dq_output_fp32"):
        return "int8 decoding needs quantized::linear_with_input_q_dq_qweight_dq_output_fp32 (PyTorch >= 2.2)"
    return None


def pack_weight(weight: Tensor, bias: Tensor | None = None) -> torch.ScriptObject:
    """weight FloatTensor[Out, In] (and bias [Out]) -> fbgemm's packed int8 weight, each output row
    quantized with its own scale ``max |w_row| / 127`` (zero point 0)."""
    weight = weight.detach().float().cpu().contiguous()
    scales = (weight.abs().amax(dim=1) / 127.0).clamp(min=1e-12).double()
    zeros = torch.zeros(weight.shape[0], dtype=torch.long)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # quantized tensors are deprecated (see the module doc)
        quantized = torch.quantize_per_channel(weight, scales, zeros, 0, torch.qint8)
        return torch.ops.quantized.linear_prepack(
            quantized, None if bias is None else bias.detach().float().cpu()
        )


def int8_linear(inputs: Tensor, packed: torch.ScriptObject) -> Tensor:
    """inputs FloatTensor[..., In] (values in [-1, 1]) x the packed weight -> FloatTensor[..., Out]
    (plus its bias). Each row's result depends on that row alone."""
    return torch.ops.quantized.linear_with_input_q_dq_qweight_dq_output_fp32(
        inputs, INPUT_SCALE, INPUT_ZERO_POINT, packed
    )


class Int8Linear(nn.Module):
    """An ``nn.Linear`` frozen for inference, its product in int8. For inputs in [-1, 1] only (see
    the module doc); no gradients. ``forward``: [..., In] -> [..., Out]."""

    def __init__(self, weight: Tensor, bias: Tensor | None) -> None:
        super().__init__()
        self.in_features = weight.shape[1]
        self.out_features = weight.shape[0]
        self.packed = pack_weight(weight, bias)

    @classmethod
    def from_linear(cls, linear: nn.Linear) -> Int8Linear:
        return cls(linear.weight, linear.bias)

    def forward(self, inputs: Tensor) -> Tensor:
        return int8_linear(inputs, self.packed)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, int8"


class Int8StepWeight:
    """:class:`~seqlab.models.step_products.StepWeight`'s inference side in int8: one weight
    ``[In, Out]`` multiplied at every step of a loop (the decoder's LSTM steps).

    ``bias`` [Out]: packed with the weight when every product adds the same bias, so
    :meth:`addmm` given that bias (the same tensor) as ``base`` skips the addition.
    """

    def __init__(self, weight: Tensor, bias: Tensor | None = None) -> None:
        self.bias = bias
        self.packed = pack_weight(weight.t(), bias)

    def addmm(self, base: Tensor, inputs: Tensor) -> Tensor:
        """base [B, Out] or [Out] + inputs [B, In] (values in [-1, 1]) @ weight -> [B, Out]."""
        out = int8_linear(inputs, self.packed)
        if self.bias is None:
            return out.add_(base)
        return out if base is self.bias else out.add_(base).sub_(self.bias)
