"""Shadow tests on the local A/B endpoint: inference experiments (SageMaker's `ShadowMode`) and their mirrored traffic.

A shadow variant is a loaded model that no caller is routed to: it is not in the endpoint's `VariantSet`, has no
weight, and cannot be pinned with TargetVariant. After the source production variant has answered a request, the
endpoint mirrors a sample of those requests (each shadow's SamplingPercentage) to every shadow variant in a
fire-and-forget task, so the caller gets the production answer and never waits for a shadow. At most
MAX_IN_FLIGHT mirrored requests per shadow are pending at once; beyond that a sampled request is dropped and
counted, so a slow shadow cannot pile up work (or memory) behind production.

Per shadow variant it records each mirrored request's shadow latency, the production latency of the same request,
and how many of its inputs got the same top intent from both; errors and drops are counted. The endpoint's metrics
document (`GET /endpoints/NAME/metrics`) carries this under its `shadow` key for the report
(`inference.deploy.shadow`).

SageMaker allows one shadow variant per experiment; the local endpoint hosts up to MAX_SHADOW_VARIANTS, each with
its own sampling, so several candidates can be compared against the same production traffic at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from inference.local.api import arn
from inference.local.models import LoadedModel
from ml.stats import nearest_rank

log = logging.getLogger(__name__)

SHADOW_MODE = "ShadowMode"
# A local extension of SageMaker's limit of one shadow variant per experiment (see the module docstring).
MAX_SHADOW_VARIANTS = 3
# Pending mirrored requests per shadow variant before new samples are dropped: enough to absorb bursts of a shadow
# as fast as production, small enough that a stalled shadow holds little.
MAX_IN_FLIGHT = 32
# Mirrored requests kept per shadow variant (as the production variants' SAMPLE_CAPACITY).
SAMPLE_CAPACITY = 200_000
# SageMaker's default and longest duration of an experiment without (or with) a Schedule.EndTime (boto3's
# CreateInferenceExperiment documentation: "concludes after 7 days"; at most 30 days).
DEFAULT_DURATION_S = 7 * 24 * 3600
MAX_DURATION_S = 30 * 24 * 3600

CREATING, CREATED, RUNNING, STOPPING = "Creating", "Created", "Running", "Stopping"
COMPLETED, CANCELLED = "Completed", "Cancelled"
ACTIVE_STATUSES = (CREATING, CREATED, "Starting", RUNNING, "Updating", STOPPING)


class ShadowTraffic:
    """One shadow variant's mirrored requests: latencies (its own and production's), agreement, errors, drops."""

    def __init__(self, capacity: int = SAMPLE_CAPACITY) -> None:
        # (time, shadow latency ms, production latency ms, inputs, inputs with the same top intent)
        self.samples: deque[tuple[float, float, float, int, int]] = deque(maxlen=capacity)
        self.errors: deque[float] = deque(maxlen=capacity)
        self.dropped = 0
        self.in_flight = 0

    def record(self, shadow_ms: float, production_ms: float, inputs: int, agreed: int) -> None:
        """A mirrored request the shadow answered."""
        self.samples.append((time.time(), shadow_ms, production_ms, inputs, agreed))

    def record_error(self) -> None:
        """The shadow failed on a mirrored request."""
        self.errors.append(time.time())

    def summary(self, since: float, *, with_latencies: bool = False) -> dict[str, Any]:
        """Counts, agreement and latency percentiles (shadow and production, same requests) since `since`."""
        shadow_ms: list[float] = []
        production_ms: list[float] = []
        inputs = agreed = 0
        for at, s_ms, p_ms, n, same in self.samples:
            if at >= since:
                shadow_ms.append(s_ms)
                production_ms.append(p_ms)
                inputs += n
                agreed += same
        errors = sum(1 for at in self.errors if at >= since)
        answered = len(shadow_ms)
        summary: dict[str, Any] = {
            "requests": answered + errors,
            "answered": answered,
            "errors": errors,
            "error_rate": round(errors / (answered + errors), 6) if answered + errors else 0.0,
            "dropped": self.dropped,
            "in_flight": self.in_flight,
            "inputs_compared": inputs,
            "inputs_agreed": agreed,
            "agreement": round(agreed / inputs, 6) if inputs else None,
            "shadow": _percentiles(shadow_ms),
            "production": _percentiles(production_ms),
        }
        if with_latencies:
            summary["latencies_ms"] = [round(v, 3) for v in shadow_ms]
            summary["production_latencies_ms"] = [round(v, 3) for v in production_ms]
        return summary


def _percentiles(latencies_ms: Sequence[float]) -> dict[str, float | None]:
    if not latencies_ms:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    return {f"p{q}_ms": round(v, 3) for q, v in nearest_rank(latencies_ms, (50, 95, 99)).items()}


@dataclass
class ShadowVariant:
    """A shadow variant of an experiment: its model (None until loaded, and once removed) and mirrored traffic."""

    name: str
    model_name: str
    sampling_percentage: int
    infrastructure: Mapping[str, Any]
    model: LoadedModel | None = None
    traffic: ShadowTraffic = field(default_factory=ShadowTraffic)

    def sampled(self) -> bool:
        """Whether this request is mirrored to this shadow (a draw at its sampling percentage)."""
        return self.sampling_percentage >= 100 or random.random() * 100 < self.sampling_percentage


@dataclass
class ExperimentRecord:
    """A CreateInferenceExperiment call and its life: status, the shadow variants and their traffic."""

    name: str
    endpoint: str
    source_variant: str
    model_variants: tuple[Mapping[str, Any], ...]
    shadows: dict[str, ShadowVariant]
    role_arn: str
    created: float
    start_time: float
    end_time: float
    scheduled: bool
    description: str | None = None
    status: str = CREATING
    status_reason: str | None = None
    modified: float = 0.0
    completion_time: float | None = None
    data_storage: Mapping[str, Any] | None = None
    kms_key: str | None = None
    # Mirrored requests in progress (strong references keep the loop from garbage-collecting them).
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def arn(self) -> str:
        """The experiment's ARN."""
        return arn("inference-experiment", self.name)

    @property
    def active(self) -> bool:
        """Whether the experiment has not ended (it holds the endpoint: one active experiment per endpoint)."""
        return self.status in ACTIVE_STATUSES

    def models(self) -> list[LoadedModel]:
        """The shadow models still loaded."""
        return [s.model for s in self.shadows.values() if s.model is not None]

    def end(self, status: str, reason: str | None, now: float) -> None:
        """Stop mirroring for good: the status, why, and every shadow model released (after its pending calls)."""
        self.status, self.status_reason = status, reason or self.status_reason
        self.completion_time = self.modified = now
        for shadow in self.shadows.values():
            if shadow.model is not None:
                shadow.model.retire()
                shadow.model = None

    def summary(self, since: float, *, with_latencies: bool = False) -> dict[str, Any]:
        """The experiment and each shadow variant's mirrored traffic since `since`, for the metrics document."""
        return {
            "status": self.status,
            "status_reason": self.status_reason,
            "source_variant": self.source_variant,
            "created": self.created,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "completion_time": self.completion_time,
            "variants": {
                s.name: {
                    "model_name": s.model_name,
                    "model_version": s.model.model_version if s.model else None,
                    "sampling_percentage": s.sampling_percentage,
                    "loaded": s.model is not None,
                    **s.traffic.summary(since, with_latencies=with_latencies),
                }
                for s in self.shadows.values()
            },
        }

    def describe(self, endpoint_status: str | None, endpoint_config: str | None) -> dict[str, Any]:
        """DescribeInferenceExperiment's answer."""
        answer: dict[str, Any] = {
            "Arn": self.arn,
            "Name": self.name,
            "Type": SHADOW_MODE,
            "Schedule": {"StartTime": self.start_time, "EndTime": self.end_time},
            "Status": self.status,
            "CreationTime": self.created,
            "LastModifiedTime": self.modified,
            "RoleArn": self.role_arn,
            "EndpointMetadata": {"EndpointName": self.endpoint},
            "ModelVariants": [
                {**dict(v), "Status": self._variant_status(v["VariantName"])} for v in self.model_variants
            ],
            "ShadowModeConfig": {
                "SourceModelVariantName": self.source_variant,
                "ShadowModelVariants": [
                    {"ShadowModelVariantName": s.name, "SamplingPercentage": s.sampling_percentage}
                    for s in self.shadows.values()
                ],
            },
        }
        if endpoint_status is not None:
            answer["EndpointMetadata"]["EndpointStatus"] = endpoint_status
        if endpoint_config is not None:
            answer["EndpointMetadata"]["EndpointConfigName"] = endpoint_config
        for key, value in (
            ("StatusReason", self.status_reason),
            ("Description", self.description),
            ("CompletionTime", self.completion_time),
            ("DataStorageConfig", self.data_storage),
            ("KmsKey", self.kms_key),
        ):
            if value is not None:
                answer[key] = dict(value) if isinstance(value, Mapping) else value
        return answer

    def _variant_status(self, variant: str) -> str:
        shadow = self.shadows.get(variant)
        if shadow is None:
            return "InService"  # the source variant serves production throughout
        if shadow.model is not None:
            return "InService"
        return "Creating" if self.status == CREATING else "Deleted"

    def list_item(self) -> dict[str, Any]:
        """The experiment as ListInferenceExperiments lists it."""
        item: dict[str, Any] = {
            "Name": self.name,
            "Type": SHADOW_MODE,
            "Schedule": {"StartTime": self.start_time, "EndTime": self.end_time},
            "Status": self.status,
            "CreationTime": self.created,
            "LastModifiedTime": self.modified,
            "RoleArn": self.role_arn,
        }
        for key, value in (
            ("StatusReason", self.status_reason),
            ("Description", self.description),
            ("CompletionTime", self.completion_time),
        ):
            if value is not None:
                item[key] = value
        return item


def mirror(experiment: ExperimentRecord, texts: list[str], intents: Sequence[str], production_ms: float) -> None:
    """Send a sample of one answered production request to each shadow variant, without waiting for any (call on
    the event loop, after the production answer is ready)."""
    loop = asyncio.get_running_loop()
    for shadow in experiment.shadows.values():
        model = shadow.model
        if model is None or not shadow.sampled():
            continue
        if shadow.traffic.in_flight >= MAX_IN_FLIGHT:
            shadow.traffic.dropped += 1
            continue
        shadow.traffic.in_flight += 1
        model.acquire()  # a stop now retires the model only once this call is done with it
        task = loop.create_task(
            _shadow_call(shadow, model, texts, intents, production_ms), name=f"shadow-{shadow.name}"
        )
        experiment.tasks.add(task)
        task.add_done_callback(experiment.tasks.discard)


async def _shadow_call(
    shadow: ShadowVariant, model: LoadedModel, texts: list[str], intents: Sequence[str], production_ms: float
) -> None:
    start = time.perf_counter()
    try:
        predictions = await model.classify(texts)
    except Exception:  # a failing shadow is counted, never the caller's problem
        log.warning("shadow inference failed", exc_info=True, extra={"variant": shadow.name})
        shadow.traffic.record_error()
        return
    finally:
        model.release()
        shadow.traffic.in_flight -= 1
    agreed = sum(1 for p, intent in zip(predictions, intents, strict=False) if p.get("intent") == intent)
    shadow.traffic.record((time.perf_counter() - start) * 1000.0, production_ms, len(texts), agreed)
