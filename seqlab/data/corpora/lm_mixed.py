"""``data.fresh_line_share``: a stream-trained language model that also learns to start lines afresh.

A model trained on a stream (``lm_mode: stream``) carries its state from line to line and almost
never starts from the zero state its consumers prompt from. :class:`MixedBatcher` interleaves the
stream's BPTT windows with batches of whole lines, each read from a fresh state
(:class:`~seqlab.data.corpora.lm_lines.LineLoader`): before each step a seeded draw picks a line batch with
probability ``share``, else the next stream window. Line batches do not touch the carried stream
state (``LMBatch.carries`` is False), so the stream continues exactly where it was. An epoch ends
when the stream's windows are used up; the line loader cycles through its own epochs. Resumable:
the stream's and the lines' positions and the step index within the epoch.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from seqlab.data.batching.bptt import BPTTBatcher, LMBatch
from seqlab.data.corpora.lm_lines import LineLoader
from seqlab.errors import ConfigError


class MixedBatcher:
    """Stream windows of ``stream`` with line batches of ``lines`` mixed in (see the module docstring).

    Args:
        stream: the BPTT batcher of the training stream.
        lines: the training lines (shuffled), each from a fresh state.
        share: probability that a step takes a line batch, in [0, 1).
        seed: seed of the draws (with the epoch and step index; never the global RNG).
    """

    def __init__(self, stream: BPTTBatcher, lines: LineLoader, share: float, seed: int = 0) -> None:
        if not 0.0 <= share < 1.0:
            raise ConfigError(f"fresh_line_share = {share}: must be in [0, 1)")
        self.stream, self.lines, self.share, self.seed = stream, lines, share, seed
        self.epoch = 0
        self.index = 0  # steps of this epoch already handed out
        self.line_epoch = 0
        self._line_iter: Iterator[LMBatch] | None = None
        self._schedule: tuple[int, list[bool]] | None = None

    def schedule(self) -> list[bool]:
        """For each step of the current epoch: True takes a line batch, False a stream window."""
        if self._schedule is None or self._schedule[0] != self.epoch:
            rng = random.Random(f"seqlab-mixed:{self.seed}:{self.epoch}")
            picks: list[bool] = []
            windows = len(self.stream.windows(self.epoch))
            while windows:
                take_line = rng.random() < self.share
                picks.append(take_line)
                windows -= not take_line
            self._schedule = (self.epoch, picks)
        return self._schedule[1]

    def set_epoch(self, epoch: int) -> None:
        if epoch != self.epoch:
            self.epoch, self.index = epoch, 0
        self.stream.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.schedule())

    def _next_line_batch(self) -> LMBatch:
        while True:
            if self._line_iter is None:
                self.lines.set_epoch(self.line_epoch)
                self._line_iter = iter(self.lines)
            batch = next(self._line_iter, None)
            if batch is not None:
                return batch
            self._line_iter, self.line_epoch = None, self.line_epoch + 1

    def __iter__(self) -> Iterator[LMBatch]:
        """The remaining steps of the current epoch; a finished pass rewinds to its start."""
        picks = self.schedule()
        stream_iter = iter(self.stream)
        while self.index < len(picks):
            take_line = picks[self.index]
            self.index += 1
            yield self._next_line_batch() if take_line else next(stream_iter)
        self.index = 0

    def state_dict(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "index": self.index,
            "line_epoch": self.line_epoch,
            "share": self.share,
            "stream": self.stream.state_dict(),
            "lines": self.lines.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("share", self.share) != self.share:
            raise ConfigError(f"cannot resume: fresh_line_share was {state['share']}, now {self.share}")
        self.epoch, self.index, self.line_epoch = (
            int(state["epoch"]),
            int(state["index"]),
            int(state["line_epoch"]),
        )
        self.stream.load_state_dict(state["stream"])
        self.lines.load_state_dict(state["lines"])
        self._line_iter = None  # the loader resumes from its own position on the next line batch
