"""Data capture on `mlops serve`, tested as a user sees it: a real server, real requests, the files it leaves."""

from __future__ import annotations

import json
import math
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from inference.serving.capture import capture_files
from tests.conftest import run_cli
from tests.inference.conftest import http, invoke, metric_samples
from tests.inference.serving.test_capture import LAYOUT

PROMPTS = ["write a haiku about autumn", "what is the capital of Peru?", "translate 'merci' into English"]


def captured(root: Path) -> list[dict[str, Any]]:
    """Every capture line under root, parsed."""
    return [json.loads(line) for path in capture_files(root) for line in path.read_text().splitlines()]


def capture_counts(url: str) -> dict[str, float]:
    """The server's capture counters by outcome."""
    samples = metric_samples(http("GET", f"{url}/metrics", content_type=None).body.decode(), "intent_capture_records")
    return {key.split('"')[1]: value for key, value in samples.items() if key.startswith("_total{")}


def test_every_answered_request_is_captured_exactly_as_sent_and_answered(
    onnx_model: Path, tmp_path: Path, server_factory: Any
) -> None:
    root = tmp_path / "capture"
    server = server_factory(onnx_model, "--threads", "1", "--capture-dir", str(root), "--capture-endpoint", "intents")
    sent, answers = [], []
    for i, prompt in enumerate(PROMPTS):
        body = json.dumps({"inputs": [prompt, f"and one more, número {i}"]}, ensure_ascii=False).encode()
        response = http("POST", f"{server.url}/invocations", body, headers={"X-Amzn-SageMaker-Inference-Id": f"id-{i}"})
        assert response.status == 200
        sent.append(body)
        answers.append(response.body)
    assert invoke(server.url, {"inputs": []}).status == 400  # refused requests are not captured
    assert server.terminate() == 0
    files = capture_files(root)
    assert files and all(LAYOUT.match(p.relative_to(root).as_posix()) for p in files)
    assert {p.relative_to(root).parts[:2] for p in files} == {("intents", "AllTraffic")}
    records = sorted(captured(root), key=lambda r: r["eventMetadata"]["inferenceId"])
    assert len(records) == len(PROMPTS)
    for i, record in enumerate(records):
        assert set(record) == {"captureData", "eventMetadata", "eventVersion"} and record["eventVersion"] == "0"
        metadata = record["eventMetadata"]
        assert set(metadata) == {"eventId", "inferenceTime", "inferenceId"} and metadata["inferenceId"] == f"id-{i}"
        assert uuid.UUID(metadata["eventId"]).version == 4
        assert metadata["inferenceTime"].endswith("Z") and len(metadata["inferenceTime"]) == len("2026-12-03T05:00:00Z")
        request, answer = record["captureData"]["endpointInput"], record["captureData"]["endpointOutput"]
        assert request == {
            "observedContentType": "application/json",
            "mode": "INPUT",
            "data": sent[i].decode(),
            "encoding": "JSON",
        }
        assert answer == {
            "observedContentType": "application/json",
            "mode": "OUTPUT",
            "data": answers[i].decode(),
            "encoding": "JSON",
        }
    assert len({r["eventMetadata"]["eventId"] for r in records}) == len(records)


def test_sigterm_writes_every_queued_line_and_the_metrics_count_them(
    onnx_model: Path, tmp_path: Path, server_factory: Any
) -> None:
    """Two workers, a burst of concurrent requests, SIGTERM right after the last answer: no line is lost."""
    root = tmp_path / "capture"
    server = server_factory(onnx_model, "--workers", "2", "--threads", "1", "--capture-dir", str(root))
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda i: invoke(server.url, {"inputs": f"prompt {i}"}).status, range(120)))
    assert statuses == [200] * 120
    counts = capture_counts(server.url)
    assert counts.get("dropped", 0) == 0 and counts.get("failed", 0) == 0
    assert server.terminate() == 0
    records = captured(root)
    assert len(records) == 120
    texts = sorted(json.loads(r["captureData"]["endpointInput"]["data"])["inputs"] for r in records)
    assert texts == sorted(f"prompt {i}" for i in range(120))
    assert len({p.name for p in capture_files(root)}) >= 1


def test_the_share_is_sampled_and_zero_captures_nothing(onnx_model: Path, tmp_path: Path, server_factory: Any) -> None:
    half, none = tmp_path / "half", tmp_path / "none"
    sampled = server_factory(onnx_model, "--threads", "1", "--capture-dir", str(half), "--capture-percent", "50")
    silent = server_factory(onnx_model, "--threads", "1", "--capture-dir", str(none), "--capture-percent", "0")
    requests = 300
    for i in range(requests):
        assert invoke(sampled.url, {"inputs": f"prompt {i}"}).status == 200
    for i in range(20):
        assert invoke(silent.url, {"inputs": f"prompt {i}"}).status == 200
    assert capture_counts(silent.url) == {"sampled_out": 20.0}
    # "captured" counts lines written: the writer thread writes a batch at a time, so wait until every request is
    # accounted for (a bound on waiting, not on speed).
    deadline = time.monotonic() + 60
    while sum((half_counts := capture_counts(sampled.url)).values()) < requests and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sampled.terminate() == 0 and silent.terminate() == 0
    taken = len(captured(half))
    # Binomial(300, 0.5): within 6 standard deviations (a false failure about once in 10^9 runs).
    assert abs(taken - requests / 2) < 6 * math.sqrt(requests / 4)
    assert half_counts["captured"] == taken and half_counts["sampled_out"] == requests - taken
    assert capture_files(none) == []


def test_capture_defaults_to_the_state_directory_and_rotates_by_size(
    onnx_model: Path, private_state: Path, server_factory: Any
) -> None:
    server = server_factory(onnx_model, "--threads", "1", "--capture-percent", "100", "--capture-rotate-bytes", "4096")
    for i in range(12):
        assert invoke(server.url, {"inputs": [f"prompt {i}", "a second text to make the answer longer"]}).status == 200
    assert server.terminate() == 0
    root = private_state / "capture"
    files = capture_files(root)
    assert {p.relative_to(root).parts[:2] for p in files} == {("serve", "AllTraffic")}
    assert len(files) > 1 and all(p.stat().st_size <= 4096 for p in files)
    assert len(captured(root)) == 12


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--capture-percent", "150"], {}, "capture_percent must be at most 100, got 150"),
        (["--capture-percent", "-5"], {}, "capture_percent must be at least 0"),
        (["--capture-percent", "half"], {}, "--capture-percent='half' is not a number"),
        ([], {"INTENT_SERVE_CAPTURE_PERCENT": "101"}, "capture_percent must be at most 100"),
        (["--capture-endpoint", "../elsewhere"], {}, "cannot name a capture directory"),
    ],
)
def test_a_bad_capture_setting_is_a_clean_error_before_serving(
    onnx_model: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    result = run_cli("serve", str(onnx_model), *args, env=env)
    assert result.returncode == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_the_images_serve_needs_a_capture_directory(onnx_model: Path) -> None:
    """The container has no state directory to default to: a share without a directory is refused at start."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    result = subprocess.run(
        [sys.executable, "-m", "inference.serving.container", str(onnx_model), "--capture-percent", "10"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "data capture needs a directory" in result.stderr and "--capture-dir" in result.stderr
