"""int8 decoding of a Seq2Seq model: which products run in int8, and where int8 does not apply.

:func:`quantize_seq2seq` turns a loaded :class:`~seqlab.models.seq2seq.Seq2SeqModel` into an
inference-only int8 model, in place: the same ``encode`` / ``decode_step`` protocol and the same
search, only the weights of these products come packed in int8
(:mod:`seqlab.models.int8_products`, fixed input scale, so a sentence decodes the same alone and in
a batch):

- ``steps``: the decoder LSTM's per-step product ``[step input; h] x W`` of every layer
  (:class:`~seqlab.models.lstm_steps.LSTMSteps`), inputs: LSTM outputs, attention contexts, the
  input feed (``tanh``);
- ``combine``: the attentional layer ``tanh(W [h; c])``, inputs ``h`` and the context;
- ``output``: the output layer over the decoder features (``tanh`` or LSTM outputs); a tying
  projection (``pre_output``) is folded into it, one product ``W_out W_pre``;
- ``attention``: the additive / concat query projection (input ``h``) and the key projection of the
  encoder states (LSTM outputs, once per sentence);
- ``bridge``: the encoder's final ``h`` to the decoder's first ``h`` (once per sentence).

They stay float32, each for a reason: the embeddings and the decoder's token-gate table (lookups, no
product); the bridge's cell-state map and the copy-attention gate (their inputs, a cell state and
an embedding, are not bounded by 1; the gate has one output); the additive score's ``v`` (one
output column, a matrix-vector product); and the encoder's ``nn.LSTM``. PyTorch's int8 LSTM
(``quantize_dynamic``) quantizes each step's input with the batch's own range, so a sentence's
encoding would depend on its batch (and its first layer reads embeddings); it runs once per
sentence, and measured alone it was 0.8-1.2x the float32 LSTM at the G2P models' size and about
1.5x at the peers benchmark's (``bench/int8_products.py``, docs/benchmarks.md).

:func:`int8_refusal` says in one line why int8 does not apply (another device than the CPU, a GRU
or tanh-RNN model, a PyTorch build without the x86 kernels); the caller refuses or decodes in
float32 saying so, never silently.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from seqlab.models.int8_products import Int8Linear, int8_kernels_missing
from seqlab.models.seq2seq import Seq2SeqModel

INT8_PARTS = ("steps", "combine", "output", "attention", "bridge")
"""The groups of products :func:`quantize_seq2seq` can put in int8 (see the module doc)."""


def int8_refusal(model: nn.Module, device: torch.device | str) -> str | None:
    """Why int8 decoding does not apply to ``model`` on ``device`` (one line), or None."""
    device = torch.device(device)
    if device.type != "cpu":
        return f"int8 decoding runs on the CPU only (device is {device})"
    if not isinstance(model, Seq2SeqModel):
        return f"int8 decoding is for Seq2Seq models (got {type(model).__name__})"
    for part, rnn in (("encoder", model.encoder.rnn), ("decoder", model.decoder.rnn)):
        if not isinstance(rnn, nn.LSTM):
            return f"int8 decoding quantizes LSTM models (the {part} is a {type(rnn).__name__})"
    return int8_kernels_missing()


def quantize_seq2seq(model: Seq2SeqModel, parts: Iterable[str] = INT8_PARTS) -> list[str]:
    """Put ``parts`` (names of :data:`INT8_PARTS`) of ``model`` in int8, in place; the model is put
    in eval mode and is for inference from then on (no gradients, no training mode). Returns the
    names of the modules whose products now run in int8. ValueError when :func:`int8_refusal`
    gives a reason or a part is unknown."""
    parts = tuple(parts)
    unknown = [part for part in parts if part not in INT8_PARTS]
    if unknown:
        raise ValueError(f"int8 parts {unknown}: must be among {', '.join(INT8_PARTS)}")
    device = next(model.parameters()).device
    reason = int8_refusal(model, device)
    if reason is not None:
        raise ValueError(reason)
    model.eval()
    done = []
    decoder = model.decoder
    if "steps" in parts:
        decoder.int8 = True
        done.append("decoder.rnn (steps)")
    if "combine" in parts and isinstance(decoder.combine, nn.Linear):
        decoder.combine = Int8Linear.from_linear(decoder.combine)
        done.append("decoder.combine")
    if "output" in parts:
        done.extend(_quantize_output(model))
    attention = decoder.attention
    if "attention" in parts and attention is not None:
        for name in ("query_proj", "key_proj"):
            layer = getattr(attention, name)
            if isinstance(layer, nn.Linear):
                setattr(attention, name, Int8Linear.from_linear(layer))
                done.append(f"decoder.attention.{name}")
    if "bridge" in parts and isinstance(model.bridge.h_proj, nn.Linear):
        model.bridge.h_proj = Int8Linear.from_linear(model.bridge.h_proj)
        done.append("bridge.h_proj")
    return done


def _quantize_output(model: Seq2SeqModel) -> list[str]:
    """The output layer in int8, a tying projection folded in: ``W_out (W_pre f) + b`` is one
    product ``(W_out W_pre) f + b`` over the bounded features ``f``."""
    output = model.output
    if not isinstance(output, nn.Linear):
        return []
    weight = output.weight.detach()
    names = ["output"]
    if isinstance(model.pre_output, nn.Linear):
        weight = weight @ model.pre_output.weight.detach()  # [V, E] x [E, F] -> [V, F]
        model.pre_output = None
        names.append("pre_output (folded into output)")
    model.output = Int8Linear(weight, output.bias)  # type: ignore[assignment]
    return names
