"""Production variants of an A/B endpoint: names, weights, shift schedules and guard thresholds, validated as
SageMaker validates them, so that a bad value fails here with a hint instead of half-way through a deployment.

Shared by the deployer (`inference.deploy`) and the local A/B endpoint (`inference.local`), which must agree on
every rule.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ml.errors import MlopsError
from ml.settings import MIN_STEP_INVOCATIONS, P95_BUDGET_MS
from ml.stats import nearest_rank

# SageMaker's pattern (and 63-character limit) for EndpointName, EndpointConfigName, ModelName and VariantName.
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
NAME_RULE = "1-63 characters: letters, digits and hyphens, starting and ending with a letter or digit"
# The largest 32-bit float: what a `float` shape of an AWS service model holds (`double` shapes hold 64 bits).
FLOAT32_MAX = 3.4028234663852886e38
# SageMaker's VariantWeight (InitialVariantWeight, DesiredWeight) is a `float` shape with a minimum of 0 in botocore's
# service model. The total is held to the same bound: traffic goes by each weight's share of the total, and a total
# that overflows routes nothing (tests/inference/deploy/test_plan.py compares both with botocore's model).
MAX_VARIANT_WEIGHT = FLOAT32_MAX
# SageMaker's tags (botocore's TagKey, TagValue, TagList): at most 50 on a resource, keys of 1-128 and values of at
# most 256 characters matching [\p{L}\p{Z}\p{N}_.:/=+\-@]* (letters, separators, numbers and this punctuation).
TAGS_PER_RESOURCE = 50
TAG_KEY_LIMIT = 128
TAG_VALUE_LIMIT = 256
TAG_PUNCTUATION = frozenset(" _.:/=+-@")


def tag_text_allowed(text: str) -> bool:
    """Whether SageMaker's tag pattern accepts every character of `text`."""
    return all(c.isalnum() or c in TAG_PUNCTUATION for c in text)


WEIGHT_HINT = "weights are relative: e.g. champion=90,challenger=10"


class DeploymentError(MlopsError):
    """An endpoint, variant, weight or schedule cannot be used, or the endpoint is not in a usable state."""


def check_name(kind: str, name: str) -> str:
    """Return name if SageMaker accepts it as an endpoint/variant/model name, else raise DeploymentError."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise DeploymentError(
            f"{kind} name {name!r} would be rejected by SageMaker",
            hint=f"{kind} names are {NAME_RULE}, e.g. 'challenger-v2'",
        )
    return name


def check_unique(kind: str, names: Iterable[str]) -> list[str]:
    """The names, each valid and none repeated."""
    seen: list[str] = []
    for name in names:
        check_name(kind, name)
        if name in seen:
            raise DeploymentError(f"two {kind}s are named {name!r}", hint=f"give every {kind} its own name")
        seen.append(name)
    return seen


def parse_variant_spec(spec: str) -> tuple[str, str]:
    """`NAME=MODEL` -> (name, model), as in `challenger=models:/intent-classifier@challenger` (names checked later)."""
    name, sep, model = spec.partition("=")
    if not sep or not name.strip() or not model.strip():
        raise DeploymentError(
            f"variant {spec!r} is not NAME=MODEL", hint="e.g. --variant challenger=models:/intent-classifier@challenger"
        )
    return name.strip(), model.strip()


def parse_weights(text: str | Sequence[str]) -> dict[str, float]:
    """`a=90,b=10` (or ["a=90", "b=10"]) -> {"a": 90.0, "b": 10.0}, validated by check_weights."""
    parts = [p.strip() for chunk in ([text] if isinstance(text, str) else text) for p in chunk.split(",") if p.strip()]
    if not parts:
        raise DeploymentError(
            "no weights given", hint="use NAME=WEIGHT pairs, e.g. --weights champion=90,challenger=10"
        )
    weights: dict[str, float] = {}
    for part in parts:
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep:
            raise DeploymentError(
                f"weight {part!r} is not NAME=WEIGHT", hint="e.g. --weights champion=90,challenger=10"
            )
        try:
            weight = float(value)
        except ValueError:
            raise DeploymentError(
                f"weight of {name!r} is not a number: {value.strip()!r}", hint="e.g. champion=90"
            ) from None
        if name in weights:
            raise DeploymentError(f"variant {name!r} is given two weights", hint="name each variant once")
        weights[name] = weight
    return check_weights(weights)


def check_weights(weights: Mapping[str, float], known: Iterable[str] | None = None) -> dict[str, float]:
    """Weights SageMaker accepts: valid names, each finite and in [0, MAX_VARIANT_WEIGHT], summing to a positive
    number no larger than MAX_VARIANT_WEIGHT; known variants only."""
    check_unique("variant", weights)
    for name, weight in weights.items():
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
            raise DeploymentError(
                f"weight of variant {name!r} must be a finite number >= 0, got {weight!r}", hint=WEIGHT_HINT
            )
        if weight > MAX_VARIANT_WEIGHT:
            raise DeploymentError(
                f"weight of variant {name!r} must be at most {MAX_VARIANT_WEIGHT:g} (SageMaker's VariantWeight is a "
                f"32-bit float), got {weight:g}",
                hint=WEIGHT_HINT,
            )
    total = math.fsum(weights.values())
    if not weights or total <= 0:
        raise DeploymentError(
            f"weights {dict(weights)} do not sum to a positive number: no variant would get traffic",
            hint="give at least one variant a weight above 0",
        )
    if total > MAX_VARIANT_WEIGHT:
        raise DeploymentError(
            f"weights {dict(weights)} must sum to at most {MAX_VARIANT_WEIGHT:g}: traffic goes by each weight's share "
            "of the total, and a larger total overflows SageMaker's 32-bit weights",
            hint=WEIGHT_HINT,
        )
    if known is not None:
        known = list(known)
        unknown = [n for n in weights if n not in known]
        if unknown:
            raise DeploymentError(
                f"no variant named {', '.join(map(repr, unknown))} on the endpoint",
                hint=f"its variants are: {', '.join(known) or '(none)'}",
            )
    return {name: float(weight) for name, weight in weights.items()}


def traffic_shares(weights: Mapping[str, float]) -> dict[str, float]:
    """Each variant's expected share of traffic (weights normalised to sum to 1)."""
    total = sum(weights.values())
    return {name: (w / total if total > 0 else 0.0) for name, w in weights.items()}


def parse_schedule(text: str | Sequence[float]) -> list[float]:
    """`10,25,50,100` -> [10, 25, 50, 100]: traffic percentages for one variant, increasing, each in (0, 100]."""
    raw = text.split(",") if isinstance(text, str) else list(text)
    try:
        steps = [float(str(s).strip().rstrip("%")) for s in raw if str(s).strip()]
    except ValueError:
        raise DeploymentError(
            f"schedule {text!r} is not a list of percentages", hint="e.g. --schedule 10,25,50,100"
        ) from None
    if not steps:
        raise DeploymentError("the schedule is empty", hint="e.g. --schedule 10,25,50,100")
    if any(not (0 < s <= 100) for s in steps) or any(b <= a for a, b in itertools.pairwise(steps)):
        raise DeploymentError(
            f"schedule {steps} must be increasing percentages in (0, 100]", hint="e.g. --schedule 10,25,50,100"
        )
    return steps


def weights_for_share(current: Mapping[str, float], variant: str, percent: float) -> dict[str, float]:
    """Weights (summing to 100) giving `variant` percent of traffic; the others keep their relative proportions."""
    check_weights(current)
    if variant not in current:
        raise DeploymentError(
            f"no variant named {variant!r} on the endpoint", hint=f"its variants are: {', '.join(current)}"
        )
    others = {n: w for n, w in current.items() if n != variant}
    rest = 100.0 - percent
    total = sum(others.values())
    weights = {n: (rest * w / total if total > 0 else rest / len(others)) for n, w in others.items()}
    weights[variant] = percent
    return {n: round(weights[n], 6) for n in current}


@dataclass(frozen=True)
class Guard:
    """When a stepwise shift stops and reverts: a variant's error rate or p95 latency over the bake window, judged
    only on at least `min_invocations` requests of each variant with traffic."""

    max_error_rate: float = 0.01
    max_p95_ms: float = P95_BUDGET_MS
    min_invocations: int = MIN_STEP_INVOCATIONS

    def __post_init__(self) -> None:
        if not 0 <= self.max_error_rate <= 1:
            raise DeploymentError(
                f"max error rate must be in [0, 1], got {self.max_error_rate}", hint="e.g. 0.01 for 1%"
            )
        if self.max_p95_ms <= 0:
            raise DeploymentError(f"max p95 must be positive, got {self.max_p95_ms} ms", hint="e.g. 500")
        if self.min_invocations < 0:
            raise DeploymentError(f"min invocations must be >= 0, got {self.min_invocations}")

    def missing_evidence(self, weights: Mapping[str, float], stats: Mapping[str, VariantStats]) -> list[str]:
        """The variants with traffic (weight > 0) that served fewer than `min_invocations` requests, each a line."""
        short = []
        for name, weight in weights.items():
            served = stats[name].invocations if name in stats else 0
            if weight > 0 and served < self.min_invocations:
                short.append(f"{name} served {served} of the {self.min_invocations} requests a step needs")
        return short


@dataclass(frozen=True)
class VariantStats:
    """One variant's traffic over a window; latency percentiles are None when unknown (no requests, or no source)."""

    variant: str
    invocations: int
    errors: int
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None

    @property
    def error_rate(self) -> float:
        """Errors per invocation (0 with no invocations)."""
        return self.errors / self.invocations if self.invocations else 0.0

    @classmethod
    def from_samples(cls, variant: str, latencies_ms: Sequence[float], errors: int) -> VariantStats:
        """Exact nearest-rank percentiles of the successful requests' latencies."""
        if not len(latencies_ms):
            return cls(variant, errors, errors)
        p50, p95, p99 = (round(value, 3) for value in nearest_rank(latencies_ms, (50, 95, 99)).values())
        return cls(variant, len(latencies_ms) + errors, errors, p50, p95, p99)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the error rate."""
        return {**asdict(self), "error_rate": round(self.error_rate, 6)}

    def violations(self, guard: Guard) -> list[str]:
        """What crosses the guard's thresholds (empty when fine or when too few invocations to judge)."""
        if self.invocations < max(guard.min_invocations, 1):
            return []
        found = []
        if self.error_rate > guard.max_error_rate:
            found.append(
                f"{self.variant}: error rate {self.error_rate:.2%} ({self.errors}/{self.invocations}) "
                f"> {guard.max_error_rate:.2%}"
            )
        if self.p95_ms is not None and self.p95_ms > guard.max_p95_ms:
            found.append(f"{self.variant}: p95 latency {self.p95_ms:.1f} ms > {guard.max_p95_ms:.1f} ms")
        return found
