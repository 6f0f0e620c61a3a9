"""Truncated back-propagation through time: a token stream -> (inputs, targets) windows.

The corpus is cut into ``batch_size`` contiguous streams (rows), the remainder dropped, as in
pytorch/examples ``batchify``; a window of length ``T`` gives ``inputs = streams[:, i:i+T]`` and
``targets = streams[:, i+1:i+1+T]``. Consecutive windows continue each stream, so a language model
carries its hidden state from one batch to the next (``reset`` marks the first batch of an epoch).

With ``world_size`` W, rank ``r`` owns rows ``[r*B/W, (r+1)*B/W)``: together the ranks see exactly
the single-process batch. All ranks draw the same window lengths, so they take the same number of
steps. The batcher is resumable: ``state_dict()`` between batches, then ``load_state_dict`` on a new
batcher gives exactly the remaining batches.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch

from seqlab.errors import ConfigError, DataError

MIN_VARIABLE_BPTT = 5


IGNORE_INDEX = -100  # a target that is not scored (padding; the prompt under lm_loss: target)


@dataclass
class LMBatch:
    """One language-model batch.

    inputs: LongTensor[B, T]; targets: LongTensor[B, T] (inputs shifted by one token;
    ``IGNORE_INDEX`` where nothing is scored); reset: the model starts from a fresh state instead of
    the one carried from the previous batch (the first window of an epoch; every batch of lines);
    is_target: BoolTensor[B, T] or None, True where the target is on the target side of its line
    (lines with a ``target_separator``; None: every scored token counts as a target token);
    carries: the state after this batch is carried to the next (a stream window); False for a batch
    of lines, which leaves the carried stream state as it was.
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    reset: bool = False
    is_target: torch.Tensor | None = None
    carries: bool = True
    scored: int | None = None  # counted once on the CPU when batched (None: every target, B * T)
    target_count: int | None = None  # likewise; None: the scored targets

    def to(self, device: torch.device | str, non_blocking: bool = False) -> LMBatch:
        """A copy on ``device``."""
        return LMBatch(
            self.inputs.to(device, non_blocking=non_blocking),
            self.targets.to(device, non_blocking=non_blocking),
            self.reset,
            None if self.is_target is None else self.is_target.to(device, non_blocking=non_blocking),
            self.carries,
            self.scored,
            self.target_count,
        )

    @property
    def num_tokens(self) -> int:
        """Number of scored targets (``B * T`` for a stream window; padding not counted)."""
        return self.targets.numel() if self.scored is None else self.scored

    @property
    def target_tokens(self) -> int:
        """Target-side tokens (what ``training.max_target_tokens`` counts)."""
        return self.num_tokens if self.target_count is None else self.target_count


class BPTTBatcher:
    """Iterate BPTT windows over ``ids`` (LongTensor[N]); see the module docstring.

    Args:
        ids: LongTensor[N], the whole corpus as one stream.
        batch_size: number of streams B across all ranks (each rank gets B / world_size rows).
        bptt: window length T (the mean window length when ``variable``).
        variable: AWD-LSTM lengths: ``bptt`` with p=0.95 else ``bptt/2``, plus Normal(0, 5) noise,
            at least 5; drawn from a generator seeded by (seed, epoch), never the global RNG.
        seed: seed of the variable lengths.
        rank, world_size: this process's place in distributed training.
    """

    def __init__(
        self,
        ids: torch.Tensor,
        batch_size: int,
        bptt: int,
        variable: bool = False,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if batch_size < 1 or bptt < 1:
            raise ConfigError(f"batch_size = {batch_size}, bptt = {bptt}: both must be >= 1")
        if world_size < 1 or not 0 <= rank < world_size:
            raise ConfigError(f"rank = {rank}, world_size = {world_size}: need 0 <= rank < world_size")
        if batch_size % world_size:
            raise ConfigError(
                f"batch_size = {batch_size} is not divisible by world_size = {world_size}: "
                "every rank needs the same number of streams"
            )
        ids = torch.as_tensor(ids, dtype=torch.long).reshape(-1)
        stream_length = ids.numel() // batch_size
        if stream_length < 2:
            raise DataError(
                f"the corpus has {ids.numel()} tokens: too few for batch_size = {batch_size} streams "
                "of at least 2 tokens each; lower batch_size or add text"
            )
        streams = ids[: stream_length * batch_size].view(batch_size, stream_length)
        per_rank = batch_size // world_size
        self.streams = streams[rank * per_rank : (rank + 1) * per_rank]  # [B / W, L]
        self.batch_size = batch_size
        self.bptt = bptt
        self.variable = variable
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0
        self.position = 0  # batches of this epoch already handed out
        self._windows_cache: tuple[int, list[tuple[int, int]]] | None = None

    @property
    def stream_length(self) -> int:
        """Tokens per stream, L."""
        return self.streams.shape[1]

    def set_epoch(self, epoch: int) -> None:
        """Start epoch ``epoch`` from its first batch; setting the current epoch again keeps the
        position (so ``load_state_dict`` then ``set_epoch(same)`` still resumes mid-epoch)."""
        if epoch != self.epoch:
            self.epoch = epoch
            self.position = 0

    def windows(self, epoch: int | None = None) -> list[tuple[int, int]]:
        """``(start, length)`` of every window of an epoch (the current one by default)."""
        epoch = self.epoch if epoch is None else epoch
        if self._windows_cache is not None and self._windows_cache[0] == epoch:
            return self._windows_cache[1]
        last = self.stream_length - 1  # the last token is only ever a target
        windows = []
        start = 0
        rng = random.Random(f"seqlab-bptt:{self.seed}:{epoch}") if self.variable else None
        while start < last:
            length = self._draw_length(rng) if rng is not None else self.bptt
            length = min(length, last - start)
            windows.append((start, length))
            start += length
        self._windows_cache = (epoch, windows)
        return windows

    def _draw_length(self, rng: random.Random) -> int:
        mean = self.bptt if rng.random() < 0.95 else self.bptt / 2
        return max(MIN_VARIABLE_BPTT, int(rng.gauss(mean, 5)))

    def __len__(self) -> int:
        """Batches in the current epoch (exact also for variable lengths: they are drawn per epoch)."""
        return len(self.windows())

    def __iter__(self) -> Iterator[LMBatch]:
        """Yield the remaining batches of the current epoch; a finished pass rewinds to its start."""
        windows = self.windows()
        while self.position < len(windows):
            index = self.position
            start, length = windows[index]
            self.position = index + 1
            yield LMBatch(
                inputs=self.streams[:, start : start + length].contiguous(),
                targets=self.streams[:, start + 1 : start + 1 + length].contiguous(),
                reset=index == 0,
            )
        self.position = 0

    def state_dict(self) -> dict[str, Any]:
        """JSON-able position: ``{"epoch", "position", ...}`` plus settings checked on load."""
        return {
            "epoch": self.epoch,
            "position": self.position,
            "seed": self.seed,
            "bptt": self.bptt,
            "variable": self.variable,
            "batch_size": self.batch_size,
            "world_size": self.world_size,
            "stream_length": self.stream_length,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from ``state``; DataError if it was saved for different data or settings."""
        for key in ("seed", "bptt", "variable", "batch_size", "world_size", "stream_length"):
            if key in state and state[key] != getattr(self, key):
                raise DataError(
                    f"cannot resume the BPTT batcher: {key} was {state[key]!r} when saved, "
                    f"now {getattr(self, key)!r}"
                )
        self.epoch = int(state["epoch"])
        self.position = int(state["position"])
        if not 0 <= self.position <= len(self.windows()):
            raise DataError(f"cannot resume the BPTT batcher: position {self.position} out of range")
