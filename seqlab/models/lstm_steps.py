"""An ``nn.LSTM`` run one position at a time with plain matrix products: the decoder's step path.

Decoders whose input at step t depends on step t-1 (Luong input feeding, Bahdanau attention, and
every decoder at inference) cannot hand the whole target to one fused ``nn.LSTM`` call. Calling
``nn.LSTM`` on a length-1 sequence for every step works, but on CPU each call pays the fused
kernel's set-up (and its backward is slow for one position). :class:`LSTMSteps` computes the same
cell from the same parameters with one ``addmm`` per layer and step, and splits layer 0's input
projection so the part that depends only on the known tokens (the token embedding) is computed
for all positions at once, outside the loop (:meth:`LSTMSteps.project_tokens`). In training, the
backward makes each layer's weight gradient once, as one product over all steps
(:class:`seqlab.models.step_products.StepWeight`), not one small product per step.

The gates follow ``nn.LSTM``'s layout (input, forget, cell, output) and its dropout between layers,
so both give the same numbers on the same weights (tested). Other cells (GRU, tanh RNN) keep the
``nn.LSTM``-style module call.

``int8=True`` (inference only, int8 decoding): each layer's step product runs in int8
(:class:`seqlab.models.int8_products.Int8StepWeight`); its inputs, LSTM outputs and the decoder's
bounded step inputs, lie in [-1, 1]. The token share (:meth:`LSTMSteps.project_tokens`) reads
embeddings, which are not bounded, and stays float32 (at inference it is a table lookup anyway).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.models.int8_products import Int8StepWeight
from seqlab.models.step_products import StepWeight


class LSTMSteps:
    """The weights of ``lstm`` arranged for stepping (built once per forward pass or decode).

    Args:
        lstm: a unidirectional, batch-first ``nn.LSTM`` (no projections).
        token_size: E, how many leading input features of layer 0 are the token embedding (the
            part :meth:`project_tokens` computes ahead of the loop); the rest of the input
            (attention context, input feed) comes with each :meth:`step`.
        training: apply ``lstm.dropout`` between layers (as ``nn.LSTM`` does in training mode).
        stack_weight_grads: make each layer's weight gradient one product over all steps
            (:class:`StepWeight`); False: one per step (autograd's own, the benchmark baseline).
        int8: the step products in int8 (inference only: no dropout, no gradients).
    """

    def __init__(
        self,
        lstm: nn.LSTM,
        token_size: int,
        training: bool,
        stack_weight_grads: bool = True,
        int8: bool = False,
    ) -> None:
        if lstm.bidirectional or lstm.proj_size:
            raise ValueError("LSTMSteps: only a unidirectional LSTM without projections")
        if int8 and training:
            raise ValueError("LSTMSteps: int8 steps are for inference (training is False)")
        if not 0 < token_size <= lstm.input_size:
            raise ValueError(f"token_size = {token_size}: must be in [1, input_size = {lstm.input_size}]")
        self.num_layers = lstm.num_layers
        self.dropout = lstm.dropout if training else 0.0
        self.token_size = token_size
        w_ih0 = lstm.weight_ih_l0
        self.token_weight = w_ih0[:, :token_size]  # [4H, E]
        self.bias0 = self._bias(lstm, 0)  # [4H]
        # per layer: the weight of [step input ; h] -> gates, transposed: [In' + H, 4H]; while
        # gradients flow, its gradient is one product over all steps (StepWeight)
        self.step_weights: list[StepWeight | Int8StepWeight] = []
        self.biases: list[Tensor | None] = [None]
        for layer in range(self.num_layers):
            w_ih = w_ih0[:, token_size:] if layer == 0 else getattr(lstm, f"weight_ih_l{layer}")
            w_hh = getattr(lstm, f"weight_hh_l{layer}")
            weight = torch.cat([w_ih, w_hh], dim=1).t()
            if layer:
                self.biases.append(self._bias(lstm, layer))
            if int8:  # layers above the first add a fixed bias: packed with the weight
                self.step_weights.append(Int8StepWeight(weight, self.biases[layer]))
            else:
                self.step_weights.append(StepWeight(weight, defer=stack_weight_grads))

    @staticmethod
    def _bias(lstm: nn.LSTM, layer: int) -> Tensor:
        if not lstm.bias:
            return lstm.weight_ih_l0.new_zeros(4 * lstm.hidden_size)
        return getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")

    def project_tokens(self, embedded: Tensor) -> Tensor:
        """embedded: [..., E] token embeddings -> their share of layer 0's gates [..., 4H] (bias
        included). For a whole target [B, T, E] this is one matrix product ahead of the loop."""
        return F.linear(embedded, self.token_weight, self.bias0)

    def step(
        self, token_gates: Tensor, extra: Tensor | None, h: Tensor, c: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        """One position.

        token_gates: [B, 4H] from :meth:`project_tokens`; extra: [B, In - E] (the rest of layer
        0's input) or None when E = In; h, c: [L, B, H].
        Returns the top layer's output [B, H] and the new h, c [L, B, H].
        """
        hs, cs = [], []
        x = extra
        for layer in range(self.num_layers):
            h_prev, c_prev = h[layer], c[layer]
            inputs = h_prev if x is None else torch.cat([x, h_prev], dim=1)
            base = token_gates if layer == 0 else self.biases[layer]
            gates = self.step_weights[layer].addmm(base, inputs)
            i, f, g, o = gates.chunk(4, dim=1)
            c_new = torch.sigmoid(f) * c_prev + torch.sigmoid(i) * torch.tanh(g)
            h_new = torch.sigmoid(o) * torch.tanh(c_new)
            hs.append(h_new)
            cs.append(c_new)
            x = h_new
            if self.dropout and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)
        return hs[-1], torch.stack(hs), torch.stack(cs)
