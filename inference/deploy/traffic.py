"""Per-variant traffic over a time window, from CloudWatch (AWS) or from the local A/B endpoint's stand-in for it.

A stepwise traffic shift reads it after each bake period to decide whether to go on or revert; the A/B report
reads it for its verdict.
"""

from __future__ import annotations

import json
import logging
import math
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import Any, Protocol

from inference.variants import DeploymentError, VariantStats

log = logging.getLogger(__name__)

NAMESPACE = "AWS/SageMaker"


class TrafficSource(Protocol):
    """Where a stepwise shift reads each variant's traffic from."""

    def variant_stats(self, endpoint: str, variants: list[str], since: float, until: float) -> dict[str, VariantStats]:
        """Invocations, errors and latency percentiles per variant between two epoch times."""


class CloudWatchTraffic:
    """SageMaker's endpoint metrics in CloudWatch: Invocations, Invocation5XXErrors, ModelLatency (microseconds).

    CloudWatch aggregates per period (at least a minute), so the window is widened to whole minutes; latency
    percentiles come from ExtendedStatistics, taking the worst period in the window.
    """

    def __init__(self, cloudwatch_client: Any) -> None:
        self.cloudwatch = cloudwatch_client

    def _datapoints(
        self, endpoint: str, variant: str, metric: str, since: float, until: float, **stat: Any
    ) -> list[dict[str, Any]]:
        start = datetime.fromtimestamp(math.floor(since / 60) * 60, UTC)
        end = datetime.fromtimestamp(math.ceil(until / 60) * 60 + 60, UTC)
        response = self.cloudwatch.get_metric_statistics(
            Namespace=NAMESPACE,
            MetricName=metric,
            Dimensions=[{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}],
            StartTime=start,
            EndTime=end,
            Period=60,
            **stat,
        )
        return response.get("Datapoints", [])

    def variant_stats(self, endpoint: str, variants: list[str], since: float, until: float) -> dict[str, VariantStats]:
        """Sum of invocations and 5XX errors, worst per-minute p50/p95/p99 of ModelLatency, per variant."""
        stats = {}
        for variant in variants:
            invocations = sum(
                p.get("Sum", 0.0)
                for p in self._datapoints(endpoint, variant, "Invocations", since, until, Statistics=["Sum"])
            )
            errors = sum(
                p.get("Sum", 0.0)
                for p in self._datapoints(endpoint, variant, "Invocation5XXErrors", since, until, Statistics=["Sum"])
            )
            latency = self._datapoints(
                endpoint, variant, "ModelLatency", since, until, ExtendedStatistics=["p50", "p95", "p99"]
            )
            percentiles: dict[str, float | None] = {}
            for p in ("p50", "p95", "p99"):
                values = [
                    point["ExtendedStatistics"][p] for point in latency if p in point.get("ExtendedStatistics", {})
                ]
                percentiles[f"{p}_ms"] = round(max(values) / 1000.0, 3) if values else None
            stats[variant] = VariantStats(variant, int(invocations), int(errors), **percentiles)
        return stats


class LocalEndpointTraffic:
    """The local A/B endpoint's `GET /endpoints/{name}/metrics?since=...` (exact percentiles from raw samples)."""

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s

    def fetch(self, endpoint: str, since: float | None = None) -> dict[str, Any]:
        """The endpoint's metrics document (all variants), optionally only for requests after `since`."""
        query = f"?{urllib.parse.urlencode({'since': since})}" if since is not None else ""
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
