"""Per-variant traffic over a time window, from CloudWatch (AWS) or from the local A/B endpoint's stand-in for it.

A stepwise traffic shift reads it after each bake period to decide whether to go on or revert; the A/B report
reads it for its verdict.
"""

from __future__ import annotations

import json
import logging
import math
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from inference.variants import DeploymentError, VariantStats

log = logging.getLogger(__name__)

NAMESPACE = "AWS/SageMaker"


# SageMaker publishes an endpoint's invocation metrics to CloudWatch once a minute ("available at a 1-minute
# frequency": https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html), each datapoint stamped
# with the start of its minute; GetMetricStatistics takes StartTime inclusive and EndTime exclusive, and rounds a
# StartTime down to the minute (botocore's CloudWatch model). A minute is only complete some time after it closed:
# CloudWatch can still add samples to a minute it has already answered for
# (https://repost.aws/knowledge-center/cloudwatch-trigger-metric), and 1-minute AWS metrics are observed to become
# available about two minutes late (https://docs.datadoghq.com/integrations/guide/cloud-metric-delay/). So a window
# is read only over whole minutes that closed at least PUBLISH_LAG_S ago.
PERIOD_S = 60
PUBLISH_LAG_S = 120


class TrafficSource(Protocol):
    """Where a stepwise shift reads each variant's traffic from."""

    # How often a bake in progress reads the counts so far, to show them (`shift_schedule`'s on_progress).
    refresh_s: float

    def check_bake(self, bake_s: float) -> None:
        """Refuse a bake time too short for this source to judge a step on."""

    def variant_stats(self, endpoint: str, variants: list[str], since: float, until: float) -> dict[str, VariantStats]:
        """Invocations, errors and latency percentiles per variant between two epoch times."""


class CloudWatchTraffic:
    """SageMaker's endpoint metrics in CloudWatch: Invocations, Invocation5XXErrors, ModelLatency (microseconds).

    CloudWatch aggregates per minute, so a window is narrowed to the whole minutes inside it that are published by
    now (`window`): none at the old weights, none still filling up. Latency percentiles come from
    ExtendedStatistics, taking the worst minute in the window.
    """

    refresh_s = float(PERIOD_S)  # nothing newer than a minute to read

    def __init__(
        self, cloudwatch_client: Any, *, publish_lag_s: float = PUBLISH_LAG_S, clock: Callable[[], float] = time.time
    ) -> None:
        self.cloudwatch = cloudwatch_client
        self.publish_lag_s = publish_lag_s
        self.clock = clock

    @property
    def min_bake_s(self) -> float:
        """The shortest bake that holds one whole published minute, whatever second of a minute it starts at."""
        # Started just after a minute began, a step's first whole minute ends almost two minutes later, and that
        # minute is read PUBLISH_LAG_S after it closed.
        return 2 * PERIOD_S + self.publish_lag_s

    def check_bake(self, bake_s: float) -> None:
        """Refuse a bake that may hold no whole CloudWatch minute published by the time it ends."""
        if bake_s < self.min_bake_s:
            raise DeploymentError(
                f"a bake of {bake_s:g} s may hold no whole minute of CloudWatch metrics: they come per minute, only "
                f"minutes entirely at a step's weights count, and a minute is read {self.publish_lag_s:g} s after it "
                f"closed (the time CloudWatch takes to publish it), so a step on AWS needs {self.min_bake_s:g} s",
                hint=f"give --bake-seconds {self.min_bake_s:g} or more",
            )

    def window(self, since: float, until: float) -> tuple[datetime, datetime]:
        """StartTime and EndTime of the whole minutes in [since, until] published by now (DeploymentError if none)."""
        start = math.ceil(since / PERIOD_S) * PERIOD_S
        end = math.floor(min(until, self.clock() - self.publish_lag_s) / PERIOD_S) * PERIOD_S
        if end - start < PERIOD_S:
            raise DeploymentError(
                f"no whole minute of CloudWatch metrics between {_utc(since):%H:%M:%S} and {_utc(until):%H:%M:%S} UTC "
                f"is published yet (a minute is read {self.publish_lag_s:g} s after it closed)",
                hint=f"read a window of at least {self.min_bake_s:g} s",
            )
        return _utc(start), _utc(end)

    def _datapoints(
        self, endpoint: str, variant: str, metric: str, window: tuple[datetime, datetime], **stat: Any
    ) -> list[dict[str, Any]]:
        response = self.cloudwatch.get_metric_statistics(
            Namespace=NAMESPACE,
            MetricName=metric,
            Dimensions=[{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}],
            StartTime=window[0],
            EndTime=window[1],
            Period=PERIOD_S,
            **stat,
        )
        return response.get("Datapoints", [])

    def variant_stats(self, endpoint: str, variants: list[str], since: float, until: float) -> dict[str, VariantStats]:
        """Sum of invocations and 5XX errors, worst per-minute p50/p95/p99 of ModelLatency, per variant."""
        window = self.window(since, until)
        stats = {}
        for variant in variants:
            invocations, errors = (
                sum(p.get("Sum", 0.0) for p in self._datapoints(endpoint, variant, metric, window, Statistics=["Sum"]))
                for metric in ("Invocations", "Invocation5XXErrors")
            )
            latency = self._datapoints(
                endpoint, variant, "ModelLatency", window, ExtendedStatistics=["p50", "p95", "p99"]
            )
            percentiles: dict[str, float | None] = {}
            for p in ("p50", "p95", "p99"):
                values = [
                    point["ExtendedStatistics"][p] for point in latency if p in point.get("ExtendedStatistics", {})
                ]
                percentiles[f"{p}_ms"] = round(max(values) / 1000.0, 3) if values else None
            stats[variant] = VariantStats(variant, int(invocations), int(errors), **percentiles)
        return stats


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class LocalEndpointTraffic:
    """The local A/B endpoint's `GET /endpoints/{name}/metrics?since=...` (exact percentiles from raw samples)."""

    refresh_s = 1.0  # counted as requests arrive

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s

    def fetch(self, endpoint: str, since: float | None = None, *, latencies: bool = False) -> dict[str, Any]:
        """The endpoint's metrics document (all variants), optionally only for requests after `since`, optionally
        with every answered request's latency."""
        params = {**({"since": since} if since is not None else {}), **({"latencies": 1} if latencies else {})}
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        url = f"{self.url}/endpoints/{urllib.parse.quote(endpoint)}/metrics{query}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s) as resp:  # noqa: S310 - a URL the user configured
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raise DeploymentError(
                f"the local endpoint has no metrics for {endpoint!r}: HTTP {exc.code} {exc.read()[:200]!r}",
                hint="check the endpoint name with `mlops endpoint status`",
            ) from exc
        except OSError as exc:
            raise DeploymentError(
                f"cannot reach the local endpoint at {self.url}: {exc}",
                hint="start it with `mlops endpoint serve-local`",
            ) from exc

    def check_bake(self, bake_s: float) -> None:
        """Any bake will do: the local endpoint counts exactly the requests after a step started."""

    def variant_stats(self, endpoint: str, variants: list[str], since: float, until: float) -> dict[str, VariantStats]:
        """Per-variant stats of the requests since `since` (the endpoint counts up to now)."""
        return stats_from_document(self.fetch(endpoint, since), variants)


def stats_from_document(document: dict[str, Any], variants: list[str]) -> dict[str, VariantStats]:
    """VariantStats of the named variants from a local endpoint metrics document (zero for a variant it lacks)."""
    stats = {}
    for variant in variants:
        data = document.get("variants", {}).get(variant, {})
        stats[variant] = VariantStats(
            variant,
            int(data.get("invocations", 0)),
            int(data.get("errors", 0)),
            data.get("p50_ms"),
            data.get("p95_ms"),
            data.get("p99_ms"),
        )
    return stats
