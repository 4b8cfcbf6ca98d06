"""The load generator, exact statistics and the p95 gate."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from benchmarks.gate import latency_gate
from benchmarks.load import LoadConfig, run_load
from benchmarks.stats import latency_summary
from ml.errors import MlopsError
from ml.progress import Progress
from tests.conftest import run_cli


def test_percentiles_are_exact_nearest_rank() -> None:
    latencies = [i / 1000 for i in range(1, 101)]  # 1..100 ms
    summary = latency_summary(latencies, wall_s=2.0)
    assert (summary["p50_ms"], summary["p95_ms"], summary["p99_ms"], summary["max_ms"]) == (50.0, 95.0, 99.0, 100.0)
    assert summary["mean_ms"] == pytest.approx(50.5) and summary["throughput_rps"] == 50.0


def test_closed_loop_counts_requests_errors_and_variants() -> None:
    calls = iter(range(10_000))

    def target(text: str) -> str:
        n = next(calls)
        if n % 10 == 0:
            raise ConnectionError("boom")
        return "A" if n % 2 else "B"

    result = run_load(target, ["x", "y"], LoadConfig(concurrency=4, requests=200, warmup_requests=0))
    summary = result.summary()
    assert summary["requests"] == 200 and summary["errors"] == 20
    assert summary["errors_by_type"] == {"ConnectionError": 20}
    assert set(summary["variants"]) == {"A", "B"}
    assert summary["generator_overhead_us"] > 0


@pytest.mark.parametrize("mode", ["closed", "open"])
def test_a_load_run_reports_its_count_as_it_goes(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import benchmarks.load

    monkeypatch.setattr(benchmarks.load, "PROGRESS_EVERY_S", 0.01)
    reports: list[Progress] = []

    def slow(text: str) -> None:
        time.sleep(0.002)

    config = LoadConfig(mode=mode, rate_rps=500 if mode == "open" else None, concurrency=2, requests=60)
    run_load(slow, ["x"], config, on_progress=reports.append, task="tiny", status="measuring")
    assert reports[0] == Progress("tiny", "measuring: warming up", 0, 60)
    counts = [r.completed for r in reports[1:-1]]
    assert counts and counts == sorted(counts) and all(0 <= c <= 60 for c in counts)
    assert reports[-1] == Progress("tiny", "measuring", 60, 60, "60 requests", done=True)


def test_open_loop_counts_queueing_delay() -> None:
    """A target slower than the arrival rate: open-loop latency grows with the queue instead of hiding it."""

    def slow(text: str) -> None:
        time.sleep(0.02)

    summary = run_load(
        slow, ["x"], LoadConfig(mode="open", rate_rps=200, concurrency=1, requests=40, warmup_requests=0)
    ).summary()
    # 40 requests of 20 ms through one worker take >= 800 ms, though all were scheduled within 200 ms.
    assert summary["max_ms"] >= 500
    assert summary["p50_ms"] > 100


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "open"}, "positive --rate"),
        ({"concurrency": 0}, "concurrency must be >= 1"),
        ({"requests": None}, "request count or a duration"),
        ({"mode": "sideways"}, "mode must be"),
    ],
)
def test_bad_load_configs(kwargs: dict, message: str) -> None:
    with pytest.raises(MlopsError, match=message):
        LoadConfig(**kwargs)


def test_gate_verdicts() -> None:
    ok = {"requests": 10, "errors": 0, "p95_ms": 120.0}
    assert latency_gate(ok, 500).passed
    slow = latency_gate({**ok, "p95_ms": 650.0}, 500)
    assert not slow.passed and "p95 latency 650.0 ms exceeds the budget of 500.0 ms" in slow.reasons
    failing = latency_gate({**ok, "errors": 1, "errors_by_type": {"HttpStatusError": 1}}, 500)
    assert not failing.passed and "1 of 10 requests failed" in failing.reasons[0]


class _SleepyHandler(BaseHTTPRequestHandler):
    delay_s = 0.0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(self.delay_s)
        body = json.dumps({"predictions": [{"intent": "conversation"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[callable]:
    servers = []

    def start(delay_s: float) -> str:
        handler = type("Handler", (_SleepyHandler,), {"delay_s": delay_s})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/invocations"

    yield start
    for server in servers:
        server.shutdown()


def test_cli_gate_fails_for_a_slowed_target_and_passes_for_a_fast_one(http_server, tmp_path) -> None:
    payloads = tmp_path / "p.txt"
    payloads.write_text("hello\nwrite a poem\n")
    slow = run_cli(
        "bench",
        "run",
        "--url",
        http_server(0.3),
        "--requests",
        "8",
        "--warmup",
        "1",
        "--payloads",
        str(payloads),
        "--p95-budget-ms",
        "100",
    )
    assert slow.returncode == 1
    assert "exceeds the budget of 100.0 ms" in slow.stdout and "gate (p95 <= 100 ms): FAILED" in slow.stdout
    fast = run_cli(
        "bench",
        "run",
        "--url",
        http_server(0.0),
        "--requests",
        "20",
        "--payloads",
        str(payloads),
        "--p95-budget-ms",
        "100",
        "--json",
        "--out",
        str(tmp_path / "r.json"),
    )
    assert fast.returncode == 0, fast.stderr
    result = json.loads(fast.stdout)
    assert result["gate"]["passed"] and result["summary"]["ok"] == 20
    assert json.loads((tmp_path / "r.json").read_text()) == result


def test_cli_failed_requests_fail_the_gate(tmp_path) -> None:
    from tests.conftest import free_port

    payloads = tmp_path / "p.txt"
    payloads.write_text("hello\n")
    proc = run_cli(
        "bench",
        "run",
        "--url",
        f"http://127.0.0.1:{free_port()}/invocations",
        "--requests",
        "3",
        "--warmup",
        "0",
        "--payloads",
        str(payloads),
    )
    assert proc.returncode == 1 and "3 of 3 requests failed" in proc.stdout


def test_cli_needs_exactly_one_target() -> None:
    proc = run_cli("bench", "run", "--requests", "1")
    assert proc.returncode == 1 and "exactly one target" in proc.stderr


def test_compare_interleaves_targets_and_reports_ratios() -> None:
    from benchmarks.compare import compare

    def fast(text: str) -> None:
        time.sleep(0.001)

    def slow(text: str) -> None:
        time.sleep(0.004)

    result = compare({"fast": fast, "slow": slow}, ["x"], LoadConfig(requests=20, warmup_requests=1), rounds=2)
    assert result["baseline"] == "fast" and result["targets"]["fast"]["requests"] == 40
    assert result["targets"]["slow"]["ratios_vs_baseline"]["p50_ms"] > 2
    assert result["targets"]["fast"]["ratios_vs_baseline"]["p50_ms"] == 1.0
    with pytest.raises(MlopsError, match="baseline 'nope'"):
        compare({"fast": fast}, ["x"], LoadConfig(requests=1), baseline="nope")


def test_compare_reports_cpu_per_request_sent_for_probed_targets() -> None:
    from benchmarks.compare import compare

    used = {"a": 0.0}

    def costly(text: str) -> None:
        used["a"] += 0.002  # the "server" spends 2 ms of CPU per request

    result = compare(
        {"a": costly, "b": lambda text: None},
        ["x"],
        LoadConfig(requests=10, warmup_requests=2),
        rounds=3,
        round_warmup=1,
        cpu_probes={"a": lambda: used["a"]},
    )
    # 30 measured + 2 warm-up + 2 per-round warm-ups = 34 requests, all of them counted.
    assert result["targets"]["a"]["server_cpu_ms_per_request"] == 2.0
    assert result["targets"]["a"]["client_cpu_ms_per_request"] >= 0
    assert "server_cpu_ms_per_request" not in result["targets"]["b"]
    with pytest.raises(MlopsError, match="unknown targets: c"):
        compare({"a": costly}, ["x"], LoadConfig(requests=1), cpu_probes={"c": lambda: 0.0})


def test_warm_up_runs_at_the_load_concurrency_and_is_not_measured() -> None:
    """Every concurrent caller is warmed up before measuring: 4 warm-up calls meet at a barrier only if concurrent."""
    barrier = threading.Barrier(4, timeout=10)
    lock, calls = threading.Lock(), []

    def target(text: str) -> None:
        with lock:
            calls.append(text)
            first_four = len(calls) <= 4
        if first_four:
            barrier.wait()  # sequential warm-up calls would break the barrier after 10 s

    summary = run_load(target, ["x"], LoadConfig(concurrency=4, requests=8, warmup_requests=4)).summary()
    assert not barrier.broken
    assert len(calls) == 12 and summary["requests"] == 8 and summary["errors"] == 0


class _KeepAliveHandler(_SleepyHandler):
    protocol_version = "HTTP/1.1"  # keep connections open, so that each client shows up as one connection
    connections: list[int]

    def setup(self) -> None:
        super().setup()
        self.connections.append(self.client_address[1])


def test_http_target_keeps_its_connections_across_rounds_of_new_threads() -> None:
    """Clients outlive the load generator's threads: three rounds of 3 new threads reuse 3 connections."""
    from benchmarks.compare import compare
    from benchmarks.targets import http_target

    connections: list[int] = []
    handler = type("Handler", (_KeepAliveHandler,), {"connections": connections})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/invocations"
        result = compare(
            {"http": http_target(url)}, ["x"], LoadConfig(concurrency=3, requests=30, warmup_requests=6), rounds=3
        )
    finally:
        server.shutdown()
    assert result["targets"]["http"]["ok"] == 90
    # A client per thread would have opened one connection per thread per round (and one for the warm-up): 10.
    assert 1 <= len(connections) <= 3


def test_compare_settles_between_targets_and_warms_up_every_round() -> None:
    from benchmarks.compare import compare

    calls: list[tuple[str, float]] = []

    def recorder(name: str) -> Callable[[str], None]:
        return lambda text: calls.append((name, time.monotonic()))

    result = compare(
        {"a": recorder("a"), "b": recorder("b")},
        ["x"],
        LoadConfig(requests=2, warmup_requests=1),
        rounds=3,
        settle_s=0.05,
        round_warmup=1,
    )
    # Per target: 1 warm-up and 2 measured in the first round, then 1 unmeasured and 2 measured in each other round.
    assert [name for name, _ in calls] == ["a"] * 3 + ["b"] * 3 + (["a"] * 3 + ["b"] * 3) * 2
    assert result["targets"]["a"]["requests"] == 6 and result["targets"]["b"]["requests"] == 6
    switches = [i for i in range(1, len(calls)) if calls[i][0] != calls[i - 1][0]]
    assert all(calls[i][1] - calls[i - 1][1] >= 0.05 for i in switches)
    with pytest.raises(MlopsError, match="cannot be negative"):
        compare({"a": recorder("a")}, ["x"], LoadConfig(requests=1), settle_s=-1)
