"""Export-friendly Seq2Seq: the encoder run once per sentence, then the decoder one step at a time.

- ``encoder``: ``(src[B, S], src_lengths[B]) -> states[B, S, He]`` [, ``keys[B, S, K]``] and the
  decoder's first state: ``h[L, B, Hd]`` [, ``c``] [, ``feed[B, Hd]``] [, ``context[B, He]``];
- ``decoder_step``: ``(tokens[B], h [, c] [, feed] [, context], states [, keys], src_lengths) ->
  logits[B, V], h_out [, c_out] [, feed_out]`` [, ``attention[B, S]``].

Which of the bracketed tensors exist depends on the model (LSTM or not, attention score, input
feeding, Cho's context); the manifest lists the inputs and outputs of each file. Both graphs call
the model's own encoder (packed sequences, which the ONNX exporter turns into ``sequence_lens``)
and its own ``decode_step``: the numbers are the model's.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from seqlab.export.graphs import Graph
from seqlab.models.encoder import EncoderMemory
from seqlab.models.state import RecurrentState


def _parts(model: nn.Module) -> dict[str, bool]:
    decoder = model.decoder
    return {
        "c": model.bridge.lstm,
        "keys": decoder.attention is not None and decoder.attention.key_proj is not None,
        "feed": decoder.input_feeding,
        "context": decoder.context_every_step,
        "attention": decoder.attention is not None,
    }


class Seq2SeqEncoderGraph(nn.Module):
    """``(src, src_lengths) ->`` the memory and the decoder's first state (see the module doc)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.parts = _parts(model)

    def forward(self, src: Tensor, src_lengths: Tensor) -> tuple[Tensor, ...]:
        memory = self.model.encode(src, src_lengths)
        state = self.model.start_state(memory)
        outputs = [memory.states]
        if self.parts["keys"]:
            outputs.append(memory.keys)
        outputs.append(state.rnn.h)
        if self.parts["c"]:
            outputs.append(state.rnn.c)
        if self.parts["feed"]:
            outputs.append(state.feed)
        if self.parts["context"]:
            outputs.append(state.context)
        return tuple(outputs)


class Seq2SeqDecoderStep(nn.Module):
    """One decoder step over named inputs (``input_names``), in that order (see the module doc)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.parts = _parts(model)
        self.input_names = ["tokens", "h"] + [n for n in ("c", "feed", "context") if self.parts[n]]
        self.input_names += ["states"] + (["keys"] if self.parts["keys"] else []) + ["src_lengths"]

    def forward(self, *inputs: Tensor) -> tuple[Tensor, ...]:
        from seqlab.models.decoder import DecoderState

        x = dict(zip(self.input_names, inputs))
        states, lengths = x["states"], x["src_lengths"]
        mask = torch.arange(states.shape[1], device=states.device).unsqueeze(0) < lengths.unsqueeze(1)
        rnn = RecurrentState(x["h"], x.get("c"))
        memory = EncoderMemory(states=states, mask=mask, lengths=lengths, final=rnn, keys=x.get("keys"))
        state = DecoderState(rnn, x.get("feed"), x.get("context"))
        logits, new_state, attention = self.model.decode_step(x["tokens"], state, memory)
        outputs = [logits, new_state.rnn.h]
        if self.parts["c"]:
            outputs.append(new_state.rnn.c)
        if self.parts["feed"]:
            outputs.append(new_state.feed)
        if self.parts["attention"]:
            outputs.append(attention)
        return tuple(outputs)


def seq2seq_graphs(pred: Any) -> tuple[list, dict[str, Any]]:
    """The encoder and decoder-step graphs of a Seq2Seq predictor, and the manifest's usage notes."""
    model = pred.model
    parts = _parts(model)
    he = model.encoder.output_size
    hd = model.decoder.hidden_size
    layers = model.bridge.decoder_layers
    vocab_size = model.output.out_features
    src, lengths = torch.tensor([[4, 5, 6], [5, 4, 0]]), torch.tensor([3, 2])
    encoder = Seq2SeqEncoderGraph(model).eval()
    with torch.no_grad():
        first = encoder(src, lengths)
    shapes: dict[str, list[str | int]] = {"states": ["batch", "source", he]}
    if parts["keys"]:
        shapes["keys"] = ["batch", "source", int(first[1].shape[-1])]
    shapes["h"] = [layers, "batch", hd]
    for name, shape in (("c", [layers, "batch", hd]), ("feed", ["batch", hd]), ("context", ["batch", he])):
        if parts[name]:
            shapes[name] = shape
    encoder_graph = Graph(
        "encoder", encoder, (src, lengths), {"src": ["batch", "source"], "src_lengths": ["batch"]}, shapes
    )
    step = Seq2SeqDecoderStep(model).eval()
    named = dict(zip(shapes, first))
    named.update(tokens=torch.full((2,), model.bos_id, dtype=torch.long), src_lengths=lengths)
    step_inputs = {n: ([*shapes[n]] if n in shapes else ["batch"]) for n in step.input_names}
    step_outputs: dict[str, list[str | int]] = {"logits": ["batch", vocab_size], "h_out": shapes["h"]}
    for name in ("c", "feed"):
        if parts[name]:
            step_outputs[f"{name}_out"] = shapes[name]
    if parts["attention"]:
        step_outputs["attention"] = ["batch", "source"]
    step_graph = Graph(
        "decoder_step", step, tuple(named[n] for n in step.input_names), step_inputs, step_outputs
    )
    decoding = pred.config.decoding
    usage = {
        "how": "encode the source ids (no <bos>/<eos> added; an empty text is [unk_id]; only the first "
        "source_truncate ids when it is set) once; feed "
        "<bos> as the first token with the encoder's h (c, feed, context) and pass each step's "
        "*_out back; states, keys and src_lengths stay the same every step. Stop at <eos>.",
        "start_token": "<bos>",
        "end_token": "<eos>",
        "never_generate": ["<pad>", "<bos>"],
        "max_length": decoding.max_length,
        "max_length_ratio": decoding.max_length_ratio,
        "max_source_length": pred.config.data.max_source_length,
        "source_truncate": pred.config.data.source_truncate,
    }
    return [encoder_graph, step_graph], usage
