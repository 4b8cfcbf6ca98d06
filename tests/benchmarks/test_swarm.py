"""`mlops bench locust`: a real Locust master and worker processes against the real model server, the local A/B
endpoint (over HTTP and through boto3) and a deliberately slow server, as a user runs it."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from benchmarks.swarm.runner import SwarmConfig, require_locust
from benchmarks.swarm.settings import ENDPOINT_USER, SAGEMAKER_USER, SERVER_USER, user_class
from ml.errors import MlopsError
from tests.conftest import ROOT, free_port, run_cli
from tests.inference.conftest import AB_ENDPOINT, ab_models, start_ab_endpoint

# The tests that run Locust need the locust extra (pyproject.toml's test extra installs it).
needs_locust = pytest.mark.skipif(
    importlib.util.find_spec("locust") is None, reason="the locust extra is not installed"
)

PROMPTS = "translate good morning into Spanish\nwrite a haiku about autumn\nwhy is my laptop so slow?\n"
# A few seconds at a modest rate: enough requests for percentiles and for both workers, bounded in time.
RATE, DURATION = "16", "3"


@pytest.fixture
def payloads(tmp_path: Path) -> Path:
    path = tmp_path / "prompts.txt"
    path.write_text(PROMPTS)
    return path


def bench_locust(target: str, payloads: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    """`mlops bench locust --json` with 2 workers on a free master port: (exit code, result, output)."""
    proc = run_cli(
        "bench",
        "locust",
        "--target",
        target,
        "--rate",
        RATE,
        "--duration",
        DURATION,
        "--workers",
        "2",
        "--master-port",
        str(free_port()),
        "--payloads",
        str(payloads),
        "--json",
        *args,
    )
    output = proc.stdout + proc.stderr
    return proc.returncode, json.loads(proc.stdout) if proc.stdout.strip() else {}, output


def assert_merged(summary: dict[str, Any]) -> None:
    """Every worker generated load and every sample it took reached the report: the merge loses nothing."""
    workers = summary["workers"]
    assert len(workers) == 2 and all(w["requests"] > 0 for w in workers.values()), workers
    assert summary["requests"] == sum(w["requests"] for w in workers.values())
    assert all(w["received"] == w["requests"] for w in workers.values())
    assert summary["generator"] == "locust" and summary["mode"] == "open"


@needs_locust
def test_two_workers_against_the_real_server_merge_into_the_bench_run_report(
    onnx_model: Path, server_factory: Any, payloads: Path
) -> None:
    server = server_factory(onnx_model, "--threads", "1")
    code, result, output = bench_locust(f"{server.url}/invocations", payloads, "--gate-p95-ms", "500")
    assert code == 0, output
    summary = result["summary"]
    assert_merged(summary)
    assert summary["errors"] == 0 and summary["ok"] == summary["requests"]
    # Exact nearest-rank percentiles over every worker's raw samples: each is an observed latency, in order.
    assert 0 < summary["p50_ms"] <= summary["p95_ms"] <= summary["p99_ms"] <= summary["max_ms"]
    assert result["gate"] == {"passed": True, "p95_ms": summary["p95_ms"], "budget_ms": 500.0, "reasons": []}
    assert server.terminate() == 0


@needs_locust
def test_the_local_ab_endpoint_gets_per_variant_statistics_over_http_and_boto3(
    onnx_model: Path, tmp_path: Path, payloads: Path
) -> None:
    endpoint = start_ab_endpoint(ab_models(onnx_model, tmp_path / "variants"), tmp_path / "endpoint.log")
    try:
        for target, extra in (
            (f"{endpoint.url}/endpoints/{AB_ENDPOINT}/invocations", ()),
            (f"sagemaker:{AB_ENDPOINT}", ("--endpoint-url", endpoint.url)),
        ):
            code, result, output = bench_locust(target, payloads, *extra)
            assert code == 0, output
            summary = result["summary"]
            assert_merged(summary)
            variants = summary["variants"]
            # Weighted 90/10: the heavy variant always answers; every request is counted under the one that did.
            assert "a" in variants and set(variants) <= {"a", "b"}, variants
            assert sum(v["requests"] for v in variants.values()) == summary["requests"]
            assert all(v["p95_ms"] is not None for v in variants.values())
    finally:
        endpoint.kill()


@contextlib.contextmanager
def slow_server(delay_s: float) -> Iterator[str]:
    """A server speaking the /invocations contract that takes delay_s over every answer."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            time.sleep(delay_s)
            body = b'{"predictions": []}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/invocations"
    finally:
        server.shutdown()
        server.server_close()


@needs_locust
def test_the_gate_fails_against_a_slow_target(payloads: Path) -> None:
    with slow_server(0.3) as url:
        code, result, output = bench_locust(url, payloads, "--gate-p95-ms", "150")
    assert code == 1, output
    summary, gate = result["summary"], result["gate"]
    assert_merged(summary)
    assert summary["p95_ms"] >= 300 and summary["errors"] == 0
    assert not gate["passed"] and gate["budget_ms"] == 150.0
    assert any("exceeds the budget of 150.0 ms" in reason for reason in gate["reasons"])


@needs_locust
def test_workers_that_cannot_reach_the_target_fail_the_gate_saying_so(payloads: Path) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}/invocations"  # nothing listens there
    code, result, output = bench_locust(unreachable, payloads)
    assert code == 1, output
    summary = result["summary"]
    assert_merged(summary)
    assert summary["errors"] == summary["requests"] and summary["p95_ms"] is None
    assert any("the target could not be reached" in reason for reason in result["gate"]["reasons"]), output


@needs_locust
def test_workers_started_elsewhere_with_worker_only_join_the_master(payloads: Path) -> None:
    """As on several machines: the master expects 2 workers and starts 1; a `--worker-only` command brings the other."""
    port = str(free_port())
    with slow_server(0.0) as url:
        common = ["bench", "locust", "--target", url, "--rate", RATE, "--duration", DURATION, "--master-port", port]
        common += ["--payloads", str(payloads)]
        master = subprocess.Popen(
            [sys.executable, "-m", "mlops_cli", *common, "--workers", "1", "--expect-workers", "2", "--json"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        try:
            worker = run_cli(*common, "--workers", "1", "--worker-only", "--master-host", "127.0.0.1")
            out, err = master.communicate(timeout=300)
        finally:
            if master.poll() is None:
                master.kill()
                master.wait()
    assert worker.returncode == 0, worker.stdout + worker.stderr
    assert master.returncode == 0, out + err
    assert_merged(json.loads(out)["summary"])


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("http://127.0.0.1:8080/invocations", SERVER_USER),
        ("https://host/endpoints/ab/invocations", ENDPOINT_USER),
        ("sagemaker:prod-endpoint", SAGEMAKER_USER),
    ],
)
def test_each_kind_of_target_gets_its_user_class(target: str, expected: str) -> None:
    assert user_class(target) == expected


@pytest.mark.parametrize("target", ["127.0.0.1:8080/invocations", "sagemaker:", "ftp://host/invocations"])
def test_a_target_that_is_none_of_the_kinds_is_refused_before_any_process_starts(target: str, payloads: Path) -> None:
    proc = run_cli("bench", "locust", "--target", target, "--rate", "10", "--payloads", str(payloads))
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "sagemaker:" in proc.stderr  # the hint names the forms a target takes


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"rate_rps": 0, "duration_s": 1}, "must be positive"),
        ({"rate_rps": 10, "duration_s": 1, "workers": 0}, "no worker"),
        ({"rate_rps": 10, "duration_s": 1, "worker_only": True}, "--master-host"),
        ({"rate_rps": 10, "duration_s": 1, "master_host": "10.0.0.5"}, "--worker-only"),
    ],
)
def test_bad_load_settings_are_refused_with_what_to_give(config: dict[str, Any], message: str) -> None:
    with pytest.raises(MlopsError) as caught:
        SwarmConfig(**config)
    assert message in str(caught.value) + str(caught.value.hint)


def test_users_share_the_rate_and_every_worker_gets_one() -> None:
    assert SwarmConfig(rate_rps=10_000, duration_s=1, workers=8, user_rps=2).users == 5000
    assert SwarmConfig(rate_rps=3, duration_s=1, workers=4).users == 4  # then each user runs at 3/4 req/s


def test_without_locust_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "locust" else real(name, *a))
    with pytest.raises(MlopsError) as caught:
        require_locust()
    assert "intent-mlops[locust]" in str(caught.value.hint)


def test_the_worker_rate_counts_only_rates_a_worker_kept_up_with() -> None:
    """benchmarks.locust_worker_rate: the per-worker figure comes from the highest rate achieved below the CPU ceiling;
    a rate the worker fell behind on (or reached only by using a whole core) does not count."""
    from benchmarks.locust_worker_rate import derive

    def row(offered: float, achieved: float, cpu_share: float, cpu_us: float) -> dict[str, Any]:
        worker = {"achieved_rps": achieved, "cpu_share_of_core": cpu_share, "cpu_us_per_request": cpu_us}
        return {"offered_rps": offered, "locust_worker": worker}

    rows = [row(250, 250, 0.2, 600), row(500, 499, 0.3, 400), row(1000, 700, 0.4, 500), row(2000, 1990, 0.95, 450)]
    assert derive(rows) == {
        "per_worker_sustained_rps": 500,
        "per_worker_rps_at_cpu_ceiling": 2250,  # 90 % of a core at 400 us per request
        "workers_for_10k_rps": 5,
    }
    assert derive([row(1000, 500, 0.5, 400)])["workers_for_10k_rps"] is None
