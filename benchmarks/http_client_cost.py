"""The load generator's own CPU per request: its HTTP client, httpx (used before) against http.client (used now).

On a 2-core machine the load generator shares the cores with the server it measures, so every millisecond of
client CPU is taken from the server. Both clients drive the same real model server (`mlops serve`, tiny int8
model, one single-threaded worker, no batching) with 8 concurrent clients in a closed loop, in interleaved
rounds; the generator's CPU is this process's user+system time over the measured requests.

Run: .venv/bin/python -m benchmarks.http_client_cost --model-dir DIR [--requests 2000] [--rounds 3] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import statistics
from pathlib import Path
from typing import Any

from benchmarks.load import LoadConfig, Target, run_load
from benchmarks.payloads import load_payloads
from benchmarks.report import emit_json
from benchmarks.servers import served
from benchmarks.targets import VARIANT_HEADER, HttpStatusError, http_target


def httpx_target(url: str, *, timeout_s: float = 30.0) -> Target:
    """The baseline: the httpx client pool benchmarks.targets used before, TCP_NODELAY set."""
    import queue

    import httpx

    idle: queue.SimpleQueue[httpx.Client] = queue.SimpleQueue()
    nodelay = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]

    def call(text: str) -> str | None:
        try:
            client = idle.get_nowait()
        except queue.Empty:
            client = httpx.Client(timeout=timeout_s, transport=httpx.HTTPTransport(socket_options=nodelay))
        try:
            response = client.post(
                url, content=json.dumps({"inputs": text}).encode(), headers={"Content-Type": "application/json"}
            )
        finally:
            idle.put(client)
        if response.status_code >= 300:
            raise HttpStatusError(f"HTTP {response.status_code}")
        return response.headers.get(VARIANT_HEADER)

    return call


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(model_dir: Path, requests: int, rounds: int, concurrency: int) -> dict[str, Any]:
    """Per client: generator CPU ms per request, throughput and latency, as medians over interleaved rounds."""
    texts = load_payloads()
    config = LoadConfig(concurrency=concurrency, requests=requests, warmup_requests=0)
    samples: dict[str, list[dict[str, float]]] = {"httpx": [], "http.client": []}
    with served(model_dir, precision="int8", workers=1, threads=1, batch_max_size=1) as url:
        clients = {"httpx": httpx_target(url), "http.client": http_target(url)}
        for target in clients.values():  # opens every pooled connection and warms the server
            run_load(target, texts, LoadConfig(concurrency=concurrency, requests=300, warmup_requests=concurrency))
        for _ in range(rounds):
            for name, target in clients.items():
                before = _cpu_s()
                summary = run_load(target, texts, config).summary()
                cpu_ms = (_cpu_s() - before) / requests * 1000
                if summary["errors"]:
                    raise RuntimeError(f"{name}: {summary['errors']} errors in a round")
                samples[name].append(
                    {
                        "generator_cpu_ms_per_request": cpu_ms,
                        "throughput_rps": summary["throughput_rps"],
                        "p50_ms": summary["p50_ms"],
                        "p95_ms": summary["p95_ms"],
                    }
                )
    result: dict[str, Any] = {}
    for name, rows in samples.items():
        result[name] = {key: round(statistics.median(row[key] for row in rows), 3) for key in rows[0]}
        result[name]["rounds"] = rows
    base = result["httpx"]["generator_cpu_ms_per_request"]
    for name in result:
        result[name]["cpu_vs_httpx"] = round(result[name]["generator_cpu_ms_per_request"] / base, 3)
    return result


def main(argv: list[str] | None = None) -> int:
    """Measure both clients and print (and optionally write) the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, required=True, help="a trained tiny model dir with ONNX exports")
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per client per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    emit_json(
        {
            "clients": measure(args.model_dir, args.requests, args.rounds, args.concurrency),
            "requests_per_round": args.requests,
            "concurrency": args.concurrency,
        },
        args.out,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
