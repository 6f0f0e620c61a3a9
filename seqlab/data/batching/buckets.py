"""Token-budget batching of variable-length examples (padding: :mod:`seqlab.text.padding`).

``TokenBudgetSampler`` groups examples of similar length so that a padded batch
(``max_len * n``) stays within ``max_tokens``: the example order is shuffled, cut into large
chunks, each chunk is sorted by length and cut into batches, and the batch order is shuffled,
all from a generator seeded by (seed, epoch). With ``world_size`` W, batches are dealt
round-robin, the list padded by repeating its first batches so every rank takes the same
number of steps. It is resumable mid-epoch like ``BPTTBatcher``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any

from seqlab.errors import ConfigError, DataError


def make_batches(order: Sequence[int], lengths: Sequence[int], max_tokens: int) -> list[list[int]]:
    """Cut ``order`` (indices, usually length-sorted) greedily into batches whose padded size
    ``max(length) * count`` is at most ``max_tokens``; a longer example forms a batch alone."""
    batches: list[list[int]] = []
    batch: list[int] = []
    longest = 0
    for index in order:
        length = max(1, lengths[index])
        new_longest = max(longest, length)
        if batch and new_longest * (len(batch) + 1) > max_tokens:
            batches.append(batch)
            batch, new_longest = [], length
        batch.append(index)
        longest = new_longest
    if batch:
        batches.append(batch)
    return batches


class TokenBudgetSampler:
    """Yield lists of example indices, length-bucketed, within a padded token budget.

    Args:
        lengths: length of every example (tokens).
        max_tokens: budget of one padded batch, ``max_len * batch_count``.
        shuffle: shuffle (deterministically from seed and epoch); False sorts all examples by
            length and keeps the batches in that order (evaluation).
        seed: seed of the shuffles.
        rank, world_size: this process's place in distributed training.
        drop_last: with several ranks, drop the batches that do not divide evenly among them
            instead of repeating batches to fill the last round.
        bucket_size: examples per chunk sorted together (larger: less padding, less randomness).
    """

    def __init__(
        self,
        lengths: Sequence[int],
        max_tokens: int,
        shuffle: bool = True,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        drop_last: bool = False,
        bucket_size: int = 4096,
    ) -> None:
        if max_tokens < 1:
            raise ConfigError(f"max_tokens = {max_tokens}: must be >= 1")
        if world_size < 1 or not 0 <= rank < world_size:
            raise ConfigError(f"rank = {rank}, world_size = {world_size}: need 0 <= rank < world_size")
        if bucket_size < 1:
            raise ConfigError(f"bucket_size = {bucket_size}: must be >= 1")
        if not len(lengths):
            raise DataError("no examples to batch: the dataset is empty")
        self.lengths = [int(n) for n in lengths]
        self.max_tokens = max_tokens
        self.shuffle = shuffle
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.drop_last = drop_last
        self.bucket_size = bucket_size
        self.epoch = 0
        self.position = 0  # batches of this rank already handed out in this epoch
        self._cache: tuple[int, list[list[int]]] | None = None

    def set_epoch(self, epoch: int) -> None:
        """Start epoch ``epoch`` from its first batch (the current epoch keeps its position)."""
        if epoch != self.epoch:
            self.epoch = epoch
            self.position = 0

    def all_batches(self, epoch: int | None = None) -> list[list[int]]:
        """Every batch of an epoch for all ranks, before dealing (padded or trimmed for W ranks)."""
        epoch = self.epoch if epoch is None else epoch
        if self._cache is not None and self._cache[0] == epoch:
            return self._cache[1]
        lengths = self.lengths
        indices = list(range(len(lengths)))
        if self.shuffle:
            rng = random.Random(f"seqlab-buckets:{self.seed}:{epoch}")
            rng.shuffle(indices)
            batches = []
            for begin in range(0, len(indices), self.bucket_size):
                chunk = sorted(indices[begin : begin + self.bucket_size], key=lengths.__getitem__)
                batches.extend(make_batches(chunk, lengths, self.max_tokens))
            rng.shuffle(batches)
        else:
            batches = make_batches(sorted(indices, key=lengths.__getitem__), lengths, self.max_tokens)
        remainder = len(batches) % self.world_size
        if remainder and self.drop_last and len(batches) >= self.world_size:
            batches = batches[: len(batches) - remainder]
        elif remainder:
            needed = self.world_size - remainder
            batches = batches + [batches[i % len(batches)] for i in range(needed)]
        self._cache = (epoch, batches)
        return batches

    def batches(self) -> list[list[int]]:
        """This rank's batches of the current epoch."""
        return self.all_batches()[self.rank :: self.world_size]

    def __len__(self) -> int:
        return len(self.batches())

    def __iter__(self) -> Iterator[list[int]]:
        """Yield the remaining batches of the current epoch; a finished pass rewinds to its start."""
        batches = self.batches()
        while self.position < len(batches):
            self.position += 1
            yield list(batches[self.position - 1])
        self.position = 0

    def state_dict(self) -> dict[str, Any]:
        """JSON-able position ``{"epoch", "position", ...}`` plus settings checked on load."""
        return {
            "epoch": self.epoch,
            "position": self.position,
            "seed": self.seed,
            "max_tokens": self.max_tokens,
            "world_size": self.world_size,
            "num_examples": len(self.lengths),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from ``state``; DataError if it was saved for different data or settings."""
        current = self.state_dict()
        for key in ("seed", "max_tokens", "world_size", "num_examples"):
            if key in state and state[key] != current[key]:
                raise DataError(
                    f"cannot resume the sampler: {key} was {state[key]!r} when saved, now {current[key]!r}"
                )
        self.epoch = int(state["epoch"])
        self.position = int(state["position"])
        if not 0 <= self.position <= len(self):
            raise DataError(f"cannot resume the sampler: position {self.position} out of range")
