"""Language-model lines (``data.lm_mode: lines``): each line its own sequence from a fresh state.

A line of tokens ``t1 .. tn`` becomes ``inputs = <eos> t1 .. tn`` and ``targets = t1 .. tn <eos>``:
``<eos>`` is the line start, as in a stream where it ends the previous line, so every consumer that
prompts with ``<eos> + context`` from the zero state starts exactly where training started. Lines are
cut into length-bucketed batches within ``max_tokens`` padded positions (the classifier's
:class:`~seqlab.data.batching.labelled.ExampleLoader`), right-padded; padded targets are
``IGNORE_INDEX``, so padding never reaches the loss, and a left-to-right model never reads it.

With a target separator (``<sep>`` in ``lm_sep``) each line is a prompt and a target: the targets
after the separator's first occurrence, and the final ``<eos>``, are the target side
(``LMBatch.is_target``); ``score_prompt=False`` (``lm_loss: target``) scores only those.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from seqlab.config import DataConfig
from seqlab.data.batching.bptt import IGNORE_INDEX, LMBatch
from seqlab.data.batching.labelled import ExampleLoader
from seqlab.errors import ConfigError, DataError
from seqlab.text.padding import pad_batch
from seqlab.text.vocab import Vocabulary


@dataclass(frozen=True)
class EncodedLine:
    """A line's token ids (no ``<eos>``) and ``target_start``: the index in ``ids`` where the target
    side begins (just after the separator; 0 when the whole line is the target)."""

    ids: list[int]
    target_start: int = 0

    @property
    def target_tokens(self) -> int:
        """Target-side tokens predicted for this line, its ``<eos>`` included."""
        return len(self.ids) - self.target_start + 1


def encode_line_examples(
    id_lists: Sequence[Sequence[int]], separator_id: int | None = None, source: str = "<lines>"
) -> list[EncodedLine]:
    """Id lists -> :class:`EncodedLine` s; with ``separator_id``, DataError (naming ``source`` and the
    1-based line) for a line without the separator."""
    lines = []
    for number, ids in enumerate(id_lists, start=1):
        ids = list(ids)
        start = 0
        if separator_id is not None:
            if separator_id not in ids:
                raise DataError(
                    f"{source}: line {number} has no target separator (lm_mode: lines with "
                    "target_separator needs one in every line)"
                )
            start = ids.index(separator_id) + 1
        lines.append(EncodedLine(ids, start))
    return lines


def collate_lines(
    lines: Sequence[EncodedLine], eos_id: int, pad_id: int, score_prompt: bool = True
) -> LMBatch:
    """Pad ``lines`` into one :class:`LMBatch` (inputs, targets, is_target: [B, T]; reset True)."""
    inputs, _ = pad_batch([[eos_id, *line.ids] for line in lines], pad_id)
    targets, _ = pad_batch([[*line.ids, eos_id] for line in lines], IGNORE_INDEX)
    positions = torch.arange(targets.shape[1]).unsqueeze(0)
    starts = torch.tensor([line.target_start for line in lines], dtype=torch.long).unsqueeze(1)
    is_target = (positions >= starts) & (targets != IGNORE_INDEX)
    if not score_prompt:
        targets = targets.masked_fill(~is_target, IGNORE_INDEX)
    has_separator = any(line.target_start for line in lines)
    scored = int((targets != IGNORE_INDEX).sum())  # counted here, on the CPU, not per step on the device
    return LMBatch(
        inputs,
        targets,
        reset=True,
        is_target=is_target if has_separator else None,
        carries=False,
        scored=scored,
        target_count=int(is_target.sum()) if has_separator else scored,
    )


class LineLoader(ExampleLoader):
    """Length-bucketed :class:`LMBatch` es of lines within ``max_tokens`` padded positions: shuffled
    (seeded by seed and epoch) for training, length-sorted for evaluation; resumable mid-epoch.

    Args:
        lines: encoded lines.
        eos_id, pad_id: the vocabulary's ``<eos>`` (line start and end) and ``<pad>``.
        max_tokens: padded token budget of one batch (``data.max_tokens``).
        score_prompt: False scores only the target side (``lm_loss: target``).
        shuffle, seed, rank, world_size: as :class:`~seqlab.data.batching.labelled.ExampleLoader`.
    """

    def __init__(
        self,
        lines: Sequence[EncodedLine],
        eos_id: int,
        pad_id: int,
        max_tokens: int,
        score_prompt: bool = True,
        shuffle: bool = True,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        lines = list(lines)
        if not lines:
            raise DataError("no lines to batch: the text is empty")

        def collate(batch: list[EncodedLine]) -> LMBatch:
            return collate_lines(batch, eos_id, pad_id, score_prompt)

        lengths = [len(line.ids) + 1 for line in lines]
        super().__init__(lines, collate, max_tokens, shuffle, seed, rank, world_size, lengths=lengths)

    @property
    def target_tokens_per_epoch(self) -> int:
        """Target-side tokens of one pass over every line (all ranks)."""
        return sum(line.target_tokens for line in self.examples)


def line_loader(
    data: DataConfig,
    vocab: Vocabulary,
    id_lists: Sequence[Sequence[int]],
    *,
    shuffle: bool,
    seed: int = 0,
    rank: int = 0,
    world_size: int = 1,
    source: str = "<lines>",
) -> LineLoader:
    """The :class:`LineLoader` a ``lm_mode: lines`` config reads ``id_lists`` with (``max_tokens``,
    ``target_separator``, ``lm_loss``): what training, validation and ``perplexity`` share.
    ConfigError when the separator is not one token of ``vocab``."""
    separator = None
    if data.target_separator is not None:
        separator = vocab.stoi.get(data.target_separator)
        if separator is None:
            raise ConfigError(
                f"data.target_separator = {data.target_separator!r} is not a token of the training text's "
                "vocabulary (check the tokenizer splits it as one token)"
            )
    return LineLoader(
        encode_line_examples(id_lists, separator, source),
        vocab.eos_id,
        vocab.pad_id,
        data.max_tokens,
        score_prompt=data.lm_loss == "all",
        shuffle=shuffle,
        seed=seed,
        rank=rank,
        world_size=world_size,
    )
