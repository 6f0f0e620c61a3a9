"""Export-friendly forms of the trained models: the same weights, computed without packed sequences
or Python-side control flow, so ONNX and TorchScript tracing capture them whole.

Packed sequences (how the classifier and tagger skip padding) do not trace; here a bidirectional
stack reads right-padded input and reverses each row *within its length* for the backward direction,
which gives exactly what packing gives at every real position. The tests check every wrapper against
the model it came from.

- :class:`LMStep`: one language-model step, ``(tokens[B], h[L,B,H], c[L,B,H]) -> (logits[B,V], h, c)``.
- :class:`ClassifierGraph`: ``(tokens[B,T], lengths[B]) -> (logits[B,C], probabilities[B,C],
  attention[B,T])``.
- :class:`TaggerGraph`: ``(tokens[B,T], lengths[B] [, chars[B,T,W], char_lengths[B,T]]) -> logits[B,T,K]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from seqlab.models.lstm import WeightDropLSTM
from seqlab.models.pooling import padding_mask, pool


@dataclass(frozen=True)
class Graph:
    """One exported file: a module, example inputs for tracing, and its named inputs and outputs
    (``name -> shape``, the dimensions named for the dynamic ones)."""

    name: str
    module: nn.Module
    example: tuple[torch.Tensor, ...]
    inputs: dict[str, list[str | int]]
    outputs: dict[str, list[str | int]]


_CELL_CLASSES = {nn.LSTM: "lstm", nn.GRU: "gru", nn.RNN: "rnn_tanh"}


def _cell_of(rnn: nn.Module) -> str:
    if isinstance(rnn, WeightDropLSTM):
        return "lstm"
    for cls, name in _CELL_CLASSES.items():
        if type(rnn) is cls:
            return name
    raise TypeError(f"cannot export a recurrent module of type {type(rnn).__name__}")


def _single_layer(cell: str, input_size: int, hidden_size: int, bias: bool) -> nn.Module:
    if cell == "lstm":
        return nn.LSTM(input_size, hidden_size, 1, batch_first=True, bias=bias)
    if cell == "gru":
        return nn.GRU(input_size, hidden_size, 1, batch_first=True, bias=bias)
    return nn.RNN(input_size, hidden_size, 1, nonlinearity="tanh", batch_first=True, bias=bias)


def split_layers(rnn: nn.Module) -> nn.ModuleList:
    """``rnn`` (nn.LSTM/GRU/RNN, possibly bidirectional, or WeightDropLSTM) as one ModuleList per
    layer holding one single-layer unidirectional module per direction, with the same weights."""
    cell = _cell_of(rnn)
    directions = 2 if getattr(rnn, "bidirectional", False) else 1
    bias = bool(getattr(rnn, "bias", True))
    layers = nn.ModuleList()
    for layer in range(rnn.num_layers):
        input_size = rnn.input_size if layer == 0 else rnn.hidden_size * directions
        per_direction = nn.ModuleList()
        for direction in range(directions):
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            single = _single_layer(cell, input_size, rnn.hidden_size, bias)
            hh_name = f"weight_hh{suffix}" + ("_raw" if isinstance(rnn, WeightDropLSTM) else "")
            sources = {"weight_ih_l0": f"weight_ih{suffix}", "weight_hh_l0": hh_name}
            if bias:
                sources.update({"bias_ih_l0": f"bias_ih{suffix}", "bias_hh_l0": f"bias_hh{suffix}"})
            with torch.no_grad():
                for target, source in sources.items():
                    getattr(single, target).copy_(getattr(rnn, source))
            per_direction.append(single)
        layers.append(per_direction)
    return layers


class PaddedRecurrent(nn.Module):
    """A (bi)directional recurrent stack over right-padded ``x`` [B, T, E] and ``lengths`` [B].

    Returns the last layer's outputs [B, T, D * H], zero at padding: what ``run_packed`` returns.
    """

    def __init__(self, rnn: nn.Module) -> None:
        super().__init__()
        self.layers = split_layers(rnn)
        self.hidden_size = rnn.hidden_size

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        steps = x.shape[1]
        positions = torch.arange(steps, device=x.device).unsqueeze(0)  # [1, T]
        mask = positions < lengths.unsqueeze(1)  # [B, T]
        # position t of a row read backwards within its length; padding stays where it is
        reverse = torch.where(mask, lengths.unsqueeze(1) - 1 - positions, positions)  # [B, T]
        for directions in self.layers:
            forward_out, _ = directions[0](x)
            if len(directions) == 2:
                flipped = x.gather(1, reverse.unsqueeze(-1).expand(-1, -1, x.shape[2]))
                backward_out, _ = directions[1](flipped)
                backward_out = backward_out.gather(1, reverse.unsqueeze(-1).expand(-1, -1, self.hidden_size))
                forward_out = torch.cat([forward_out, backward_out], dim=-1)
            x = forward_out * mask.unsqueeze(-1).to(forward_out.dtype)
        return x


class LMStep(nn.Module):
    """One step of a language model. LSTM: ``(tokens, h, c) -> (logits, h, c)``; GRU/RNN:
    ``(tokens, h) -> (logits, h)``. tokens: LongTensor[B]; h, c: [L, B, H]; logits [B, V]."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.embedding = model.embedding
        self.decoder = model.decoder
        self.layers = nn.ModuleList(layer[0] for rnn in model.recurrent for layer in split_layers(rnn))
        self.has_cell_state = model.cfg.cell == "lstm"

    def _run(self, tokens: Tensor, h: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor, Tensor | None]:
        x = self.embedding(tokens).unsqueeze(1)  # [B, 1, E]
        hs, cs = [], []
        for index, layer in enumerate(self.layers):
            if c is not None:
                x, (h_i, c_i) = layer(x, (h[index : index + 1], c[index : index + 1]))
                cs.append(c_i)
            else:
                x, h_i = layer(x, h[index : index + 1])
            hs.append(h_i)
        logits = self.decoder(x[:, 0])
        return logits, torch.cat(hs, dim=0), torch.cat(cs, dim=0) if cs else None

    def forward(self, tokens: Tensor, h: Tensor, c: Tensor | None = None):  # noqa: ANN201
        logits, h, c = self._run(tokens, h, c if self.has_cell_state else None)
        return (logits, h, c) if c is not None else (logits, h)


class ClassifierGraph(nn.Module):
    """A classifier: ``(tokens[B, T], lengths[B]) -> (logits[B, C], probabilities[B, C],
    attention[B, T])``; attention is uniform over real tokens unless the model pools with attention."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.embedding = model.embedding
        self.recurrent = PaddedRecurrent(model.recurrent)
        self.attention = model.attention
        self.output = model.output
        self.pooling = model.pooling
        self.bidirectional = model.bidirectional

    def forward(self, tokens: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        outputs = self.recurrent(self.embedding(tokens), lengths)
        if self.attention is not None:
            pooled, weights = self.attention(outputs, lengths)
        else:
            pooled = pool(outputs, lengths, self.pooling, bidirectional=self.bidirectional)
            mask = padding_mask(lengths, tokens.shape[1]).to(outputs.dtype)
            weights = mask / mask.sum(dim=1, keepdim=True)
        logits = self.output(pooled)
        return logits, torch.softmax(logits, dim=-1), weights


class TaggerGraph(nn.Module):
    """A tagger: ``(tokens[B, T], lengths[B]) -> logits[B, T, K]``; with character features also
    ``chars[B, T, W]`` and ``char_lengths[B, T]`` (0 for padding words)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.embedding = model.embedding
        self.recurrent = PaddedRecurrent(model.recurrent)
        self.output = model.output
        encoder = model.char_encoder
        self.has_chars = encoder is not None
        if encoder is not None:
            self.char_embedding = encoder.embedding
            self.char_recurrent = PaddedRecurrent(encoder.recurrent)
            self.char_hidden = encoder.recurrent.hidden_size

    def _char_features(self, chars: Tensor, char_lengths: Tensor) -> Tensor:
        batch, steps, width = chars.shape
        flat_lengths = char_lengths.reshape(-1)
        safe = flat_lengths.clamp(min=1)
        states = self.char_recurrent(self.char_embedding(chars.reshape(-1, width)), safe)  # [N, W, 2Hc]
        hidden = self.char_hidden
        last = (safe - 1).view(-1, 1, 1).expand(-1, 1, hidden)
        forward_final = states[:, :, :hidden].gather(1, last).squeeze(1)  # after the last character
        backward_final = states[:, 0, hidden:]  # after reading back to the first character
        features = torch.cat([forward_final, backward_final], dim=-1)
        features = features * (flat_lengths > 0).unsqueeze(1).to(features.dtype)
        return features.view(batch, steps, 2 * hidden)

    def forward(
        self, tokens: Tensor, lengths: Tensor, chars: Tensor | None = None, char_lengths: Tensor | None = None
    ) -> Tensor:
        x = self.embedding(tokens)
        if self.has_chars:
            assert chars is not None and char_lengths is not None, "this tagger reads characters"
            x = torch.cat([x, self._char_features(chars, char_lengths)], dim=-1)
        return self.output(self.recurrent(x, lengths))
