"""What data capture costs a request: the same `mlops serve` with capture off and at 100 %, side by side.

Two servers of one model and one layout, one without capture and one capturing every request, measured in
interleaved rounds of the same run (`benchmarks.compare`), closed loop: p50 / p95 / p99, throughput, each server's
CPU per request, and the ratios to the server without capture. The capturing server's counters (captured, dropped)
and the lines it wrote are checked afterwards, so that a run where capture did not happen cannot pass as free.
The model defaults to the tiny preset (random weights), where a request is cheapest and so capture's share of it
the largest.

Run: .venv/bin/python -m benchmarks.capture_overhead --out docs/capture_overhead.json
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.compare import compare
from benchmarks.load import LoadConfig
from benchmarks.payloads import load_payloads
from benchmarks.report import emit_json
from benchmarks.servers import server_process
from benchmarks.targets import http_target

log = logging.getLogger("benchmarks.capture_overhead")

OFF, ON = "capture off", "capture 100%"


def capture_counts(invocations_url: str) -> dict[str, float]:
    """A server's capture counters by outcome, read from its /metrics."""
    metrics_url = invocations_url.removesuffix("/invocations") + "/metrics"
    with urllib.request.urlopen(metrics_url, timeout=10) as resp:  # noqa: S310 - loopback
        text = resp.read().decode()
    counts = {}
    for line in text.splitlines():
        if line.startswith("intent_capture_records_total{"):
            labels, _, value = line.rpartition(" ")
            counts[labels.split('"')[1]] = float(value)
    return counts


def measure(
    model_dir: Path, texts: list[str], *, rounds: int, requests: int, concurrency: int, workers: int, threads: int
) -> dict[str, Any]:
    """Both servers, interleaved rounds; the comparison with each server's CPU and the capture evidence."""
    from inference.serving.capture import capture_files

    flags: dict[str, Any] = {"precision": "int8", "workers": workers, "threads": threads}
    with contextlib.ExitStack() as stack:
        capture_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="capture-bench-")))
        servers = {
            OFF: stack.enter_context(server_process(model_dir, **flags)),
            ON: stack.enter_context(server_process(model_dir, capture_dir=capture_dir, **flags)),
        }
        config = LoadConfig(concurrency=concurrency, requests=requests, warmup_requests=20)
        result = compare(
            {name: http_target(server.url) for name, server in servers.items()},
            texts,
            config,
            rounds=rounds,
            baseline=OFF,
            cpu_probes={name: server.cpu_seconds for name, server in servers.items()},
        )
        sent = result["targets"][ON]["ok"] + result["targets"][ON]["errors"] + config.warmup_requests
        time.sleep(1.0)  # the writer thread writes every DEFAULT_FLUSH_INTERVAL_S: let it take the last batch
        result["capture_counts"] = capture_counts(servers[ON].url)
        result["capture_lines_on_disk"] = sum(
            len(path.read_bytes().splitlines()) for path in capture_files(capture_dir)
        )
        result["requests_sent_to_capture"] = sent
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print (and optionally write) one JSON document."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="an exported model directory (default: tiny preset)")
    parser.add_argument("--cache", type=Path, default=None, help="where the preset model is built (<state>/bench)")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds per concurrency")
    parser.add_argument("--requests", type=int, default=200, help="measured requests per server per round")
    parser.add_argument("--concurrency", default="1,4", help="closed-loop clients, comma-separated")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from benchmarks.serving import bench_model
    from ml.settings import natural_set_path, state_dir

    model_dir = args.model or bench_model("tiny", args.cache or state_dir() / "bench")
    texts = load_payloads(natural_set_path())
    out: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "model": str(model_dir),
        "payloads": f"{len(texts)} hand-written prompts (data/natural_prompts.jsonl)",
        "layout": {"workers": args.workers, "threads": args.threads, "precision": "int8"},
        "rounds": args.rounds,
        "requests_per_round": args.requests,
    }
    for concurrency in (int(c) for c in args.concurrency.split(",")):
        out[f"concurrency {concurrency}"] = measure(
            model_dir,
            texts,
            rounds=args.rounds,
            requests=args.requests,
            concurrency=concurrency,
            workers=args.workers,
            threads=args.threads,
        )
    emit_json(out, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
