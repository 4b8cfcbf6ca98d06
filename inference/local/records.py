"""What the local control plane keeps: endpoint configs, endpoints, and the variant set each endpoint serves."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from inference.local.api import arn
from inference.local.capture import CaptureSpec
from inference.local.models import LoadedModel
from inference.local.traffic import VariantTraffic
from inference.serving.capture import INFERENCE_ID_HEADER, CaptureWriter
from inference.variants import check_weights


@dataclass(frozen=True)
class VariantSpec:
    """One production variant of an endpoint config."""

    name: str
    model_name: str
    weight: float
    instance_count: int
    instance_type: str | None


@dataclass(frozen=True)
class ConfigRecord:
    """A CreateEndpointConfig call."""

    name: str
    variants: tuple[VariantSpec, ...]
    created: float
    # What DescribeEndpointConfig echoes: the variants as given (defaults filled in) and the data capture config,
    # so that a client can copy a config (as a rollback does) without losing what this endpoint ignores.
    described_variants: tuple[Mapping[str, Any], ...] = ()
    data_capture: Mapping[str, Any] | None = None
    capture: CaptureSpec | None = None  # what this endpoint makes of data_capture

    @property
    def arn(self) -> str:
        """The endpoint config's ARN."""
        return arn("endpoint-config", self.name)


@dataclass(frozen=True)
class LiveVariant:
    """A variant that takes traffic: its name and loaded model."""

    name: str
    model: LoadedModel


class VariantSet:
    """The variants an endpoint serves with their weights and instance counts; immutable, replaced as a whole."""

    def __init__(
        self,
        config_name: str,
        variants: Sequence[LiveVariant],
        weights: Mapping[str, float],
        instance_counts: Mapping[str, int],
    ) -> None:
        self.config_name = config_name
        self.variants: Mapping[str, LiveVariant] = MappingProxyType({v.name: v for v in variants})
        # Never a set that routes nothing: every unpinned request would fail (the callers validated them already).
        self.weights: Mapping[str, float] = MappingProxyType(check_weights(weights, known=self.variants))
        self.instance_counts: Mapping[str, int] = MappingProxyType(dict(instance_counts))
        routable = [(name, w) for name, w in self.weights.items() if w > 0]
        self._names = [name for name, _ in routable]
        self._cum_weights = list(_cumulative([w for _, w in routable]))

    def choose(self) -> LiveVariant:
        """A variant drawn with probability proportional to its weight (weight 0 never)."""
        return self.variants[random.choices(self._names, cum_weights=self._cum_weights)[0]]

    def with_weights(self, weights: Mapping[str, float], instance_counts: Mapping[str, int]) -> VariantSet:
        """The same variants with other weights and instance counts."""
        return VariantSet(self.config_name, list(self.variants.values()), weights, instance_counts)

    def models(self) -> list[LoadedModel]:
        """The loaded model of every variant."""
        return [v.model for v in self.variants.values()]


def _cumulative(values: Iterable[float]) -> Iterable[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


@dataclass
class EndpointRecord:
    """An endpoint: status, the variant set serving it (None until the first deployment succeeds), traffic."""

    name: str
    config_name: str
    created: float
    status: str = "Creating"
    modified: float = 0.0
    failure_reason: str | None = None
    live: VariantSet | None = None
    pending_config: str | None = None
    pending_since: float | None = None
    # Bumped by every deployment and by deletion, so a stale background load knows to discard its result.
    generation: int = 0
    traffic: dict[str, VariantTraffic] = field(default_factory=dict)
    # Data capture as the serving config asks (None: off), and its writer while capture is enabled.
    capture_spec: CaptureSpec | None = None
    capture_writer: CaptureWriter | None = None

    @property
    def arn(self) -> str:
        """The endpoint's ARN."""
        return arn("endpoint", self.name)

    def capture(self, variant: str, request: bytes, response: bytes, headers: Mapping[str, str]) -> None:
        """Offer an answered request to the endpoint's data capture, if on (sampled and queued; never waits)."""
        if self.capture_writer is not None:
            self.capture_writer.capture(
                variant,
                request,
                response,
                request_type=headers.get("content-type"),
                response_type="application/json",
                inference_id=headers.get(INFERENCE_ID_HEADER),
            )

    def traffic_of(self, variant: str) -> VariantTraffic:
        """The variant's traffic, kept across deployments that keep the variant name."""
        return self.traffic.setdefault(variant, VariantTraffic())
