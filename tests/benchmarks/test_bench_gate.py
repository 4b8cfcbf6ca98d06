"""The p95 gate of `mlops bench run` against the real model server process."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli


def test_gate_passes_for_the_real_server(onnx_model: Path, server_factory, tmp_path: Path) -> None:
    server = server_factory(onnx_model, "--threads", "1")
    payloads = tmp_path / "prompts.txt"
    payloads.write_text("translate good morning into Spanish\nwrite a haiku about autumn\nwhy is my laptop so slow?\n")
    proc = run_cli(
        "bench",
        "run",
        "--url",
        f"{server.url}/invocations",
        "--requests",
        "60",
        "--concurrency",
        "2",
        "--payloads",
        str(payloads),
        "--p95-budget-ms",
        "500",
        "--json",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert result["gate"]["passed"] and result["summary"]["ok"] == 60 and result["summary"]["errors"] == 0
    assert server.terminate() == 0


def test_the_gate_tells_an_unreachable_target_from_one_that_answers_with_errors() -> None:
    from benchmarks.gate import latency_gate

    refused = {"requests": 40, "errors": 40, "errors_by_type": {"ConnectionRefusedError": 30, "TimeoutError": 10}}
    answered = {"requests": 40, "errors": 40, "errors_by_type": {"HTTP 500": 40}}
    assert any("could not be reached" in r for r in latency_gate(refused).reasons)
    verdict = latency_gate(answered)
    assert not verdict.passed and "no successful request to measure" in verdict.reasons
    assert not any("could not be reached" in r for r in verdict.reasons)
