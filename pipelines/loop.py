"""The retraining loop: from drift and new data to a challenger in shadow, then in an A/B test at a small weight.

Each `run_loop` call reads where the loop stands from real state, never from a file of its own: the endpoint's
production variants and its running shadow experiment (`pipelines.shadow.find_experiment`), the registry's aliases
and versions with the data md5 each was trained on, the data version `dvc.lock` pins, the loop's own audit trail
(`model_registry.loop_audit`: a retraining it started or that failed) and, only when nothing else is pending, the
drift of the captured traffic against the champion's training data (`pipelines.monitor.drift_report`). It then
takes ONE stage, and records it in the audit:

    idle          no new data version, no drift (or too little traffic to tell)
    needs-labels  drift, but no new data: review the capture and add labelled prompts (`mlops data add`); exit 1
    retrain       the pinned data version has no model yet: run the pipeline (locally, or start it on SageMaker)
    retraining    a SageMaker execution the loop started for that data version is still running
    retrain-failed  the last retraining of that data version failed: fix it, then `--retry`; exit 1
    shadow        a challenger on the newest data, never shadowed: mirror the production traffic to it
    shadow-wait   its shadow has too little evidence yet
    ab-start      its shadow is ready: stop the shadow, deploy it as an A/B variant at a small weight
    shadow-failed its shadow is not ready (worse than the champion): stop the shadow, the champion keeps serving
    ab-running    the A/B test runs: `mlops endpoint report`, then the gated `mlops endpoint promote` decide

The loop never promotes: promotion stays with the A/B verdict and the registry's gates. Every decision names its
evidence. A dry run derives the same stage and says exactly what it would do, changing nothing. Calling again
is safe: a stage that was taken shows in the state the next call reads, so the next call takes the next stage.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inference.deploy.shadow import DEFAULT_SHADOW_VARIANT
from ml.aws import DEFAULT_REGION
from ml.errors import MlopsError
from ml.settings import REGISTERED_MODEL_NAME
from model_registry.promotion import CHAMPION
from model_registry.registration import CHALLENGER

log = logging.getLogger(__name__)

IDLE = "idle"
NEEDS_LABELS = "needs-labels"
RETRAIN = "retrain"
RETRAINING = "retraining"
RETRAIN_FAILED = "retrain-failed"
SHADOW = "shadow"
SHADOW_WAIT = "shadow-wait"
AB_START = "ab-start"
SHADOW_FAILED = "shadow-failed"
AB_RUNNING = "ab-running"
STAGES = (
    IDLE,
    NEEDS_LABELS,
    RETRAIN,
    RETRAINING,
    RETRAIN_FAILED,
    SHADOW,
    SHADOW_WAIT,
    AB_START,
    SHADOW_FAILED,
    AB_RUNNING,
)
# Stages that leave the loop needing a person: the command exits 1 on them.
ATTENTION = frozenset({NEEDS_LABELS, RETRAIN_FAILED})
RETRAIN_MODES = ("local", "sagemaker")
# The registry version tag the loop writes when it ends a challenger's shadow: its verdict. A version with it is
# never shadowed again by the loop (what it did next is on the endpoint, or the champion kept serving).
SHADOW_TAG = "loop.shadow_verdict"
# The A/B variant the challenger joins the endpoint as (`mlops endpoint promote --variant challenger` names it): the
# deployer's default name for it, the registry alias's.
AB_VARIANT = CHALLENGER
# SageMaker pipeline execution states (DescribePipelineExecution) still running.
RUNNING_EXECUTION = frozenset({"Executing", "Stopping"})


class LoopError(MlopsError):
    """The loop cannot read where it stands (no endpoint, no champion) or a stage's action failed."""


@dataclass(frozen=True)
class LoopSettings:
    """Everything a loop run needs: where the endpoint is, where its traffic is captured, the registry model, the
    drift test, the shadow and A/B sizes, and how to retrain."""

    endpoint: str
    local_url: str | None = None  # the local A/B endpoint; None: SageMaker on AWS
    region: str = DEFAULT_REGION
    capture: str | None = None  # the data capture: a directory, file://, or s3://bucket/prefix
    capture_variant: str | None = None  # only this variant's captures (default: all of the endpoint's)
    since: datetime | None = None  # only captures from this time on
    model_name: str = REGISTERED_MODEL_NAME
    alpha: float = 0.01
    min_samples: int = 50
    shadow_variant: str = DEFAULT_SHADOW_VARIANT
    shadow_percent: float = 100.0
    shadow_policy: Any = None  # a pipelines.shadow.ShadowPolicy; None: its defaults
    ab_weight: float = 10.0  # the challenger's share of traffic in the A/B test, in percent
    ab_sample_size: int | None = None  # labelled inputs the A/B report sends each variant (None: the report's default)
    retrain: str = "local"  # local | sagemaker
    pipeline_params: tuple[str, ...] = ()  # Name=Value overrides, as `mlops pipeline run -p` takes them
    retry: bool = False  # retrain a data version whose last retraining failed
    image_uri: str | None = None  # AWS: the serving image of the A/B variant
    role_arn: str | None = None  # AWS: the endpoint's execution role
    bucket: str | None = None  # AWS: S3 bucket for model packages
    tracking_uri: str | None = None  # SageMaker retraining: the registry the execution registers into
    pipeline_name: str | None = None  # SageMaker retraining: the upserted pipeline
    data_remote: str | None = None  # SageMaker retraining: the DVC remote on S3 holding the data
    repo: Path | None = None  # the DVC repository whose dvc.lock pins the data (default: the project root)
    actor: str | None = None

    def __post_init__(self) -> None:
        if self.retrain not in RETRAIN_MODES:
            raise LoopError(f"retrain mode must be local or sagemaker, got {self.retrain!r}")
        if not 0 < self.ab_weight < 100:
            raise LoopError(
                f"the A/B weight must be between 0 and 100 percent (exclusive), got {self.ab_weight:g}",
                hint="e.g. --ab-weight 10: the challenger gets 10 % of the traffic, the champion 90 %",
            )
        if not 0 < self.shadow_percent <= 100:
            raise LoopError(f"the shadow sampling must be in (0, 100] percent, got {self.shadow_percent:g}")
        if not 0 < self.alpha < 1:
            raise LoopError(f"the drift test's alpha must be in (0, 1), got {self.alpha:g}", hint="e.g. --alpha 0.01")
        if self.min_samples < 1:
            raise LoopError(f"min samples must be at least 1, got {self.min_samples}")
        if self.retrain == "sagemaker" and not self.tracking_uri:
            raise LoopError(
                "retraining on SageMaker needs the MLflow registry the execution registers into",
                hint="give --tracking-uri (or MLFLOW_TRACKING_URI): an MLflow server or SageMaker managed MLflow",
            )


@dataclass
class LoopStep:
    """The stage the loop took (or, in a dry run, would take): why, what it did, and what comes next."""

    stage: str
    decision: str  # why this stage, in a sentence naming the evidence
    action: str  # what it does, as a command a person could run instead
    endpoint: str
    model_name: str
    dry_run: bool = False
    outcome: str = "planned"  # planned (dry run) | done | waiting | failed
    inputs: dict[str, Any] = field(default_factory=dict)  # the evidence: md5s, versions, drift, shadow report
    result: dict[str, Any] = field(default_factory=dict)  # what the action returned
    next: str = ""  # what happens next, and who does it
    actor: str = ""
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    audit_run_id: str | None = None

    @property
    def exit_code(self) -> int:
        """1 when a person must act (labels needed, retraining failed, the action failed), else 0."""
        return 1 if self.stage in ATTENTION or self.outcome == "failed" else 0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON and the audit, with `exit_code`."""
        return {**asdict(self), "exit_code": self.exit_code}


@dataclass(frozen=True)
class LoopState:
    """Where the loop stands, read from the endpoint, the registry, DVC and the audit."""

    endpoint: str
    variants: list[dict[str, Any]]  # the endpoint's production variants (`EndpointManager.status`)
    shadow: dict[str, Any] | None  # the running shadow experiment, if any (DescribeInferenceExperiment)
    champion: dict[str, Any] | None  # the registry version with the champion alias
    challenger: dict[str, Any] | None  # the registry version with the challenger alias
    versions: list[dict[str, Any]]  # every registry version, newest first
    pinned_md5: str | None  # the data version dvc.lock pins
    last_retrain: dict[str, Any] | None = None  # the audit's newest retrain step for the pinned data version
    execution_status: str | None = None  # its SageMaker execution's status, when it started one
    shadow_version: str | None = None  # the registry version the shadow experiment runs (its model's tag)

    def version(self, number: str | None) -> dict[str, Any] | None:
        """The registry version `number`, or None."""
        return next((v for v in self.versions if v["version"] == number), None)

    def trained_on(self, md5: str | None) -> list[dict[str, Any]]:
        """The versions trained on data version `md5`, newest first."""
        return [v for v in self.versions if md5 and v.get("data_md5") == md5]

    def variant_of(self, version: str) -> dict[str, Any] | None:
        """The endpoint's production variant serving registry version `version` with traffic, if any."""
        return next(
            (v for v in self.variants if v.get("model_version") == version and v.get("current_weight", 0) > 0), None
        )

    def summary(self) -> dict[str, Any]:
        """The state as the audit records it."""
        return {
            "pinned_md5": self.pinned_md5,
            "champion": _brief(self.champion),
            "challenger": _brief(self.challenger),
            "variants": {
                v["variant"]: {"weight": v.get("current_weight"), "model_version": v.get("model_version")}
                for v in self.variants
            },
            "shadow_experiment": _experiment_name(self.shadow),
        }


def _experiment_name(experiment: dict[str, Any] | None) -> str | None:
    if not experiment:
        return None
    return experiment.get("Name")


def _brief(version: dict[str, Any] | None) -> dict[str, Any] | None:
    if version is None:
        return None
    return {
        "version": version["version"],
        "data_md5": version.get("data_md5"),
        "shadow_verdict": (version.get("tags") or {}).get(SHADOW_TAG),
    }


# ---- the decision ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """A stage and why; `version` is the registry version it concerns."""

    stage: str
    decision: str
    version: str | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)


# What `shadow` (the shadow report, read lazily) tells `decide`: ready (True), not ready (False) or not yet (None),
# with the report itself as evidence.
ShadowEvidence = tuple[bool | None, dict[str, Any]]


def decide(
    state: LoopState,
    settings: LoopSettings,
    drift: Callable[[], dict[str, Any] | None],
    shadow: Callable[[], ShadowEvidence],
) -> Decision:
    """The one stage to take from `state`. `shadow` is called only while a shadow experiment runs, `drift` (it reads
    the capture) only when nothing else is pending; otherwise pure: the tests drive it with hand-made states."""
    if state.champion is None:
        raise LoopError(
            f"{settings.model_name} has no champion: the loop compares everything with it",
            hint="promote one first: `mlops registry promote VERSION`",
        )
    champion = state.champion["version"]
    challenger = state.challenger
    if state.shadow is not None:
        shadowed = _shadowed_version(state)
        ready, report = shadow()
        verdict = report.get("verdict")
        evidence = {"shadow_report": report}
        if ready is True:
            return Decision(
                AB_START, f"the shadow report on v{shadowed} is {verdict}: it earns an A/B test", shadowed, evidence
            )
        if ready is False:
            return Decision(
                SHADOW_FAILED,
                f"the shadow report on v{shadowed} is {verdict}: the champion v{champion} keeps serving",
                shadowed,
                evidence,
            )
        return Decision(
            SHADOW_WAIT, f"the shadow report on v{shadowed} is {verdict}: it needs more traffic", shadowed, evidence
        )
    ab = next((v for v in state.variants if v["variant"] == AB_VARIANT and v.get("model_version") != champion), None)
    if ab is not None and ab.get("current_weight", 0) > 0:
        return Decision(
            AB_RUNNING,
            f"v{ab.get('model_version')} serves {ab['current_weight']:g} (weight) as {AB_VARIANT} beside the "
            f"champion v{champion}: the A/B report and the gated promotion decide",
            ab.get("model_version"),
        )
    if (
        challenger is not None
        and challenger["version"] != champion
        and state.pinned_md5
        and challenger.get("data_md5") == state.pinned_md5
        and not (challenger.get("tags") or {}).get(SHADOW_TAG)
        and state.variant_of(challenger["version"]) is None
    ):
        return Decision(
            SHADOW,
            f"challenger v{challenger['version']} was trained on the newest data ({state.pinned_md5}) and has not "
            "been shadowed",
            challenger["version"],
        )
    if (
        state.pinned_md5
        and state.pinned_md5 != state.champion.get("data_md5")
        and not state.trained_on(state.pinned_md5)
    ):
        return _retrain_decision(state, settings)
    drift_report = drift()
    if drift_report is None:
        return Decision(
            IDLE,
            f"no new data (dvc.lock pins {state.pinned_md5}, "
            + (
                "the champion's data"
                if state.pinned_md5 == state.champion.get("data_md5")
                else "already trained: " + ", ".join(f"v{v['version']}" for v in state.trained_on(state.pinned_md5))
            )
            + ") and no capture to test for drift",
        )
    verdict = drift_report.get("verdict")
    if drift_report.get("drifted"):
        return Decision(
            NEEDS_LABELS,
            f"the captured traffic drifted from champion v{champion}'s training data, and there is no new data "
            "version to retrain on",
            champion,
            {"drift": drift_report},
        )
    why = "no drift" if verdict == "no drift" else f"drift test: {verdict}"
    return Decision(
        IDLE, f"{why} against champion v{champion}'s training data, and no new data", champion, {"drift": drift_report}
    )


def _retrain_decision(state: LoopState, settings: LoopSettings) -> Decision:
    md5 = state.pinned_md5
    last = state.last_retrain
    if last is not None and last.get("inputs", {}).get("pinned_md5") == md5:
        if state.execution_status in RUNNING_EXECUTION:
            arn = last.get("result", {}).get("execution_arn")
            return Decision(
                RETRAINING, f"the SageMaker execution {arn} retraining on {md5} is {state.execution_status}"
            )
        failed = last.get("outcome") == "failed" or state.execution_status in ("Failed", "Stopped")
        if failed and not settings.retry:
            return Decision(
                RETRAIN_FAILED,
                f"the last retraining on data version {md5} failed"
                + (f" (execution {state.execution_status})" if state.execution_status else "")
                + ": retrying would fail the same way until something changes",
            )
    return Decision(
        RETRAIN,
        f"dvc.lock pins data version {md5}, which no registered version was trained on (the champion "
        f"v{(state.champion or {}).get('version')} was trained on {(state.champion or {}).get('data_md5')})",
    )


def _shadowed_version(state: LoopState) -> str | None:
    """The registry version the running shadow experiment tests: its model's registry tag, else the challenger's."""
    if state.shadow_version:
        return state.shadow_version
    return state.challenger["version"] if state.challenger else None


# ---- reading the state -----------------------------------------------------------------------------------------


def make_target(settings: LoopSettings) -> Any:
    """The DeployTarget of the settings: the local A/B endpoint, or SageMaker on AWS."""
    from inference.deploy.target import DeployTarget

    return DeployTarget.create(settings.local_url, settings.region, bucket=settings.bucket)


def observe(settings: LoopSettings, target: Any) -> LoopState:
    """Read where the loop stands: the endpoint, its shadow, the registry, dvc.lock and the audit."""
    from ml.dvc_data import pinned_md5
    from ml.settings import project_root
    from model_registry.loop_audit import last_step
    from model_registry.queries import list_versions

    status = target.manager.status(settings.endpoint)  # DeploymentError (with its hint) when it does not exist
    from pipelines.shadow import find_experiment

    shadow = find_experiment(target, settings.endpoint, active_only=True)
    versions = list_versions(settings.model_name)
    by_alias = {alias: v for v in versions for alias in v["aliases"]}
    md5 = pinned_md5(settings.repo or project_root())
    last = last_step(endpoint=settings.endpoint, stage=RETRAIN)
    execution = None
    arn = (last or {}).get("result", {}).get("execution_arn")
    if arn and (last or {}).get("inputs", {}).get("pinned_md5") == md5:
        execution = _execution_status(arn, settings.region)
    return LoopState(
        shadow_version=_shadow_model_version(target, shadow) if shadow else None,
        endpoint=settings.endpoint,
        variants=status["variants"],
        shadow=shadow,
        champion=by_alias.get(CHAMPION),
        challenger=by_alias.get(CHALLENGER),
        versions=versions,
        pinned_md5=md5,
        last_retrain=last,
        execution_status=execution,
    )


def _shadow_model_version(target: Any, experiment: dict[str, Any]) -> str | None:
    """The registry version of the experiment's shadow variant: the `mlops:model-version` tag the deployer puts on
    every SageMaker Model it makes from a registry version (None for a model made otherwise)."""
    from inference.deploy.endpoints import TAG_MODEL_VERSION

    shadows = {
        s["ShadowModelVariantName"] for s in experiment.get("ShadowModeConfig", {}).get("ShadowModelVariants", [])
    }
    sm = target.manager.sm
    for variant in experiment.get("ModelVariants", []):
        if variant.get("VariantName") in shadows and variant.get("ModelName"):
            arn = sm.describe_model(ModelName=variant["ModelName"])["ModelArn"]
            tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=arn).get("Tags", [])}
            return tags.get(TAG_MODEL_VERSION) or None
    return None


def _execution_status(arn: str, region: str) -> str | None:
    from ml.aws import boto3_client

    try:
        described = boto3_client("sagemaker", region=region).describe_pipeline_execution(PipelineExecutionArn=arn)
    except Exception as exc:  # noqa: BLE001 - an unreadable execution is reported, not fatal: the audit still says
        log.warning("cannot read pipeline execution %s: %s", arn, exc)
        return None
    return str(described.get("PipelineExecutionStatus"))


def drift_evidence(settings: LoopSettings, champion: dict[str, Any]) -> dict[str, Any] | None:
    """The drift report of the captured traffic against the champion's training data (None without a capture)."""
    if not settings.capture:
        return None
    from pipelines.monitor import drift_report

    report = drift_report(
        settings.capture,
        against=f"{settings.model_name}/{champion['version']}",
        endpoint=settings.endpoint,
        variant=settings.capture_variant,
        since=settings.since,
        alpha=settings.alpha,
        min_samples=settings.min_samples,
        repo=settings.repo,
    )
    return dict(report.to_dict())


def shadow_evidence(settings: LoopSettings, target: Any) -> ShadowEvidence:
    """The running shadow's report, and whether its verdict is ready (True), not ready (False) or neither (None)."""
    from pipelines.shadow import NOT_READY, READY, shadow_report

    report = shadow_report(target, settings.endpoint, policy=settings.shadow_policy)
    ready = {READY: True, NOT_READY: False}.get(report.verdict)
    return ready, _jsonable(report.to_dict())


# ---- the stages ------------------------------------------------------------------------------------------------


def run_loop(
    settings: LoopSettings, *, dry_run: bool = False, allow: Collection[str] | None = None, record: bool = True
) -> LoopStep:
    """Derive where the loop stands and take one stage (a dry run: say exactly what it would do, change nothing);
    record the step in the loop's audit (`model_registry.loop_audit`), dry runs excepted.

    allow: the stages this call may act on (the webhook allows only `shadow`); another is reported, not taken.
    """
    from ml.actor import resolve_actor

    target = make_target(settings)
    state = observe(settings, target)
    decision = decide(
        state,
        settings,
        lambda: drift_evidence(settings, state.champion or {}),
        lambda: shadow_evidence(settings, target),
    )
    stage = STAGE_ACTIONS[decision.stage]
    action, after = stage.plan(settings, state, decision)
    step = LoopStep(
        stage=decision.stage,
        decision=decision.decision,
        action=action,
        endpoint=settings.endpoint,
        model_name=settings.model_name,
        dry_run=dry_run,
        inputs={**state.summary(), **_jsonable(dict(decision.evidence))},
        next=after,
        actor=resolve_actor(settings.actor),
    )
    if dry_run:
        return step
    if allow is not None and decision.stage not in allow:
        step.outcome = "skipped"
        step.next = f"this call acts only on {', '.join(sorted(allow))}; {after}"
        return step
    try:
        step.result = _jsonable(stage.execute(settings, target, state, decision)) if stage.execute else {}
        step.outcome = step.result.pop("outcome", stage.outcome)
    except MlopsError as exc:
        step.outcome, step.result = "failed", {"error": exc.message, "hint": exc.hint}
        step.next = exc.hint or "fix the cause and run the loop again"
    finally:
        if record:
            from model_registry.loop_audit import record_step

            step.audit_run_id = record_step(step.to_dict())
    return step


Plan = Callable[[LoopSettings, LoopState, Decision], tuple[str, str]]
Execute = Callable[[LoopSettings, Any, LoopState, Decision], dict[str, Any]]


@dataclass(frozen=True)
class Stage:
    """What a stage does: its plan (the action as a command, and what comes next), the work (None: nothing to do),
    and the outcome it records when the work returns without saying otherwise."""

    plan: Plan
    execute: Execute | None = None
    outcome: str = "done"


def _model_ref(settings: LoopSettings, version: str | None) -> str:
    return f"models:/{settings.model_name}/{version}"


def _plan_idle(settings: LoopSettings, state: LoopState, decision: Decision) -> tuple[str, str]:
    return "nothing", "run the loop again later (on a schedule: docs/loop.md)"


def _plan_labels(settings: LoopSettings, state: LoopState, decision: Decision) -> tuple[str, str]:
    return (
        "nothing until labelled data arrives",
        f"review the captured prompts ({settings.capture}), label them by docs/labeling.md, then "
        "`mlops data add FILE --source capture-review`; the next loop run retrains on the new data version",
    )


def _plan_retrain(settings: LoopSettings, state: LoopState, decision: Decision) -> tuple[str, str]:
    params = "".join(f" -p {p}" for p in settings.pipeline_params)
    command = (
        f"mlops pipeline run{params}"
        if settings.retrain == "local"
        else f"mlops pipeline start{params} --tracking-uri {settings.tracking_uri}"
    )
    return command, "the next loop run shadows the challenger it registers"


def _retrain(settings: LoopSettings, target: Any, state: LoopState, decision: Decision) -> dict[str, Any]:
    from pipelines.spec import parse_parameter_overrides

    overrides = parse_parameter_overrides(settings.pipeline_params)
    if settings.retrain == "local":
        from pipelines.local_runner import run_pipeline

        summary = run_pipeline(overrides, echo=log.info)
        registration = summary.get("registration") or {}
        return {
            "pipeline_run": summary["run_id"],
            "status": summary["status"],
            "data_md5": summary["data_md5"],
            "registered_version": registration.get("version"),
            "metrics": summary.get("metrics", {}),
        }
    from ml.settings import project_root
    from pipelines.sagemaker_pipeline import SageMakerSettings, start_pipeline

    sm_settings = SageMakerSettings.create(region=settings.region, pipeline_name=settings.pipeline_name)
    arn, parameters = start_pipeline(
        sm_settings,
        overrides,
        tracking_uri=settings.tracking_uri,
        repo=settings.repo or project_root(),
        data_remote=settings.data_remote,
        display_name=f"loop-{(state.pinned_md5 or 'data')[:12]}",
    )
    return {"execution_arn": arn, "parameters": dict(parameters), "outcome": "waiting"}


def _plan_retraining(settings: LoopSettings, state: LoopState, decision: Decision) -> tuple[str, str]:
    return "nothing while the execution runs", "the next loop run after it registers shadows the challenger"


def _plan_retrain_failed(settings: LoopSettings, state: LoopState, decision: Decision) -> tuple[str, str]:
    error = (state.last_retrain or {}).get("result", {}).get("error")
    return (
        "nothing",
        (f"the failure: {error}; " if error else "")
        + "fix the cause (data, parameters, the pipeline), then `mlops loop run --retry`",
    )


def _plan_shadow(settings: LoopSettings, state: LoopState, decision: Decision) -> tuple[str, str]:
    return (
        f"mlops endpoint shadow start {settings.endpoint} --model {_model_ref(settings, decision.version)} "
        f"--variant {settings.shadow_variant} --percent {settings.shadow_percent:g}",
        "let production traffic flow; the next loop run reads the shadow report",
    )


def _shadow(settings: LoopSettings, target: Any, state: LoopState, decision: Decision) -> dict[str, Any]:
    from pipelines.shadow import start_shadow

    started = start_shadow(
        target,
        settings.endpoint,
        _model_ref(settings, decision.version),
        variant=settings.shadow_variant,
        percent=settings.shadow_percent,
        model_name=settings.model_name,
    )
    return {"version": decision.version, "experiment": started, "outcome": "waiting"}


def _plan_shadow_wait(settings: LoopSettings, state: LoopState, decision: Decision) -> tuple[str, str]:
    return "nothing while the shadow gathers evidence", "run the loop again once more traffic has flowed"


def _plan_ab_start(settings: LoopSettings, state: LoopState, decision: Decision) -> tuple[str, str]:
    return (
        f"mlops endpoint shadow stop {settings.endpoint}; mlops endpoint deploy {settings.endpoint} "
        + " ".join(_ab_options(settings, state, decision.version or "")),
        f"the A/B test runs: `mlops endpoint report {settings.endpoint} --candidate {AB_VARIANT}`, then the gated "
        f"`mlops endpoint promote {settings.endpoint} --variant {AB_VARIANT}` decide; the loop never promotes",
    )


def _ab_start(settings: LoopSettings, target: Any, state: LoopState, decision: Decision) -> dict[str, Any]:
    from pipelines.shadow import stop_shadow

    version = decision.version or ""
    stopped = stop_shadow(target, settings.endpoint, reason=decision.decision)
    _tag_version(settings, version, str(decision.evidence["shadow_report"].get("verdict")))
    deployed = _deploy_ab(settings, target, state, version)
    return {"stopped": stopped, "deployed": deployed}


def _plan_shadow_failed(settings: LoopSettings, state: LoopState, decision: Decision) -> tuple[str, str]:
    return (
        f"mlops endpoint shadow stop {settings.endpoint}; tag v{decision.version} {SHADOW_TAG}",
        "the champion keeps all traffic; the loop waits for new data or drift",
    )


def _shadow_failed(settings: LoopSettings, target: Any, state: LoopState, decision: Decision) -> dict[str, Any]:
    from pipelines.shadow import stop_shadow

    stopped = stop_shadow(target, settings.endpoint, reason=decision.decision)
    _tag_version(settings, decision.version or "", str(decision.evidence["shadow_report"].get("verdict")))
    return {"stopped": stopped}


def _tag_version(settings: LoopSettings, version: str, verdict: str) -> None:
    """Mark the version shadowed, with its verdict: the loop never shadows it again."""
    from model_registry.tracking import client

    client().set_model_version_tag(settings.model_name, version, SHADOW_TAG, verdict)


def _champion_variant(state: LoopState) -> dict[str, Any]:
    """The endpoint's production variant with the largest weight: the one serving the champion."""
    if not state.variants:
        raise LoopError(f"endpoint {state.endpoint} has no production variants")
    return max(state.variants, key=lambda v: v.get("current_weight", 0))


def _ab_options(settings: LoopSettings, state: LoopState, version: str) -> tuple[str, ...]:
    """`mlops endpoint deploy` options of the A/B test: the champion's variant as it serves (its registry version),
    and the challenger beside it at the A/B weight."""
    serving = _champion_variant(state)
    champion_ref = _model_ref(settings, serving.get("model_version") or (state.champion or {}).get("version"))
    name, weight = serving["variant"], settings.ab_weight
    return (
        f"--variant {name}={champion_ref}",
        f"--variant {AB_VARIANT}={_model_ref(settings, version)}",
        f"--weights {name}={100 - weight:g},{AB_VARIANT}={weight:g}",
    )


def _deploy_ab(settings: LoopSettings, target: Any, state: LoopState, version: str) -> dict[str, Any]:
    """Deploy the A/B test: the endpoint's data capture and the champion variant's instance type kept."""
    from inference.deploy.plan import DeploymentPlan
    from pipelines import release

    variants, weights = [], ""
    for option in _ab_options(settings, state, version):
        flag, value = option.split(" ", 1)
        if flag == "--variant":
            variants.append(value)
        else:
            weights = value
    serving = _champion_variant(state)
    # No data capture given: the deployment keeps the endpoint's (DeploymentPlan.keep_capture), so the A/B test's
    # traffic is captured like the champion's was.
    plan = DeploymentPlan.from_options(
        settings.endpoint,
        variant_specs=tuple(variants),
        weights=weights,
        instance_types=(serving["instance_type"],) if serving.get("instance_type") and not target.is_local else (),
        image_uri=settings.image_uri,
        role_arn=settings.role_arn,
        local=target.is_local,
    )
    result: dict[str, Any] = release.deploy(target, plan, model_name=settings.model_name)
    return result


def _plan_ab_running(settings: LoopSettings, state: LoopState, decision: Decision) -> tuple[str, str]:
    return (
        "nothing: promotion is the gate's",
        f"`mlops endpoint report {settings.endpoint} --candidate {AB_VARIANT}`; on its promote verdict "
        f"`mlops endpoint promote {settings.endpoint} --variant {AB_VARIANT}` (gated); on rollback "
        f"`mlops endpoint rollback {settings.endpoint}`",
    )


def _ab_running(settings: LoopSettings, target: Any, state: LoopState, decision: Decision) -> dict[str, Any]:
    """The A/B report's verdict, as evidence in the audit; the loop acts on none of them."""
    from inference.deploy.report import DEFAULT_SAMPLE_SIZE, endpoint_report

    try:
        report = endpoint_report(
            target, settings.endpoint, candidate=AB_VARIANT, sample_size=settings.ab_sample_size or DEFAULT_SAMPLE_SIZE
        )
    except MlopsError as exc:
        return {"verdict": None, "report_error": exc.message, "outcome": "waiting"}
    return {"verdict": report["verdict"], "evidence": report["evidence"], "outcome": "waiting"}


STAGE_ACTIONS: dict[str, Stage] = {
    IDLE: Stage(_plan_idle),
    NEEDS_LABELS: Stage(_plan_labels, outcome="waiting"),
    RETRAIN: Stage(_plan_retrain, _retrain),
    RETRAINING: Stage(_plan_retraining, outcome="waiting"),
    RETRAIN_FAILED: Stage(_plan_retrain_failed, outcome="waiting"),
    SHADOW: Stage(_plan_shadow, _shadow),
    SHADOW_WAIT: Stage(_plan_shadow_wait, outcome="waiting"),
    AB_START: Stage(_plan_ab_start, _ab_start),
    SHADOW_FAILED: Stage(_plan_shadow_failed, _shadow_failed),
    AB_RUNNING: Stage(_plan_ab_running, _ab_running),
}


def _jsonable(value: Any) -> Any:
    """API responses made JSON-safe: datetimes as ISO text, objects as their text, boto3's metadata dropped."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "to_dict"):
        return _jsonable(value.to_dict())
    return str(value)
