"""The stepwise shift's CloudWatch window: whole minutes at the step's weights that CloudWatch has published, with
the exact StartTime and EndTime sent (a fake clock and a recording client); the local endpoint is not limited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from inference.deploy.traffic import CloudWatchTraffic, LocalEndpointTraffic
from inference.variants import DeploymentError

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC).timestamp()


def _at(minute: int, second: int = 0) -> datetime:
    return datetime(2026, 3, 2, 12, minute, second, tzinfo=UTC)


class RecordingCloudWatch:
    """Records every GetMetricStatistics request; each whole minute asked for had 100 invocations and 2 errors."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def get_metric_statistics(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        minutes = int((request["EndTime"] - request["StartTime"]).total_seconds() // 60)
        value = {"Invocations": 100.0, "Invocation5XXErrors": 2.0}.get(request["MetricName"])
        return {"Datapoints": [{"Sum": value} for _ in range(minutes)] if value is not None else []}


def _read(since: float, until: float, now: float) -> tuple[RecordingCloudWatch, dict[str, Any]]:
    client = RecordingCloudWatch()
    stats = CloudWatchTraffic(client, clock=lambda: now).variant_stats(
        "intent-ab", ["champion", "challenger"], since, until
    )
    return client, {name: s.to_dict() for name, s in stats.items()}


@pytest.mark.parametrize(
    ("since", "until", "now", "start", "end"),
    [
        # Weights changed at 12:00:30, a 240 s bake read at once: 12:00 was partly at the old weights, 12:02 and
        # 12:03 closed less than 120 s ago; only 12:01 counts.
        (NOON + 30, NOON + 270, NOON + 270, _at(1), _at(2)),
        # Changed on the minute, a 600 s bake: 12:00 to 12:07 (12:08 and 12:09 are not published yet).
        (NOON, NOON + 600, NOON + 600, _at(0), _at(8)),
        # A window read long after it ended (the report's case) stops at its own end: the last minute that closed.
        (NOON + 10, NOON + 350, NOON + 3600, _at(1), _at(5)),
    ],
)
def test_the_window_sent_is_whole_published_minutes_after_the_weights_changed(
    since: float, until: float, now: float, start: datetime, end: datetime
) -> None:
    client, stats = _read(since, until, now)
    assert len(client.requests) == 6  # invocations, errors and latency of each variant, all over the same window
    assert {(r["StartTime"], r["EndTime"], r["Period"]) for r in client.requests} == {(start, end, 60)}
    minutes = int((end - start).total_seconds() // 60)
    assert stats["challenger"]["invocations"] == 100 * minutes and stats["challenger"]["errors"] == 2 * minutes


def test_a_window_without_a_whole_published_minute_is_refused_before_any_call() -> None:
    # Weights changed at 12:00:01 and read at 12:03:59: 12:01 closed only 119 s ago.
    client = RecordingCloudWatch()
    traffic = CloudWatchTraffic(client, clock=lambda: NOON + 239)
    with pytest.raises(DeploymentError, match="no whole minute of CloudWatch metrics between 12:00:01 and 12:03:59"):
        traffic.variant_stats("intent-ab", ["champion"], NOON + 1, NOON + 239)
    assert client.requests == []


@pytest.mark.parametrize("second", [0.0, 0.5, 1.0, 29.0, 59.0, 59.999])
def test_the_shortest_bake_accepted_always_holds_a_whole_published_minute(second: float) -> None:
    traffic = CloudWatchTraffic(RecordingCloudWatch())
    traffic.check_bake(240)
    since = NOON + second
    traffic.clock = lambda: since + 240
    start, end = traffic.window(since, since + 240)
    assert (end - start).total_seconds() >= 60


def test_a_bake_too_short_for_cloudwatch_is_refused_with_the_minimum() -> None:
    with pytest.raises(DeploymentError, match="a step on AWS needs 240 s") as caught:
        CloudWatchTraffic(RecordingCloudWatch()).check_bake(239)
    assert caught.value.hint == "give --bake-seconds 240 or more"
    # A shorter publishing lag (a setting, for metrics known to arrive sooner) lowers the minimum with it.
    CloudWatchTraffic(RecordingCloudWatch(), publish_lag_s=60).check_bake(180)
    with pytest.raises(DeploymentError, match="needs 180 s"):
        CloudWatchTraffic(RecordingCloudWatch(), publish_lag_s=60).check_bake(179)


def test_the_local_endpoint_takes_any_bake() -> None:
    LocalEndpointTraffic("http://127.0.0.1:1").check_bake(0)  # it counts exactly the requests since the step began
