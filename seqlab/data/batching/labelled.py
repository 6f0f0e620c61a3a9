"""Batches of variable-length examples for classifiers and taggers, and a resumable loader.

``ExampleLoader`` cuts encoded examples into length-bucketed batches within a padded token budget
(:class:`~seqlab.data.batching.buckets.TokenBudgetSampler`), shuffled for training and length-sorted for
evaluation, and pads each batch (right padding, ``pad_id`` 0). It has the Trainer's data interface:
``set_epoch``, ``__iter__`` (resuming where ``load_state_dict`` left it), ``__len__``,
``state_dict`` and ``load_state_dict``; with ``rank``/``world_size`` each process takes its share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from seqlab.data.batching.buckets import TokenBudgetSampler
from seqlab.text.padding import pad_batch


@dataclass(frozen=True)
class EncodedText:
    """A classification example as ids: ``ids`` (tokens, at least one) and its class id (-1: none)."""

    ids: list[int]
    label: int = -1


@dataclass(frozen=True)
class EncodedTags:
    """A tagging example: word ids, one tag id per word (-1: none), character ids of each word."""

    ids: list[int]
    tags: list[int]
    chars: list[list[int]] | None = None


@dataclass
class ClassificationBatch:
    """tokens: LongTensor[B, T] right-padded; lengths: LongTensor[B]; labels: LongTensor[B]."""

    tokens: torch.Tensor
    lengths: torch.Tensor
    labels: torch.Tensor

    def to(self, device: torch.device | str, non_blocking: bool = False) -> ClassificationBatch:
        """A copy on ``device`` (lengths stay where they are: packing wants them on the CPU)."""
        return ClassificationBatch(
            self.tokens.to(device, non_blocking=non_blocking),
            self.lengths,
            self.labels.to(device, non_blocking=non_blocking),
        )

    @property
    def num_tokens(self) -> int:
        """Real (unpadded) tokens in the batch."""
        return int(self.lengths.sum())


@dataclass
class TaggingBatch:
    """tokens, tags: LongTensor[B, T]; lengths: LongTensor[B]; chars: LongTensor[B, T, W] and
    char_lengths: LongTensor[B, T] when the tagger reads characters (else None)."""

    tokens: torch.Tensor
    lengths: torch.Tensor
    tags: torch.Tensor
    chars: torch.Tensor | None = None
    char_lengths: torch.Tensor | None = None

    def to(self, device: torch.device | str, non_blocking: bool = False) -> TaggingBatch:
        """A copy on ``device``."""

        def move(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.to(device, non_blocking=non_blocking)

        return TaggingBatch(
            move(self.tokens), self.lengths, move(self.tags), move(self.chars), move(self.char_lengths)
        )

    @property
    def num_tokens(self) -> int:
        """Real (unpadded) words in the batch."""
        return int(self.lengths.sum())


def collate_classification(examples: Sequence[EncodedText], pad_id: int = 0) -> ClassificationBatch:
    """Pad ``examples`` into one :class:`ClassificationBatch`."""
    tokens, lengths = pad_batch([e.ids for e in examples], pad_id)
    labels = torch.tensor([e.label for e in examples], dtype=torch.long)
    return ClassificationBatch(tokens, lengths, labels)


def collate_tagging(examples: Sequence[EncodedTags], pad_id: int = 0) -> TaggingBatch:
    """Pad ``examples`` into one :class:`TaggingBatch` (tags padded with -1, ignored by the loss)."""
    tokens, lengths = pad_batch([e.ids for e in examples], pad_id)
    tags = torch.full(tokens.shape, -1, dtype=torch.long)
    for row, example in enumerate(examples):
        tags[row, : len(example.tags)] = torch.as_tensor(example.tags, dtype=torch.long)
    if examples[0].chars is None:
        return TaggingBatch(tokens, lengths, tags)
    width = max(max(len(w) for w in e.chars) for e in examples)
    chars = torch.full((*tokens.shape, max(width, 1)), pad_id, dtype=torch.long)
    char_lengths = torch.zeros(tokens.shape, dtype=torch.long)
    for row, example in enumerate(examples):
        for col, word in enumerate(example.chars):
            chars[row, col, : len(word)] = torch.as_tensor(word, dtype=torch.long)
            char_lengths[row, col] = len(word)
    return TaggingBatch(tokens, lengths, tags, chars, char_lengths)


class ExampleLoader:
    """Iterate padded batches over ``examples`` (see the module docstring).

    Args:
        examples: encoded examples (each with ``ids``).
        collate: list of examples -> batch (:func:`collate_classification` / :func:`collate_tagging`).
        max_tokens: padded token budget of one batch (``data.max_tokens``).
        shuffle: True for training (seeded by ``seed`` and the epoch), False for evaluation.
        rank, world_size: this process's share under distributed training.
        lengths: the length that counts against the budget, one per example (default ``len(e.ids)``).
    """

    def __init__(
        self,
        examples: Sequence[Any],
        collate: Callable[[list[Any]], Any],
        max_tokens: int,
        shuffle: bool = True,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        lengths: Sequence[int] | None = None,
    ) -> None:
        self.examples = list(examples)
        self.collate = collate
        self.sampler = TokenBudgetSampler(
            list(lengths) if lengths is not None else [len(e.ids) for e in self.examples],
            max_tokens,
            shuffle=shuffle,
            seed=seed,
            rank=rank,
            world_size=world_size,
        )

    def set_epoch(self, epoch: int) -> None:
        self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self) -> Iterator[Any]:
        for indices in self.sampler:
            yield self.collate([self.examples[i] for i in indices])

    def state_dict(self) -> dict[str, Any]:
        return self.sampler.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.sampler.load_state_dict(state)
