"""The capture reader: every source kind (file, tree, file://, s3:// on a moto server), broken lines, filters."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from inference.monitoring.captures import CaptureError, layout_names, read_captures
from tests.inference.monitoring.conftest import capture_line, layout_path, prediction, write_lines

FIVE = datetime(2026, 12, 3, 5, 10, tzinfo=UTC)
SIX = datetime(2026, 12, 3, 6, 20, tzinfo=UTC)


def _tree(root: Path) -> Path:
    """Two endpoints, two variants, two hours; one broken line."""
    write_lines(
        layout_path(root, "intents", "AllTraffic", FIVE),
        [
            capture_line("translate hello", [prediction("translation", 0.9)], time=FIVE),
            capture_line(
                ["plan my week", "write a poem"],
                [prediction("task_planning", 0.8), prediction("creative_writing", 0.7)],
                time=FIVE,
            ),
            '{"captureData": {"endpointInput"',  # a line cut short by a crash
        ],
    )
    write_lines(
        layout_path(root, "intents", "Challenger", SIX),
        [capture_line("sum these numbers", [prediction("data_analysis", 0.6)], time=SIX, base64_input=True)],
    )
    write_lines(
        layout_path(root, "other", "AllTraffic", SIX),
        [capture_line("hi there", [prediction("conversation", 0.95)], time=SIX)],
    )
    return root


def test_a_directory_tree_reads_every_record_in_time_order_and_counts_the_broken_line(tmp_path: Path) -> None:
    captures = read_captures(_tree(tmp_path))
    assert captures.files == 3
    assert captures.broken_lines == 1
    assert "capture.jsonl:3" in captures.problems[0]
    assert len(captures.records) == 4
    assert sorted(captures.texts()) == sorted(
        ["translate hello", "plan my week", "write a poem", "sum these numbers", "hi there"]
    )
    assert [p["intent"] for p in captures.predictions()][:3] == ["translation", "task_planning", "creative_writing"]
    first = captures.records[0]
    assert (first.endpoint, first.variant, first.time) == ("intents", "AllTraffic", FIVE.replace(minute=10))
    assert captures.records[-1].time == SIX


def test_base64_bodies_are_decoded(tmp_path: Path) -> None:
    captures = read_captures(_tree(tmp_path), variant="Challenger")
    assert captures.texts() == ["sum these numbers"]


def test_filters_by_endpoint_variant_and_since(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    assert len(read_captures(root, endpoint="intents").records) == 3
    assert read_captures(root, endpoint="intents", variant="AllTraffic").texts() == [
        "translate hello",
        "plan my week",
        "write a poem",
    ]
    assert sorted(read_captures(root, since=datetime(2026, 12, 3, 6, 0)).texts()) == ["hi there", "sum these numbers"]
    with pytest.raises(CaptureError, match="endpoint=nope"):
        read_captures(root, endpoint="nope")


def test_a_single_file_and_a_file_uri(tmp_path: Path) -> None:
    path = layout_path(_tree(tmp_path), "other", "AllTraffic", SIX)
    assert read_captures(path).texts() == ["hi there"]
    assert read_captures(path.as_uri()).records[0].endpoint == "other"
    assert read_captures(f"file://{path}").files == 1


def test_a_file_outside_the_layout_has_no_endpoint_and_variant(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "loose.jsonl", [capture_line("hello", [prediction("conversation", 0.5)])])
    record = read_captures(path).records[0]
    assert (record.endpoint, record.variant) == ("", "")
    assert layout_names("a/b/2026/12/03/05/x.jsonl") == ("a", "b")
    assert layout_names("b/2026/12/3x/05/x.jsonl") == (None, None)


def test_records_the_server_refused_or_answered_with_an_error_are_skipped_and_counted(tmp_path: Path) -> None:
    bad_request = capture_line("x", [prediction("conversation", 0.5)]).replace(
        '"{\\"inputs\\": \\"x\\"}"', '"{\\"text\\": \\"x\\"}"'
    )
    error_answer = capture_line("y", []).replace('\\"predictions\\": []', '\\"message\\": \\"boom\\"')
    good = capture_line("z", [prediction("conversation", 0.5)])
    captures = read_captures(write_lines(tmp_path / "c.jsonl", [bad_request, error_answer, good, "", "[1, 2]"]))
    assert captures.texts() == ["z"]
    assert captures.skipped_records == 2
    assert captures.broken_lines == 1
    assert captures.summary()["records"] == 1


def test_an_empty_capture_is_an_error_with_a_hint(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(CaptureError, match="no usable capture record") as info:
        read_captures(empty)
    assert "mlops serve --capture-dir" in (info.value.hint or "")
    with pytest.raises(CaptureError, match="no capture files"):
        read_captures(_empty_dir(tmp_path))
    with pytest.raises(CaptureError, match="not found"):
        read_captures(tmp_path / "missing")
    with pytest.raises(CaptureError, match="unsupported capture source"):
        read_captures("gs://bucket/x")


def test_only_broken_lines_is_an_error_that_quotes_the_first_problem(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="1 broken line") as info:
        read_captures(write_lines(tmp_path / "c.jsonl", ["not json"]))
    assert "c.jsonl:1" in (info.value.hint or "")


def _empty_dir(tmp_path: Path) -> Path:
    path = tmp_path / "nothing"
    path.mkdir()
    (path / "notes.txt").write_text("no captures here")
    return path


def test_s3_prefix_on_a_moto_server(moto_server: str, tmp_path: Path) -> None:
    from ml.aws import boto3_client

    s3 = boto3_client("s3", endpoint_url=moto_server, region="us-east-1")
    s3.create_bucket(Bucket="captures")
    root = _tree(tmp_path / "local")
    for path in sorted(root.rglob("*.jsonl")):
        s3.put_object(Bucket="captures", Key=f"datacapture/{path.relative_to(root).as_posix()}", Body=path.read_bytes())
    s3.put_object(Bucket="captures", Key="datacapture/README.txt", Body=b"not a capture")
    captures = read_captures("s3://captures/datacapture/intents", s3_client=s3)
    assert captures.files == 2
    assert captures.broken_lines == 1
    assert sorted(captures.texts()) == ["plan my week", "sum these numbers", "translate hello", "write a poem"]
    assert captures.records[-1].variant == "Challenger"
    assert captures.source == "s3://captures/datacapture/intents"
    with pytest.raises(CaptureError, match="no capture files"):
        read_captures("s3://captures/elsewhere", s3_client=s3)
    with pytest.raises(CaptureError, match="cannot list"):
        read_captures("s3://no-such-bucket/x", s3_client=s3)
