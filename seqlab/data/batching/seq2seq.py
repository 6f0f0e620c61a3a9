"""Seq2Seq batches and their loader: encoded pairs -> padded, length-bucketed batches.

A target ``y1..yn`` is read by the decoder as ``tgt_in = <bos> y1..yn`` and predicted as
``tgt_out = y1..yn <eos>`` (both ``n + 1`` long; ``tgt_lengths`` counts them). Padding is id 0 on
both sides. For a copy-attention model (``model.copy_attention``) a pair also holds its source's copy
ids (:mod:`seqlab.text.extended_vocab`) and its target ids are over the extended vocabulary, so
``tgt_out`` may hold ids ``>= V`` (the model feeds them back as ``<unk>``). :class:`Seq2SeqLoader`
cuts the pairs into batches within a padded token budget with the shared
:class:`~seqlab.data.batching.buckets.TokenBudgetSampler` (an example's length is the longer of its
source and its ``n + 1`` target positions), so it has the Trainer's data interface.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from seqlab.data.batching.labelled import ExampleLoader
from seqlab.text.padding import pad_batch
from seqlab.text.vocab import Vocabulary


@dataclass(frozen=True)
class EncodedPair:
    """A pair as ids: ``source`` (at least one id) and ``target`` (no <bos>/<eos>); for copy
    attention ``source_copy`` (one copy id per source token) and a ``target`` over the source's
    extended vocabulary, else None."""

    source: list[int]
    target: list[int]
    source_copy: list[int] | None = None

    @property
    def length(self) -> int:
        """Positions the pair takes in a padded batch: ``max(len(source), len(target) + 1)``."""
        return max(len(self.source), len(self.target) + 1)


@dataclass
class Seq2SeqBatch:
    """src: LongTensor[B, S] right-padded; src_lengths: LongTensor[B] (CPU, for packing);
    tgt_in, tgt_out: LongTensor[B, T] (``<bos> y`` and ``y <eos>``); tgt_lengths: LongTensor[B]
    (CPU), ``len(y) + 1``; src_copy: LongTensor[B, S], the source's copy ids (copy attention),
    else None."""

    src: torch.Tensor
    src_lengths: torch.Tensor
    tgt_in: torch.Tensor
    tgt_out: torch.Tensor
    tgt_lengths: torch.Tensor
    src_copy: torch.Tensor | None = None

    def to(self, device: torch.device | str, non_blocking: bool = False) -> Seq2SeqBatch:
        """A copy with the token tensors on ``device`` (lengths stay on the CPU: packing wants them)."""
        return Seq2SeqBatch(
            self.src.to(device, non_blocking=non_blocking),
            self.src_lengths,
            self.tgt_in.to(device, non_blocking=non_blocking),
            self.tgt_out.to(device, non_blocking=non_blocking),
            self.tgt_lengths,
            None if self.src_copy is None else self.src_copy.to(device, non_blocking=non_blocking),
        )

    @property
    def num_tokens(self) -> int:
        """Real target positions (``<eos>`` included): what the loss is averaged over."""
        return int(self.tgt_lengths.sum())

    def __len__(self) -> int:
        return self.src.shape[0]


def collate_pairs(pairs: Sequence[EncodedPair], pad_id: int = Vocabulary.pad_id) -> Seq2SeqBatch:
    """Pad ``pairs`` into one :class:`Seq2SeqBatch`."""
    src, src_lengths = pad_batch([p.source for p in pairs], pad_id)
    tgt_in, tgt_lengths = pad_batch([[Vocabulary.bos_id, *p.target] for p in pairs], pad_id)
    tgt_out, _ = pad_batch([[*p.target, Vocabulary.eos_id] for p in pairs], pad_id)
    src_copy = None
    if pairs and pairs[0].source_copy is not None:
        src_copy, _ = pad_batch([p.source_copy or [] for p in pairs], pad_id)
    return Seq2SeqBatch(src, src_lengths, tgt_in, tgt_out, tgt_lengths, src_copy)


class Seq2SeqLoader(ExampleLoader):
    """Iterate :class:`Seq2SeqBatch` es over ``pairs``: shuffled and length-bucketed for training,
    length-sorted for evaluation, within ``max_tokens`` padded positions; resumable mid-epoch. The
    classifier's :class:`ExampleLoader` with :func:`collate_pairs` and each pair's ``length``.

    Args:
        pairs: encoded pairs.
        max_tokens: padded token budget of one batch (``data.max_tokens``).
        shuffle: True for training (seeded by ``seed`` and the epoch).
        rank, world_size: this process's share under distributed training.
    """

    def __init__(
        self,
        pairs: Sequence[EncodedPair],
        max_tokens: int,
        shuffle: bool = True,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        pairs = list(pairs)
        lengths = [p.length for p in pairs]
        super().__init__(pairs, collate_pairs, max_tokens, shuffle, seed, rank, world_size, lengths=lengths)

    @property
    def pairs(self) -> list[EncodedPair]:
        return self.examples

    @property
    def target_tokens_per_epoch(self) -> int:
        """Target tokens (with ``<eos>``) of one pass over every pair (all ranks)."""
        return sum(len(p.target) + 1 for p in self.examples)
