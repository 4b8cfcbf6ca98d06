"""Dynamic micro-batching: concurrent requests share one model call.

A request's texts wait at most `max_wait_ms` (counted from when the oldest waiting request arrived) for
others to join, and a batch holds at most `max_batch_size` texts (a single larger request runs alone; the
predictor chunks it). Batches run one at a time on the inference executor, so while one runs the next fills.
Once a shutdown begins (`reject_waiting`), what has not gone to the model yet fails with `ShuttingDown`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    texts: Sequence[str]
    future: asyncio.Future[list[Any]]
    arrived: float = field(default_factory=time.monotonic)


_STOP = object()


class ShuttingDown(Exception):
    """The server is shutting down: a request that has not reached the model yet never will."""


class MicroBatcher:
    """Collects texts from concurrent callers into batches for `run_batch` (a blocking function run on `executor`)."""

    def __init__(
        self,
        run_batch: Callable[[list[str]], list[Any]],
        executor: Executor,
        *,
        max_batch_size: int,
        max_wait_ms: float,
    ) -> None:
        if max_batch_size < 1 or max_wait_ms < 0:
            raise ValueError("max_batch_size must be >= 1 and max_wait_ms >= 0")
        self._run_batch = run_batch
        self._executor = executor
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_ms / 1000.0
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._rejecting = False

    def start(self) -> None:
        """Start the collecting task on the running loop."""
        self._task = asyncio.get_running_loop().create_task(self._collect(), name="micro-batcher")

    async def stop(self) -> None:
        """Finish everything submitted so far, then stop."""
        if self._task is None:
            return
        await self._queue.put(_STOP)
        await self._task
        self._task = None

    def reject_waiting(self) -> None:
        """Fail every request not yet handed to the model (queued, or in a batch still filling) with ShuttingDown,
        and every later one; the batch running finishes."""
        self._rejecting = True
        if self._task is not None and not self._task.done():
            self._queue.put_nowait(_STOP)  # stops waiting for a batch to fill

    async def submit(self, texts: Sequence[str]) -> list[Any]:
        """Classify texts as part of a batch; returns one result per text."""
        if self._rejecting:
            raise ShuttingDown
        if self._task is None or self._task.done():
            raise RuntimeError("the batcher is not running")
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(texts, future))
        return await future

    async def _collect(self) -> None:
        carry: _Pending | None = None
        stopping = False
        while not stopping:
            first = carry if carry is not None else await self._queue.get()
            carry = None
            if first is _STOP:
                break
            batch, size = [first], len(first.texts)
            deadline = first.arrived + self.max_wait_s
            while size < self.max_batch_size:
                remaining = deadline - time.monotonic()
                try:
                    # Past the deadline, still take what is already queued: it costs no extra wait.
                    item = (
                        self._queue.get_nowait()
                        if remaining <= 0
                        else await asyncio.wait_for(self._queue.get(), remaining)
                    )
                except (asyncio.QueueEmpty, TimeoutError):
                    break
                if item is _STOP:
                    stopping = True
                    break
                if size + len(item.texts) > self.max_batch_size:
                    carry = item
                    break
                batch.append(item)
                size += len(item.texts)
            await self._run(batch)
        # Anything submitted after stop() was called still gets an answer.
        while carry is not None or not self._queue.empty():
            item = carry if carry is not None else self._queue.get_nowait()
            carry = None
            if item is not _STOP:
                await self._run([item])

    async def _run(self, batch: list[_Pending]) -> None:
        if self._rejecting:
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(ShuttingDown())
            return
        texts = [text for item in batch for text in item.texts]
        loop = asyncio.get_running_loop()
        try:
            results = await loop.run_in_executor(self._executor, self._run_batch, texts)
        except Exception as exc:
            log.exception("batch of %d texts failed", len(texts))
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(exc)
            return
        start = 0
        for item in batch:
            end = start + len(item.texts)
            if not item.future.done():  # the caller may have gone away
                item.future.set_result(results[start:end])
            start = end
