"""Shadow tests through SageMaker's inference experiments (`ShadowMode`), with boto3: start, find, report, stop.

A shadow test runs a candidate model next to production on live traffic without serving it: the endpoint mirrors a
sampled share of a production variant's requests to the shadow variant, and callers only ever get production's
answers. The same calls drive AWS (CreateInferenceExperiment with a ShadowModeConfig; AWS allows one shadow
variant) and the local A/B endpoint (`inference.local.shadow`, which may host several). moto implements none of
these operations (tests/inference/deploy/test_shadow.py pins that).

The report asks three questions of each shadow variant, on the experiment's mirrored traffic:
- agreement: does its top intent match production's on the same inputs? A Wilson interval on the share of inputs
  that agree; ready needs its lower bound at least `min_agreement`, and its upper bound below it is not ready.
- latency: is its p95 within the budget, and no more than `max_latency_ratio` times production's p95 on the same
  requests (or within `latency_slack_ms` of it: at a few milliseconds a ratio is noise)?
- errors and load: is its error rate within `max_error_rate` (not ready once the Wilson lower bound exceeds it),
  and did it keep up (mirrored requests dropped because too many were pending: at most `max_drop_rate`)?
Below `min_requests` mirrored requests, or with agreement not yet decided, the verdict is insufficient evidence.
A shadow test screens a candidate before it takes real traffic; the A/B test that follows (`inference.deploy.report`)
is the gate for promotion.

Where the figures come from: the local endpoint records every mirrored request (metrics document, `shadow` key).
On AWS, CloudWatch carries the shadow variant's Invocations, Invocation5XXErrors and ModelLatency under its own
VariantName, per minute; AWS publishes no agreement (it is in the captured shadow responses when the experiment
has a DataStorageConfig), so an AWS report can find a shadow not ready but never ready.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from inference.deploy import significance as sig
from inference.deploy.traffic import CloudWatchTraffic, LocalEndpointTraffic
from inference.variants import DeploymentError, check_name
from ml.progress import Progress, report
from ml.settings import P95_BUDGET_MS

if TYPE_CHECKING:
    from inference.deploy.target import DeployTarget

log = logging.getLogger(__name__)

READY, NOT_READY, INSUFFICIENT = "ready", "not ready", "insufficient evidence"
PASS, FAIL, UNDECIDED = "pass", "fail", "undecided"
SHADOW_MODE = "ShadowMode"
DEFAULT_SHADOW_VARIANT = "Shadow"
# Statuses of an experiment that has not ended (botocore's InferenceExperimentStatus, less Completed and Cancelled).
ACTIVE_STATUSES = ("Creating", "Created", "Starting", "Running", "Updating", "Stopping")
# What SageMaker needs for InfrastructureConfig when a variant's config names no instance type (the local endpoint).
DEFAULT_INSTANCE_TYPE = "ml.m5.large"
EXPERIMENT_NAME_LIMIT = 120


@dataclass(frozen=True)
class ShadowPolicy:
    """What a shadow variant must show on mirrored traffic to be ready for an A/B test."""

    min_requests: int = 100
    min_agreement: float = 0.9
    max_p95_ms: float = P95_BUDGET_MS
    max_latency_ratio: float = 1.5
    latency_slack_ms: float = 20.0
    max_error_rate: float = 0.01
    max_drop_rate: float = 0.05
    confidence: float = 0.95

    def __post_init__(self) -> None:
        if self.min_requests < 1:
            raise DeploymentError(f"min_requests must be at least 1, got {self.min_requests}")
        for name in ("min_agreement", "max_error_rate", "max_drop_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise DeploymentError(f"{name} must be a share between 0 and 1, got {getattr(self, name)}")
        if not 0.5 <= self.confidence < 1.0:
            raise DeploymentError(f"confidence must be in [0.5, 1), got {self.confidence}")
        if self.max_p95_ms <= 0 or self.max_latency_ratio <= 0 or self.latency_slack_ms < 0:
            raise DeploymentError("max_p95_ms and max_latency_ratio must be positive, latency_slack_ms at least 0")


@dataclass
class ShadowReport:
    """The verdict on an endpoint's shadow test, per shadow variant, with the checks and figures behind it."""

    endpoint: str
    experiment: str
    status: str
    source_variant: str
    verdict: str
    variants: dict[str, dict[str, Any]]
    evidence: list[str]
    figures_from: str
    policy: ShadowPolicy = field(default_factory=ShadowPolicy)

    @property
    def ready(self) -> bool:
        """Whether every shadow variant is ready."""
        return self.verdict == READY

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {**asdict(self), "policy": asdict(self.policy)}


# ---- the SageMaker calls ------------------------------------------------------------------------------------------


def _error(exc: Exception) -> tuple[str, str]:
    error = getattr(exc, "response", {}).get("Error", {})
    return str(error.get("Code", "")), str(error.get("Message", ""))


def _unsupported(exc: Exception) -> DeploymentError | None:
    """A clear error for a SageMaker stand-in without inference experiments (moto answers 500 / not implemented)."""
    code, message = _error(exc)
    status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
    # moto answers an operation it lacks with a bare HTML 500, whose error code botocore takes from the status.
    if code in ("UnknownOperationException", "NotImplemented") or (status in (500, 501) and code == str(status)):
        return DeploymentError(
            f"this SageMaker API does not implement inference experiments ({code}: "
            f"{message.strip()[:200] if not message.lstrip().startswith('<') else 'not implemented'})",
            hint="run shadow tests on AWS or on the local endpoint (`mlops endpoint serve-local`)",
        )
    return None


def _call(sm: Any, operation: str, **params: Any) -> dict[str, Any]:
    """One SageMaker call, its refusal as a DeploymentError that says what was refused."""
    try:
        return getattr(sm, operation)(**params)
    except Exception as exc:
        unsupported = _unsupported(exc)
        if unsupported is not None:
            raise unsupported from exc
        code, message = _error(exc)
        if not code:
            raise
        raise DeploymentError(f"{operation} refused: {code}: {message}") from exc


def experiment_name(endpoint: str, clock: float | None = None) -> str:
    """A new experiment's name: the endpoint's, then `-shadow-` and the UTC time to the millisecond.

    Names stay taken after an experiment ends, and a test stopped and started again on one endpoint can fall in the
    same second, which SageMaker refuses as ResourceInUse: hence the millisecond."""
    moment = datetime.fromtimestamp(time.time() if clock is None else clock, UTC)
    stamp = f"{moment:%Y%m%d%H%M%S}-{moment.microsecond // 1000:03d}"
    return f"{endpoint[: EXPERIMENT_NAME_LIMIT - len(stamp) - 8]}-shadow-{stamp}"


def list_experiments(sm: Any) -> list[dict[str, Any]]:
    """Every inference experiment of the account and region, newest first (all pages)."""
    items: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        params: dict[str, Any] = {"SortBy": "CreationTime", "SortOrder": "Descending", "MaxResults": 100}
        if token:
            params["NextToken"] = token
        answer = _call(sm, "list_inference_experiments", **params)
        items.extend(answer.get("InferenceExperiments", []))
        token = answer.get("NextToken")
        if not token:
            return items


def find_experiment(sm: Any, endpoint: str, *, active_only: bool = True) -> dict[str, Any] | None:
    """The newest experiment on `endpoint` (DescribeInferenceExperiment's answer): only one not yet ended, unless
    `active_only` is false. ListInferenceExperiments has no endpoint filter, so candidates are described in turn."""
    check_name("endpoint", endpoint)
    for item in list_experiments(sm):
        if active_only and item["Status"] not in ACTIVE_STATUSES:
            continue
        described = _call(sm, "describe_inference_experiment", Name=item["Name"])
        if described.get("EndpointMetadata", {}).get("EndpointName") == endpoint:
            return described
    return None


def source_of(sm: Any, endpoint: str, source_variant: str | None) -> dict[str, Any]:
    """The production variant to mirror (named, or the endpoint's only / heaviest one) and its model and instances,
    from the endpoint's current config."""
    try:
        described = sm.describe_endpoint(EndpointName=endpoint)
    except Exception as exc:
        _, message = _error(exc)
        if "ould not find" in message:
            raise DeploymentError(
                f"endpoint {endpoint!r} does not exist", hint="deploy it first: `mlops endpoint deploy ENDPOINT`"
            ) from exc
        raise
    if described["EndpointStatus"] != "InService":
        raise DeploymentError(
            f"endpoint {endpoint!r} is {described['EndpointStatus']}: a shadow test needs it InService",
            hint="wait until it is InService (`mlops endpoint status`)",
        )
    config = sm.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
    variants = {v["VariantName"]: v for v in config["ProductionVariants"]}
    weights = {v["VariantName"]: float(v.get("CurrentWeight", 0.0)) for v in described.get("ProductionVariants", [])}
    if source_variant is None:
        ranked = sorted(weights.items(), key=lambda item: -item[1])
        if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
            raise DeploymentError(
                f"endpoint {endpoint!r} has several production variants at the same weight "
                f"({', '.join(weights)}): which one should the shadow mirror?",
                hint="name it with --source-variant",
            )
        source_variant = ranked[0][0] if ranked else next(iter(variants))
    if source_variant not in variants:
        raise DeploymentError(
            f"variant {source_variant!r} is not a production variant of endpoint {endpoint!r}",
            hint=f"its variants are: {', '.join(variants)}",
        )
    return {**variants[source_variant], "EndpointConfigName": described["EndpointConfigName"]}


def infrastructure(instance_type: str | None, instance_count: int) -> dict[str, Any]:
    """A variant's InfrastructureConfig for an experiment."""
    return {
        "InfrastructureType": "RealTimeInference",
        "RealTimeInferenceConfig": {
            "InstanceType": instance_type or DEFAULT_INSTANCE_TYPE,
            "InstanceCount": instance_count,
        },
    }


def check_percent(percent: float) -> int:
    """A sampling percentage as SageMaker takes it: a whole number from 1 to 100."""
    if isinstance(percent, bool) or not isinstance(percent, int | float) or percent != percent:
        raise DeploymentError(f"shadow sampling must be a number of percent, got {percent!r}")
    if not 1 <= percent <= 100 or percent != int(percent):
        raise DeploymentError(
            f"shadow sampling must be a whole percent from 1 to 100, got {percent:g}",
            hint="e.g. --percent 100 mirrors every request, --percent 10 one in ten",
        )
    return int(percent)


def create_experiment(
    sm: Any,
    *,
    name: str,
    endpoint: str,
    source: Mapping[str, Any],
    shadow_variant: str,
    shadow_model: str,
    percent: int,
    role_arn: str,
    description: str | None = None,
) -> dict[str, Any]:
    """CreateInferenceExperiment: mirror `percent` of the source variant's requests to `shadow_model`."""
    params: dict[str, Any] = {
        "Name": name,
        "Type": SHADOW_MODE,
        "RoleArn": role_arn,
        "EndpointName": endpoint,
        "ModelVariants": [
            {
                "ModelName": source["ModelName"],
                "VariantName": source["VariantName"],
                "InfrastructureConfig": infrastructure(
                    source.get("InstanceType"), int(source.get("InitialInstanceCount", 1))
                ),
            },
            {
                "ModelName": shadow_model,
                "VariantName": shadow_variant,
                "InfrastructureConfig": infrastructure(source.get("InstanceType"), 1),
            },
        ],
        "ShadowModeConfig": {
            "SourceModelVariantName": source["VariantName"],
            "ShadowModelVariants": [{"ShadowModelVariantName": shadow_variant, "SamplingPercentage": percent}],
        },
    }
    if description:
        params["Description"] = description[:1024]
    try:
        return _call(sm, "create_inference_experiment", **params)
    except DeploymentError as refused:
        made = _made_by_an_earlier_attempt(sm, refused, name=name, endpoint=endpoint, shadow_variant=shadow_variant)
        if made is None:
            raise
        return made


def _made_by_an_earlier_attempt(
    sm: Any, refused: DeploymentError, *, name: str, endpoint: str, shadow_variant: str
) -> dict[str, Any] | None:
    """The experiment this very create made, when SageMaker refuses it as existing: the client retries a request
    whose answer timed out (botocore's retries), and the retry finds what the first attempt created. Same name
    (stamped to the second), same endpoint, same shadow variant: ours. None for any other refusal."""
    cause = refused.__cause__
    if not isinstance(cause, Exception) or _error(cause)[0] != "ResourceInUse":
        return None
    try:
        existing = describe_experiment(sm, name)
    except DeploymentError:
        return None
    shadows = existing.get("ShadowModeConfig", {}).get("ShadowModelVariants", [])
    if existing.get("EndpointMetadata", {}).get("EndpointName") != endpoint or [
        v.get("ShadowModelVariantName") for v in shadows
    ] != [shadow_variant]:
        return None
    log.info("experiment %s already made by an earlier attempt of this request: taking it", name)
    return {"InferenceExperimentArn": existing.get("Arn", "")}


def describe_experiment(sm: Any, name: str) -> dict[str, Any]:
    """DescribeInferenceExperiment."""
    return _call(sm, "describe_inference_experiment", Name=name)


def start_experiment(sm: Any, name: str) -> dict[str, Any]:
    """StartInferenceExperiment: a Created (scheduled) experiment starts now."""
    return _call(sm, "start_inference_experiment", Name=name)


def wait_experiment(
    sm: Any,
    name: str,
    *,
    poll_s: float = 15.0,
    timeout_s: float = 3600.0,
    sleep: Any = time.sleep,
    clock: Any = time.time,
    on_progress: Any = None,
) -> dict[str, Any]:
    """Poll until the experiment is no longer Creating/Starting; DeploymentError if it ended instead of running."""
    deadline = clock() + timeout_s
    while True:
        described = _call(sm, "describe_inference_experiment", Name=name)
        status = described["Status"]
        if status not in ("Creating", "Starting"):
            report(on_progress, Progress(f"shadow test {name}", status, done=True))
            if status in ("Completed", "Cancelled"):
                raise DeploymentError(
                    f"shadow test {name} is {status}: {described.get('StatusReason') or 'no reason given'}",
                    hint="fix the cause (the shadow model, the endpoint) and start it again",
                )
            return described
        if clock() > deadline:
            raise DeploymentError(
                f"shadow test {name} still {status} after {timeout_s:.0f} s",
                hint="check it with `mlops endpoint shadow report`; it goes on in the background",
            )
        report(on_progress, Progress(f"shadow test {name}", status))
        sleep(poll_s)


def stop_experiment(
    sm: Any, experiment: Mapping[str, Any], *, reason: str | None = None, cancel: bool = False
) -> dict[str, Any]:
    """StopInferenceExperiment: production variant retained, every shadow variant removed."""
    shadows = [s["ShadowModelVariantName"] for s in experiment["ShadowModeConfig"]["ShadowModelVariants"]]
    source = experiment["ShadowModeConfig"]["SourceModelVariantName"]
    actions = {source: "Retain", **dict.fromkeys(shadows, "Remove")}
    params: dict[str, Any] = {
        "Name": experiment["Name"],
        "ModelVariantActions": actions,
        "DesiredState": "Cancelled" if cancel else "Completed",
    }
    if reason:
        params["Reason"] = reason[:1024]
    return _call(sm, "stop_inference_experiment", **params)


# ---- the report ---------------------------------------------------------------------------------------------------


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def local_figures(document: Mapping[str, Any], experiment: str) -> dict[str, dict[str, Any]]:
    """Per shadow variant, the figures of a local endpoint metrics document's `shadow` section."""
    found = document.get("shadow", {}).get(experiment)
    if found is None:
        raise DeploymentError(
            f"the local endpoint has no mirrored traffic for shadow test {experiment}",
            hint="is the endpoint still the one the test was started on? (a restarted local endpoint forgets tests)",
        )
    return {
        name: {
            "requests": v["requests"],
            "errors": v["errors"],
            "dropped": v["dropped"],
            "inputs_compared": v["inputs_compared"],
            "inputs_agreed": v["inputs_agreed"],
            "shadow": v["shadow"],
            "production": v["production"],
            "model_version": v.get("model_version"),
        }
        for name, v in found["variants"].items()
    }


def cloudwatch_figures(
    traffic: CloudWatchTraffic, endpoint: str, source: str, shadows: list[str], since: float, until: float
) -> dict[str, dict[str, Any]]:
    """Per shadow variant, its CloudWatch figures over the experiment so far, beside the source variant's."""
    stats = traffic.variant_stats(endpoint, [source, *shadows], since, until)
    production = stats[source]
    return {
        name: {
            "requests": stats[name].invocations,
            "errors": stats[name].errors,
            "dropped": None,
            "inputs_compared": None,
            "inputs_agreed": None,
            "shadow": {"p50_ms": stats[name].p50_ms, "p95_ms": stats[name].p95_ms, "p99_ms": stats[name].p99_ms},
            "production": {"p50_ms": production.p50_ms, "p95_ms": production.p95_ms, "p99_ms": production.p99_ms},
        }
        for name in shadows
    }


def judge(figures: Mapping[str, Any], policy: ShadowPolicy) -> dict[str, Any]:
    """One shadow variant's checks and verdict from its figures."""
    requests, errors = int(figures["requests"]), int(figures["errors"])
    enough = requests >= policy.min_requests
    checks: dict[str, dict[str, Any]] = {
        "requests": {
            "result": PASS if enough else UNDECIDED,
            "detail": f"{requests} mirrored requests (at least {policy.min_requests} needed)",
        }
    }
    compared, agreed = figures.get("inputs_compared"), figures.get("inputs_agreed")
    if compared is None or agreed is None:
        checks["agreement"] = {
            "result": UNDECIDED,
            "detail": "not measured: AWS publishes no agreement (compare the experiment's captured responses)",
        }
    else:
        interval = sig.wilson(agreed, compared, policy.confidence)
        result = (
            FAIL
            if compared and interval.high < policy.min_agreement
            else PASS
            if compared and interval.low >= policy.min_agreement
            else UNDECIDED
        )
        share = f"{agreed / compared:.1%}" if compared else "n/a"
        checks["agreement"] = {
            "result": result,
            "value": round(agreed / compared, 6) if compared else None,
            "interval": interval.to_list(),
            "detail": f"top intent as production's on {agreed}/{compared} inputs ({share}, "
            f"{policy.confidence:.0%} CI {interval.low:.1%}-{interval.high:.1%}; needs >= {policy.min_agreement:.0%})",
        }
    shadow_p95, production_p95 = figures["shadow"].get("p95_ms"), figures["production"].get("p95_ms")
    if shadow_p95 is None or not enough:
        checks["latency"] = {"result": UNDECIDED, "detail": "too few mirrored requests to judge p95"}
    else:
        ratio = shadow_p95 / production_p95 if production_p95 else None
        within_budget = shadow_p95 <= policy.max_p95_ms
        close = (
            ratio is None or ratio <= policy.max_latency_ratio or shadow_p95 - production_p95 <= policy.latency_slack_ms
        )
        checks["latency"] = {
            "result": PASS if within_budget and close else FAIL,
            "shadow_p95_ms": shadow_p95,
            "production_p95_ms": production_p95,
            "ratio": round(ratio, 3) if ratio is not None else None,
            "detail": f"p95 {shadow_p95:.1f} ms vs production {production_p95 or 0:.1f} ms"
            + (f" (x{ratio:.2f})" if ratio is not None else "")
            + f"; needs <= {policy.max_p95_ms:g} ms and <= x{policy.max_latency_ratio:g} "
            f"(or within {policy.latency_slack_ms:g} ms)",
        }
    errors_interval = sig.wilson(errors, requests, policy.confidence)
    rate = errors / requests if requests else 0.0
    checks["errors"] = {
        "result": FAIL if requests and errors_interval.low > policy.max_error_rate else PASS,
        "value": round(rate, 6),
        "interval": errors_interval.to_list(),
        "detail": f"{errors}/{requests} failed ({rate:.2%}, {policy.confidence:.0%} CI "
        f"{errors_interval.low:.2%}-{errors_interval.high:.2%}; limit {policy.max_error_rate:.2%})",
    }
    dropped = figures.get("dropped")
    if dropped is not None:
        drop_share = dropped / (requests + dropped) if requests + dropped else 0.0
        checks["keeps_up"] = {
            "result": FAIL if drop_share > policy.max_drop_rate else PASS,
            "value": round(drop_share, 6),
            "detail": f"{dropped} sampled requests dropped while too many were pending ({drop_share:.2%}; "
            f"limit {policy.max_drop_rate:.0%})",
        }
    results = [c["result"] for c in checks.values()]
    verdict = NOT_READY if FAIL in results else INSUFFICIENT if UNDECIDED in results else READY
    return {"verdict": verdict, "checks": checks, "figures": dict(figures)}


def combine(verdicts: list[str]) -> str:
    """Every shadow ready is ready; any not ready is not ready; else insufficient evidence."""
    if verdicts and all(v == READY for v in verdicts):
        return READY
    return NOT_READY if NOT_READY in verdicts else INSUFFICIENT


def shadow_report(target: DeployTarget, endpoint: str, *, policy: ShadowPolicy | None = None) -> ShadowReport:
    """The report on the endpoint's shadow test: the one running, else its latest (DeploymentError if none)."""
    policy = policy or ShadowPolicy()
    sm = target.manager.sm
    experiment = find_experiment(sm, endpoint) or find_experiment(sm, endpoint, active_only=False)
    if experiment is None:
        raise DeploymentError(
            f"endpoint {endpoint!r} has no shadow test", hint=f"start one: `mlops endpoint shadow start {endpoint}`"
        )
    name = experiment["Name"]
    source = experiment["ShadowModeConfig"]["SourceModelVariantName"]
    shadows = [s["ShadowModelVariantName"] for s in experiment["ShadowModeConfig"]["ShadowModelVariants"]]
    evidence: list[str] = []
    if isinstance(target.traffic, LocalEndpointTraffic):
        figures = local_figures(target.traffic.fetch(endpoint), name)
        figures_from = "local endpoint (every mirrored request)"
    elif isinstance(target.traffic, CloudWatchTraffic):
        schedule = experiment.get("Schedule", {})
        now = target.traffic.clock()
        since = _epoch(schedule.get("StartTime")) or _epoch(experiment.get("CreationTime")) or now
        until = _epoch(experiment.get("CompletionTime")) or now
        figures_from = "CloudWatch (per-minute ModelLatency, Invocations, Invocation5XXErrors)"
        try:
            figures = cloudwatch_figures(target.traffic, endpoint, source, shadows, since, until)
        except DeploymentError as exc:
            evidence.append(exc.message)
            figures = {
                s: {"requests": 0, "errors": 0, "shadow": {}, "production": {}, "inputs_compared": None}
                for s in shadows
            }
    else:  # pragma: no cover - the two traffic sources DeployTarget makes
        raise DeploymentError(f"no shadow figures from {type(target.traffic).__name__}")
    variants = {
        s: judge(figures.get(s, {"requests": 0, "errors": 0, "shadow": {}, "production": {}}), policy) for s in shadows
    }
    for s, judged in variants.items():
        evidence.extend(f"{s}: {check}: {c['result']}: {c['detail']}" for check, c in judged["checks"].items())
    return ShadowReport(
        endpoint=endpoint,
        experiment=name,
        status=experiment["Status"],
        source_variant=source,
        verdict=combine([v["verdict"] for v in variants.values()]),
        variants=variants,
        evidence=evidence,
        figures_from=figures_from,
        policy=policy,
    )


def render_report(report: ShadowReport) -> str:
    """The report as people read it: the verdict, then each shadow variant's checks."""
    lines = [
        f"shadow test {report.experiment} on {report.endpoint} ({report.status}), mirroring {report.source_variant}",
        f"verdict: {report.verdict}",
    ]
    for name, judged in report.variants.items():
        lines.append(f"  {name}: {judged['verdict']}")
        for check, c in judged["checks"].items():
            lines.append(f"    {check:<10} {c['result']:<9} {c['detail']}")
    lines.append(f"figures from: {report.figures_from}")
    return "\n".join(lines)
