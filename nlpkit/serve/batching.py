"""Requests from many clients gathered into batches for one model: a bounded queue (a request
that would overflow it is refused at once, never queued), a batch formed when `batch_tokens`
words wait or `max_wait` has passed since the first, run in the model's own worker thread so
the event loop never waits on torch; each request gets its own results, in order. A request
whose client went away before its batch formed is dropped from it."""

from __future__ import annotations

import asyncio
import collections
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field


class Busy(Exception):
    """The queue is full: answer 503 and let the client retry."""


@dataclass
class Job:
    items: list
    words: int
    future: asyncio.Future
    options: dict = field(default_factory=dict)


class Batcher:
    def __init__(self, predict, queue_limit: int, batch_tokens: int, max_wait_s: float, name: str = "model"):
        self.predict = predict  # items -> list of answers, in order (runs in the worker thread)
        self.queue_limit, self.batch_tokens, self.max_wait = queue_limit, batch_tokens, max_wait_s
        self.pending: collections.deque[Job] = collections.deque()
        self.waiting = 0  # items queued, not yet handed to the worker
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"nlpkit-{name}")
        self.arrived = asyncio.Event()
        self.task: asyncio.Task | None = None
        self.batches = 0

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        for job in self.pending:
            if not job.future.done():
                job.future.set_exception(Busy())
        self.worker.shutdown(wait=True)

    def submit(self, items: list, words: int) -> asyncio.Future:
        """Queue a request's items; raises Busy when they would overflow the queue."""
        if self.waiting + len(items) > self.queue_limit:
            raise Busy()
        job = Job(items, words, asyncio.get_running_loop().create_future())
        self.pending.append(job)
        self.waiting += len(items)
        self.arrived.set()
        return job.future

    def _take(self) -> list[Job]:
        """Jobs for one batch, in arrival order: at least one, then while the word budget lasts;
        those whose client has gone are dropped."""
        batch, words = [], 0
        while self.pending and (not batch or words + self.pending[0].words <= self.batch_tokens):
            job = self.pending.popleft()
            self.waiting -= len(job.items)
            if job.future.cancelled():
                continue
            batch.append(job)
            words += job.words
        return batch

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self.arrived.wait()
            self.arrived.clear()
            while self.pending:
                deadline = loop.time() + self.max_wait
                while sum(j.words for j in self.pending) < self.batch_tokens and loop.time() < deadline:
                    self.arrived.clear()
                    try:
                        await asyncio.wait_for(self.arrived.wait(), deadline - loop.time())
                    except TimeoutError:
                        break
                batch = self._take()
                if not batch:
                    continue
                items = [item for job in batch for item in job.items]
                try:
                    answers = await loop.run_in_executor(self.worker, self.predict, items)
                except Exception as exc:  # noqa: BLE001 - every waiting request learns of it; the server goes on
                    for job in batch:
                        if not job.future.done():
                            job.future.set_exception(exc)
                    continue
                self.batches += 1
                start = 0
                for job in batch:
                    part = answers[start : start + len(job.items)]
                    start += len(job.items)
                    if not job.future.done():
                        job.future.set_result(part)
