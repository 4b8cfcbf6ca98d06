"""Micro-batching: concurrent requests share model calls and get their own results."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from inference.serving.batching import MicroBatcher


def _batcher_run(requests: list[list[str]], *, max_batch_size: int, max_wait_ms: float, stagger_s: float = 0.0):
    calls: list[list[str]] = []

    def run_batch(texts: list[str]) -> list[str]:
        calls.append(list(texts))
        time.sleep(0.01)
        return [t.upper() for t in texts]

    async def main() -> list[list[str]]:
        with ThreadPoolExecutor(1) as executor:
            batcher = MicroBatcher(run_batch, executor, max_batch_size=max_batch_size, max_wait_ms=max_wait_ms)
            batcher.start()

            async def one(i: int, texts: list[str]) -> list[str]:
                await asyncio.sleep(i * stagger_s)
                return await batcher.submit(texts)

            results = await asyncio.gather(*(one(i, texts) for i, texts in enumerate(requests)))
            await batcher.stop()
            return results

    return asyncio.run(main()), calls


def test_concurrent_requests_share_batches_and_get_their_own_results() -> None:
    requests = [[f"r{i}-a", f"r{i}-b"] if i % 2 else [f"r{i}"] for i in range(12)]
    results, calls = _batcher_run(requests, max_batch_size=8, max_wait_ms=50)
    assert results == [[t.upper() for t in texts] for texts in requests]
    assert max(len(c) for c in calls) > 2, calls  # requests were merged
    assert all(len(c) <= 8 for c in calls), calls  # never over the bound
    assert sorted(t for c in calls for t in c) == sorted(t for r in requests for t in r)  # each text once


def test_an_oversized_request_runs_alone() -> None:
    results, calls = _batcher_run([["a"] * 20, ["b"]], max_batch_size=4, max_wait_ms=5)
    assert results == [["A"] * 20, ["B"]] and ["a"] * 20 in calls


def test_wait_is_bounded() -> None:
    start = time.monotonic()
    results, calls = _batcher_run([["only"]], max_batch_size=64, max_wait_ms=30)
    assert results == [["ONLY"]] and calls == [["only"]]
    assert time.monotonic() - start < 1.0


def test_a_failing_batch_fails_its_requests_only() -> None:
    def run_batch(texts: list[str]) -> list[str]:
        if "boom" in texts:
            raise RuntimeError("model exploded")
        return texts

    async def main() -> tuple[object, list[str]]:
        with ThreadPoolExecutor(1) as executor:
            batcher = MicroBatcher(run_batch, executor, max_batch_size=1, max_wait_ms=0)
            batcher.start()
            failed = await asyncio.gather(batcher.submit(["boom"]), return_exceptions=True)
            ok = await batcher.submit(["fine"])
            await batcher.stop()
            return failed[0], ok

    failed, ok = asyncio.run(main())
    assert isinstance(failed, RuntimeError) and ok == ["fine"]
