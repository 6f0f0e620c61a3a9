"""A small deterministic encoder-decoder speaking the decoding protocol, for the search tests only.

It needs nothing of ``seqlab.models``: ``encode`` embeds the source (``tanh``), ``start_state`` is the
mean of the real source states, and ``decode_step`` runs a tanh recurrence, dot-product attention over
the real source tokens (exactly 0 at padding) and an output layer over [hidden; context]. Computed in
float64, so a row's results do not depend on which other rows share the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

PAD, UNK, BOS, EOS = 0, 1, 2, 3


@dataclass
class ToyMemory:
    states: Tensor  # [B, S, H]
    mask: Tensor  # [B, S] True = real token
    lengths: Tensor  # [B]

    def reorder(self, indices: Tensor) -> ToyMemory:
        return ToyMemory(self.states[indices], self.mask[indices], self.lengths[indices])


@dataclass
class ToyState:
    hidden: Tensor  # [B, H]

    def reorder(self, indices: Tensor) -> ToyState:
        return ToyState(self.hidden[indices])


class ToySeq2Seq:
    """``vocab_size`` ids shared by source and target; specials pad 0, unk 1, bos 2, eos 3."""

    bos_id, eos_id, pad_id, unk_id = BOS, EOS, PAD, UNK

    def __init__(
        self,
        vocab_size: int = 12,
        hidden: int = 8,
        seed: int = 0,
        attention: bool = True,
        eos_bias: float = 0.0,
    ) -> None:
        g = torch.Generator().manual_seed(seed)
        rand = lambda *shape: torch.randn(*shape, generator=g, dtype=torch.float64)  # noqa: E731
        self.vocab_size, self.attention, self.training = vocab_size, attention, False
        self.source_embedding = rand(vocab_size, hidden)
        self.target_embedding = rand(vocab_size, hidden)
        self.recurrent = rand(hidden, hidden) / hidden**0.5
        self.output = rand(2 * hidden, vocab_size) * 1.5
        self.output_bias = torch.zeros(vocab_size, dtype=torch.float64)
        self.output_bias[EOS] = eos_bias
        self.steps = 0  # decode_step calls
        self.rows = 0  # rows over all decode_step calls

    def encode(self, src: Tensor, src_lengths: Tensor) -> ToyMemory:
        mask = torch.arange(src.shape[1])[None, :] < src_lengths[:, None]
        states = torch.tanh(self.source_embedding[src]) * mask.unsqueeze(-1)
        return ToyMemory(states, mask, src_lengths.clone())

    def start_state(self, memory: ToyMemory) -> ToyState:
        mean = memory.states.sum(1) / memory.lengths.unsqueeze(1).to(torch.float64)
        return ToyState(mean)

    def decode_step(
        self, tokens: Tensor, state: ToyState, memory: ToyMemory
    ) -> tuple[Tensor, ToyState, Tensor | None]:
        self.steps += 1
        self.rows += tokens.shape[0]
        hidden = torch.tanh(state.hidden @ self.recurrent + self.target_embedding[tokens])
        if self.attention:
            energy = (memory.states * hidden.unsqueeze(1)).sum(-1) * 2.0
            energy = energy.masked_fill(~memory.mask, float("-inf"))
            weights = energy.softmax(dim=-1)
            context = (weights.unsqueeze(-1) * memory.states).sum(1)
        else:
            weights, context = None, memory.states.sum(1) / memory.lengths.unsqueeze(1).to(torch.float64)
        logits = torch.cat([hidden, context], dim=-1) @ self.output + self.output_bias
        return logits, ToyState(hidden), weights

    def eval(self) -> ToySeq2Seq:
        return self

    def train(self, mode: bool = True) -> ToySeq2Seq:
        return self


def make_batch(sources: list[list[int]]) -> tuple[Tensor, Tensor]:
    """Pad id lists into (src LongTensor[B, S], src_lengths LongTensor[B])."""
    lengths = torch.tensor([len(s) for s in sources])
    src = torch.full((len(sources), int(lengths.max())), PAD, dtype=torch.long)
    for i, s in enumerate(sources):
        src[i, : len(s)] = torch.tensor(s)
    return src, lengths


def random_sources(
    count: int, vocab_size: int = 12, seed: int = 1, low: int = 2, high: int = 9
) -> list[list[int]]:
    """``count`` sources of random lengths in [low, high] over the non-special ids."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(low, high + 1, (count,), generator=g).tolist()
    return [torch.randint(4, vocab_size, (n,), generator=g).tolist() for n in lengths]


def teacher_force(model: ToySeq2Seq, source: list[int], outputs: list[int]) -> tuple[Tensor, Tensor | None]:
    """Feed ``<bos>`` + ``outputs`` for one source -> (log-probs [len(outputs) + 1, V], attention [.., S])."""
    src, lengths = make_batch([source])
    memory = model.encode(src, lengths)
    state = model.start_state(memory)
    rows, attention_rows = [], []
    for token in [BOS, *outputs]:
        logits, state, attention = model.decode_step(torch.tensor([token]), state, memory)
        rows.append(logits.float().log_softmax(-1)[0])
        if attention is not None:
            attention_rows.append(attention.float()[0])
    return torch.stack(rows), (torch.stack(attention_rows) if attention_rows else None)


def sequence_log_prob(model: ToySeq2Seq, source: list[int], outputs: list[int]) -> float:
    """The model's log-probability of ``outputs`` + ``<eos>`` given ``source``."""
    log_probs, _ = teacher_force(model, source, outputs)
    return float(log_probs.gather(1, torch.tensor([*outputs, EOS]).unsqueeze(1)).sum())
