"""Batch requests that arrive together into one model call.

Requests go into a bounded queue (full: :class:`QueueFull`, answered 429). One worker takes the
first waiting request, waits up to ``wait_s`` for more (never longer than it takes to fill
``max_batch_size`` texts), groups what it has by *key* (same model, same operation, same decoding
parameters), and runs each group as one call in a single model thread, so the event loop keeps
answering (health checks, new requests) while the model works. Under load the queue fills while the
model is busy, so batches grow by themselves; alone, a request waits at most ``wait_s``.

A request whose caller stopped waiting (time limit) frees its queue slot at once and is dropped
before it runs. When a batched call
fails on a user error, each request of the group is retried alone, so one bad request cannot fail
its neighbours.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from seqlab.errors import SeqlabError

log = logging.getLogger("seqlab.serve")

BatchFn = Callable[[list[Any]], Sequence[Any]]


class QueueFull(Exception):
    """The queue holds ``queue_size`` requests already."""


@dataclass
class Job:
    """One request: its ``inputs`` (texts) go through ``run`` together with those of other jobs of
    the same ``key``; ``run(inputs) -> outputs`` must return one output per input, in order."""

    key: Hashable
    inputs: list[Any]
    run: BatchFn
    future: asyncio.Future = field(repr=False)
    enqueued: float = field(default_factory=time.monotonic)
    waiting: bool = True  # in the queue, holding one of its slots


@dataclass
class BatchStats:
    """Counters for ``GET /stats`` and the load test."""

    requests: int = 0
    batches: int = 0
    texts: int = 0
    dropped: int = 0
    in_flight: int = 0
    largest_batch: int = 0

    def as_dict(self, queued: int) -> dict[str, float]:
        mean = self.texts / self.batches if self.batches else 0.0
        return {
            "requests": self.requests,
            "batches": self.batches,
            "texts": self.texts,
            "mean_batch_size": round(mean, 3),
            "largest_batch": self.largest_batch,
            "dropped_after_timeout": self.dropped,
            "in_flight": self.in_flight,
            "queued": queued,
        }


class Batcher:
    """The bounded queue and its worker. ``start()`` inside the event loop, ``await stop()`` at the end."""

    def __init__(self, *, max_batch_size: int, wait_s: float, queue_size: int) -> None:
        self.max_batch_size = max_batch_size
        self.wait_s = wait_s
        self.queue_size = queue_size
        # holds waiting jobs and abandoned ones the worker has not reached yet; only the waiting
        # ones count against ``queue_size`` (a caller that stopped waiting frees its slot at once)
        self.queue: asyncio.Queue[Job] = asyncio.Queue()
        self.queued = 0
        self.stats = BatchStats()
        self._arrived = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seqlab-model")
        self._worker: asyncio.Task | None = None

    def start(self) -> None:
        self._worker = asyncio.get_running_loop().create_task(self._work(), name="seqlab-batcher")

    async def stop(self) -> None:
        """Stop the worker (after the server drained its requests) and the model thread."""
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
        self._executor.shutdown(wait=True, cancel_futures=True)

    async def call_in_model_thread(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` in the model thread (loading, one-off work), between batches."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    def submit(self, key: Hashable, inputs: list[Any], run: BatchFn) -> asyncio.Future:
        """Queue a request; its future gets the list of outputs. Raises QueueFull when
        ``queue_size`` requests are waiting (requests whose caller stopped waiting do not count)."""
        if self.queued >= self.queue_size:
            raise QueueFull
        if self.queue.qsize() >= 2 * self.queue_size:
            self._drop_abandoned()
        future = asyncio.get_running_loop().create_future()
        job = Job(key, list(inputs), run, future)
        self.queue.put_nowait(job)
        self.queued += 1
        self.stats.requests += 1
        self.stats.in_flight += 1
        future.add_done_callback(lambda _, job=job: self._finished(job))
        self._arrived.set()
        return future

    def _finished(self, job: Job) -> None:
        self.stats.in_flight -= 1
        self._leave_queue(job)

    def _leave_queue(self, job: Job) -> None:
        """``job`` no longer holds a queue slot: the worker took it, or its caller stopped waiting."""
        if job.waiting:
            job.waiting = False
            self.queued -= 1

    def _drop_abandoned(self) -> None:
        """Take the jobs whose caller stopped waiting out of the queue (while the model is stuck on a
        long call they would pile up)."""
        jobs = [self.queue.get_nowait() for _ in range(self.queue.qsize())]
        for job in jobs:
            if job.future.done():
                self.stats.dropped += 1
            else:
                self.queue.put_nowait(job)

    async def _get(self) -> Job:
        job = await self.queue.get()
        self._leave_queue(job)
        return job

    async def _collect(self) -> list[Job]:
        """The first waiting job and those that join it within ``wait_s`` (up to a full batch)."""
        jobs = [await self._get()]
        size = len(jobs[0].inputs)
        deadline = time.monotonic() + self.wait_s
        while size < self.max_batch_size:
            if self.queue.empty():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._arrived.clear()
                try:
                    await asyncio.wait_for(self._arrived.wait(), remaining)
                except asyncio.TimeoutError:
                    break
                continue
            job = await self._get()
            jobs.append(job)
            size += len(job.inputs)
        return jobs

    async def _work(self) -> None:
        while True:
            jobs = await self._collect()
            live = [job for job in jobs if not job.future.done()]
            self.stats.dropped += len(jobs) - len(live)
            groups: dict[Hashable, list[Job]] = {}
            for job in live:
                groups.setdefault(job.key, []).append(job)
            for group in groups.values():
                await self._run_group(group)

    async def _run_group(self, group: list[Job]) -> None:
        """Run ``group`` in calls of at most ``max_batch_size`` inputs; hand each job its outputs."""
        chunks: list[list[Job]] = [[]]
        size = 0
        for job in group:
            if chunks[-1] and size + len(job.inputs) > self.max_batch_size:
                chunks.append([])
                size = 0
            chunks[-1].append(job)
            size += len(job.inputs)
        for chunk in chunks:
            chunk = [job for job in chunk if not job.future.done()]
            if chunk:
                await self._run_chunk(chunk)

    async def _run_chunk(self, jobs: list[Job]) -> None:
        inputs = [x for job in jobs for x in job.inputs]
        self.stats.batches += 1
        self.stats.texts += len(inputs)
        self.stats.largest_batch = max(self.stats.largest_batch, len(inputs))
        try:
            outputs = await self.call_in_model_thread(lambda: list(jobs[0].run(inputs)))
        except SeqlabError as exc:
            if len(jobs) > 1:  # one bad request must not fail its neighbours
                for job in jobs:
                    if not job.future.done():
                        await self._run_chunk([job])
                return
            _resolve(jobs[0], exc)
            return
        except Exception as exc:  # a bug: the request gets a 500, the worker lives on
            log.exception("model call failed")
            for job in jobs:
                _resolve(job, exc)
            return
        if len(outputs) != len(inputs):
            bug = RuntimeError(f"a batch of {len(inputs)} inputs gave {len(outputs)} outputs")
            for job in jobs:
                _resolve(job, bug)
            return
        start = 0
        for job in jobs:
            _resolve(job, outputs[start : start + len(job.inputs)])
            start += len(job.inputs)


def _resolve(job: Job, result: Any) -> None:
    if job.future.done():  # its caller stopped waiting
        return
    if isinstance(result, BaseException):
        job.future.set_exception(result)
    else:
        job.future.set_result(result)
