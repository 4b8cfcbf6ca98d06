"""The data-capture writer in-process: SageMaker's JSON Lines, the layout, rotation, sampling, a full queue, close."""

from __future__ import annotations

import base64
import json
import math
import re
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from inference.serving.capture import (
    CaptureError,
    CaptureWriter,
    capture_files,
    check_percent,
    purge_captures,
)

REQUEST = b'{"inputs": ["write a poem about the sea", "caf\xc3\xa9 opening hours?"]}'
RESPONSE = b'{"predictions": [{"intent": "creative_writing"}], "model_version": "3"}'
# <root>/<endpoint>/<variant>/YYYY/MM/DD/HH/<MM-SS-mmm>-<uuid>.jsonl
LAYOUT = re.compile(
    r"^(?P<endpoint>[^/]+)/(?P<variant>[^/]+)/\d{4}/\d{2}/\d{2}/\d{2}/\d{2}-\d{2}-\d{3}-[0-9a-f-]{36}\.jsonl$"
)


def lines(root: Path, endpoint: str | None = None) -> list[dict[str, Any]]:
    """Every captured line under root, parsed, file by file in layout order."""
    return [json.loads(line) for path in capture_files(root, endpoint) for line in path.read_text().splitlines()]


def test_a_line_is_exactly_sagemakers_capture_record(tmp_path: Path) -> None:
    when = datetime(2026, 12, 3, 5, 7, 9, 123456, tzinfo=UTC)
    with CaptureWriter(tmp_path, endpoint="intents", clock=lambda: when) as writer:
        assert writer.capture("AllTraffic", REQUEST, RESPONSE, request_type="application/json", inference_id="req-1")
    [path] = capture_files(tmp_path)
    relative = path.relative_to(tmp_path).as_posix()
    assert LAYOUT.match(relative) and relative.startswith("intents/AllTraffic/2026/12/03/05/07-09-123-")
    [record] = lines(tmp_path)
    event_id = record["eventMetadata"].pop("eventId")
    assert uuid.UUID(event_id).version == 4
    assert record == {
        "captureData": {
            "endpointInput": {
                "observedContentType": "application/json",
                "mode": "INPUT",
                "data": REQUEST.decode(),
                "encoding": "JSON",
            },
            "endpointOutput": {
                "observedContentType": "application/json",
                "mode": "OUTPUT",
                "data": RESPONSE.decode(),
                "encoding": "JSON",
            },
        },
        "eventMetadata": {"inferenceTime": "2026-12-03T05:07:09Z", "inferenceId": "req-1"},
        "eventVersion": "0",
    }
    assert writer.counts() == {"captured": 1, "dropped": 0, "sampled_out": 0, "failed": 0}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\xff\xfe not utf-8", "application/json"),  # not UTF-8
        (b'{"inputs": "half a', "application/json"),  # not JSON
        (b'{"inputs": "fine"}', "text/plain"),  # JSON, but not of a JSON content type
    ],
)
def test_a_body_that_is_not_utf8_json_is_base64_and_round_trips_exactly(
    tmp_path: Path, body: bytes, content_type: str
) -> None:
    with CaptureWriter(tmp_path, capture_output=False) as writer:
        writer.capture("AllTraffic", body, RESPONSE, request_type=content_type)
    [record] = lines(tmp_path)
    captured = record["captureData"]
    assert "endpointOutput" not in captured  # CaptureOptions Input only
    assert captured["endpointInput"]["encoding"] == "BASE64"
    assert captured["endpointInput"]["observedContentType"] == content_type
    assert base64.b64decode(captured["endpointInput"]["data"]) == body


def test_files_rotate_by_size_and_keep_every_line_in_order(tmp_path: Path) -> None:
    with CaptureWriter(tmp_path, rotate_bytes=2048) as writer:
        for i in range(40):
            writer.capture("AllTraffic", json.dumps({"inputs": f"prompt number {i}"}).encode(), RESPONSE)
    files = capture_files(tmp_path)
    assert len(files) > 5
    assert all(path.stat().st_size <= 2048 for path in files)
    captured = [json.loads(line) for path in files for line in path.read_text().splitlines()]
    texts = sorted(json.loads(r["captureData"]["endpointInput"]["data"])["inputs"] for r in captured)
    assert texts == sorted(f"prompt number {i}" for i in range(40))


def test_each_variant_and_each_utc_hour_gets_its_own_files(tmp_path: Path) -> None:
    start = datetime(2026, 12, 31, 23, 59, 58, tzinfo=UTC)
    times = iter([start, start + timedelta(seconds=1), start + timedelta(seconds=3), start + timedelta(seconds=4)])
    with CaptureWriter(tmp_path, endpoint="ab", clock=lambda: next(times)) as writer:
        for variant in ("champion", "challenger", "champion", "challenger"):
            writer.capture(variant, REQUEST, RESPONSE)
    found = sorted(path.relative_to(tmp_path).parent.as_posix() for path in capture_files(tmp_path))
    assert found == [
        "ab/challenger/2026/12/31/23",
        "ab/challenger/2027/01/01/00",
        "ab/champion/2026/12/31/23",
        "ab/champion/2027/01/01/00",
    ]


def test_sampling_captures_about_the_share(tmp_path: Path) -> None:
    offers, share = 4000, 0.2
    with CaptureWriter(tmp_path, percent=share * 100) as writer:
        taken = sum(writer.capture("AllTraffic", REQUEST, RESPONSE) for _ in range(offers))
    # Binomial(4000, 0.2): 6 standard deviations either side (a false failure about once in 10^9 runs).
    bound = 6 * math.sqrt(offers * share * (1 - share))
    assert abs(taken - offers * share) < bound
    counts = writer.counts()
    assert counts["captured"] == taken == len(lines(tmp_path))
    assert counts["sampled_out"] == offers - taken


def test_zero_percent_writes_nothing_and_counts_every_request_as_sampled_out(tmp_path: Path) -> None:
    with CaptureWriter(tmp_path, percent=0) as writer:
        for _ in range(50):
            assert not writer.capture("AllTraffic", REQUEST, RESPONSE)
    assert capture_files(tmp_path) == [] and not any(tmp_path.iterdir())
    assert writer.counts()["sampled_out"] == 50


def test_a_full_queue_drops_and_counts_and_never_makes_a_request_wait(tmp_path: Path) -> None:
    release = threading.Event()
    first_written = threading.Event()

    def hold_the_writer(outcome: str, n: int) -> None:
        if outcome == "captured":  # runs on the writer thread: it stops here, and the queue fills up
            first_written.set()
            release.wait(30)

    writer = CaptureWriter(tmp_path, queue_size=3, on_count=hold_the_writer)
    writer.capture("AllTraffic", REQUEST, RESPONSE)
    assert first_written.wait(30)
    offered = [writer.capture("AllTraffic", REQUEST, RESPONSE) for _ in range(10)]  # returns at once: no wait
    assert offered == [True] * 3 + [False] * 7
    assert writer.counts()["dropped"] == 7
    release.set()
    writer.close()
    assert writer.counts() == {"captured": 4, "dropped": 7, "sampled_out": 0, "failed": 0}
    assert len(lines(tmp_path)) == 4


def test_close_writes_everything_queued_then_takes_nothing_more(tmp_path: Path) -> None:
    writer = CaptureWriter(tmp_path)
    for i in range(2000):
        writer.capture("AllTraffic", json.dumps({"inputs": str(i)}).encode(), RESPONSE)
    writer.close()
    assert len(lines(tmp_path)) == 2000
    assert not writer.capture("AllTraffic", REQUEST, RESPONSE)
    assert len(lines(tmp_path)) == 2000


def test_a_write_that_fails_is_counted_and_the_writer_goes_on(tmp_path: Path) -> None:
    (tmp_path / "ep").mkdir()
    (tmp_path / "ep" / "blocked").write_text("a file where the variant's directory should be")
    with CaptureWriter(tmp_path, endpoint="ep") as writer:
        writer.capture("blocked", REQUEST, RESPONSE)
        writer.capture("fine", REQUEST, RESPONSE)
    assert writer.counts()["failed"] == 1 and writer.counts()["captured"] == 1
    assert len(lines(tmp_path, "ep")) == 1


@pytest.mark.parametrize("percent", [-1, 100.5, 150, math.nan, "ten"])
def test_a_share_outside_0_to_100_is_refused_with_the_reason(tmp_path: Path, percent: Any) -> None:
    with pytest.raises(CaptureError, match="from 0 to 100"):
        CaptureWriter(tmp_path, percent=percent)
    assert check_percent(0) == 0.0 and check_percent("12.5") == 12.5


@pytest.mark.parametrize("name", ["", "../up", "a/b", "-leading", "x" * 64])
def test_names_that_are_no_path_component_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(CaptureError, match="cannot name a capture directory"):
        CaptureWriter(tmp_path, endpoint=name)


def test_purge_removes_one_endpoints_captures_or_all(tmp_path: Path) -> None:
    for endpoint in ("one", "two"):
        with CaptureWriter(tmp_path, endpoint=endpoint) as writer:
            writer.capture("AllTraffic", REQUEST, RESPONSE)
    size = capture_files(tmp_path, "one")[0].stat().st_size
    assert purge_captures(tmp_path, endpoint="one") == {
        "root": str(tmp_path),
        "endpoint": "one",
        "files": 1,
        "bytes": size,
    }
    assert capture_files(tmp_path, "one") == [] and len(capture_files(tmp_path, "two")) == 1
    assert purge_captures(tmp_path)["files"] == 1
    assert tmp_path.is_dir() and not any(tmp_path.iterdir())
    assert purge_captures(tmp_path / "never-made")["files"] == 0
