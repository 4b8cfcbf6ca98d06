"""`mlops capacity ...`: measure one instance's capacity at a p95 budget, plan a fleet and its cost from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ml.progress import Progress
from ml.settings import P95_BUDGET_MS
from mlops_cli.errors import user_errors
from mlops_cli.options import MODEL_HELP, region_option
from mlops_cli.output import emit, json_option
from mlops_cli.progress import progress_display

# The precisions a capacity profile can be measured for: the served ONNX graphs.
PRECISIONS = ("int8", "fp32")


@click.group()
def capacity() -> None:
    """Capacity: one instance's sustainable rate at the p95 budget (measured), a fleet and its cost (planned)."""


@capacity.command()
@click.option("--model", default=None, help=f"The model to serve: {MODEL_HELP} [default: the registry's challenger].")
@click.option("--precision", type=click.Choice(PRECISIONS), default="int8", show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Server worker processes [server default].")
@click.option(
    "--threads", type=click.IntRange(min=1), default=None, help="Intra-op threads per worker [server default]."
)
@click.option("--p95-ms", type=float, default=P95_BUDGET_MS, show_default=True, help="The p95 latency budget.")
@click.option(
    "--start-rps", type=float, default=None, help="First ramp rate [default: from the single-request latency]."
)
@click.option("--factor", type=float, default=2.0, show_default=True, help="Geometric step of the ramp.")
@click.option("--step-seconds", type=float, default=10.0, show_default=True, help="Measured seconds per ramp step.")
@click.option(
    "--confirm-seconds", type=float, default=30.0, show_default=True, help="Seconds of the steady confirm run."
)
@click.option(
    "--tolerance", type=float, default=0.1, show_default=True, help="Bisect until the rates are this close (fraction)."
)
@click.option(
    "--payloads", type=click.Path(path_type=Path), default=None, help="Prompts file; default: the test split."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory for the profile JSON and plot [default: capacity/ in the state directory, .mlops/capacity].",
)
@click.option(
    "--record/--no-record",
    default=True,
    show_default=True,
    help="Record the profile on the registry version (when --model is one).",
)
@json_option
@user_errors
def measure(
    model: str | None,
    precision: str,
    workers: int | None,
    threads: int | None,
    p95_ms: float,
    start_rps: float | None,
    factor: float,
    step_seconds: float,
    confirm_seconds: float,
    tolerance: float,
    payloads: Path | None,
    out_dir: Path | None,
    record: bool,
    as_json: bool,
) -> None:
    """Find one server's knee (the open-loop rate held within --p95-ms) by a ramp, confirm it with a steady run."""
    from benchmarks.capacity import RampConfig
    from pipelines.capacity import default_model, default_out_dir, measure_capacity

    config = RampConfig(
        p95_budget_ms=p95_ms,
        start_rps=start_rps,
        factor=factor,
        step_s=step_seconds,
        confirm_s=confirm_seconds,
        tolerance=tolerance,
    )
    with progress_display() as show:
        profile = measure_capacity(
            model or default_model(),
            out_dir=out_dir or default_out_dir(),
            precision=precision,
            workers=workers,
            threads=threads,
            config=config,
            payloads=payloads,
            record=record,
            on_progress=show,
        )
    emit(profile, as_json=as_json, text=_measure_text(profile))


def _measure_text(profile: dict[str, Any]) -> str:
    from inference.deploy.capacity import describe

    single = profile["single_request"]
    lines = [
        f"{describe(profile)} (workers x threads) on {profile['machine']['cpu_model']}: the server could use "
        f"{profile['cpus_used']} of {profile['machine']['usable_cpus']} CPUs, the load generator shared the machine",
        f"single requests: p50 {single['p50_ms']} ms, p95 {single['p95_ms']} ms",
        f"{'phase':<8} {'rate/s':>9} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'errors':>6} {'+queue':>9}  held",
    ]
    for step in [*profile["ramp"], *profile["confirm"]]:
        lines.append(
            f"{step['phase']:<8} {step['rate_rps']:>9.2f} {step['p50_ms'] or 0:>9.2f} {step['p95_ms'] or 0:>9.2f} "
            f"{step['p99_ms'] or 0:>9.2f} {step['errors']:>6} {_queue(step):>9}  {'yes' if step['held'] else 'no'}"
        )
    lines.append(
        f"+queue: the p95 a ramp step projects after {profile['method']['confirm_s']:g} s more at its queue's growth"
    )
    lines.append(
        f"capacity: {profile['rate_at_budget_rps']:g} req/s within p95 {profile['p95_budget_ms']:g} ms "
        "(measured, confirmed by a steady open-loop run)"
        + ("" if profile.get("saturated", True) else "; no ramp step failed, so this is only a lower bound")
    )
    lines += [f"  wrote {path}" for path in profile["files"]]
    if profile.get("recorded"):
        recorded = profile["recorded"]
        lines.append(f"  recorded on {recorded['model']} v{recorded['version']} as tag {recorded['tag']}")
    return "\n".join(lines)


def _queue(step: dict[str, Any]) -> str:
    projected, p95 = step.get("projected_p95_ms"), step.get("p95_ms")
    return "-" if projected is None or p95 is None or step["phase"] == "confirm" else f"{projected:.0f}"


@capacity.command()
@click.option("--rps", type=float, required=True, help="Target requests per second for the whole endpoint.")
@click.option("--p95-ms", type=float, default=P95_BUDGET_MS, show_default=True, help="The p95 latency budget.")
@click.option(
    "--profile",
    "profile_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A capacity profile JSON (repeatable) [default: those recorded on --model].",
)
@click.option(
    "--model",
    "models",
    multiple=True,
    help="Plan from the profiles recorded on this registry version (repeatable): VERSION, ALIAS, models:/NAME@ALIAS "
    "or models:/NAME/VERSION [default without --profile: the challenger].",
)
@click.option("--headroom", type=float, default=0.3, show_default=True, help="Fraction of each knee kept free.")
@click.option("--region", default="us-east-1", show_default=True, help="Region of the price table.")
@click.option(
    "--instance-type",
    "instance_types",
    multiple=True,
    help="Candidate instance type (repeatable) [default: all priced].",
)
@click.option(
    "--prices",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A price table JSON [default: inference/deploy/prices/sagemaker_realtime.json].",
)
@click.option("--top", type=int, default=10, show_default=True, help="Options shown in the text output.")
@click.option(
    "--apply",
    "apply_endpoint",
    default=None,
    metavar="ENDPOINT",
    help="Deploy the cheapest option to ENDPOINT with `mlops endpoint deploy` (its instance type, count and "
    "--autoscale); that command's other options (--variant, --role, --image-uri, --bucket, ...) follow `--`.",
)
@click.argument("deploy_args", nargs=-1, type=click.UNPROCESSED, metavar="[-- DEPLOY OPTIONS]")
@json_option
@user_errors
def plan(
    rps: float,
    p95_ms: float,
    profile_files: tuple[Path, ...],
    models: tuple[str, ...],
    headroom: float,
    region: str,
    instance_types: tuple[str, ...],
    prices: Path | None,
    top: int,
    apply_endpoint: str | None,
    deploy_args: tuple[str, ...],
    as_json: bool,
) -> None:
    """Instances, autoscaling target (invocations per instance per minute), min/max and cost per candidate type.

    With --apply, the plan is printed to stderr and the deployment's result (JSON with --json) to stdout.
    """
    from inference.deploy.capacity import deploy_command, deploy_options
    from pipelines.capacity import plan_capacity

    if deploy_args and not apply_endpoint:
        raise click.UsageError(f"options after `--` ({' '.join(deploy_args)}) are for --apply ENDPOINT")
    planned = {"--instance-type", "--instance-count", "--autoscale"}
    clash = sorted({a.split("=", 1)[0] for a in deploy_args} & planned)
    if clash:
        raise click.UsageError(f"the plan sets {', '.join(clash)}: leave them out of the deploy options")

    result = plan_capacity(
        rps=rps,
        budget_ms=p95_ms,
        profile_files=list(profile_files),
        models=list(models),
        headroom=headroom,
        region=region,
        instance_types=list(instance_types),
        prices=prices,
    )
    result["deploy_command"] = deploy_command(result["cheapest"], apply_endpoint or "ENDPOINT")
    if not apply_endpoint:
        emit(result, as_json=as_json, text=_plan_text(result, top))
        return
    from mlops_cli.endpoint import deploy

    click.echo(_plan_text(result, top), err=True)
    args = [apply_endpoint, *deploy_options(result["cheapest"]), *deploy_args, *(["--json"] if as_json else [])]
    deploy.main(args=args, prog_name="mlops endpoint deploy", standalone_mode=False)


def _plan_text(result: dict[str, Any], top: int) -> str:
    lines = [
        f"plan: {result['rps']:g} req/s within p95 {result['p95_budget_ms']:g} ms, headroom {result['headroom']:.0%}, "
        f"{result['region']} (prices {result['prices']['retrieved']}: {result['prices']['source']})",
        f"{'profile':<34} {'instance':<15} {'measured/s':>10} {'scaled/s':>9} {'n':>5} {'target/min':>10} "
        f"{'min:max':>9} {'$/month':>10} {'$/M pred':>9}",
    ]
    for o in result["options"][:top]:
        scaling = o["autoscaling"]
        mark = "" if o["price_confirmed"] else " *"
        lines.append(
            f"{o['profile'][:34]:<34} {o['instance_type']:<15} {o['measured_rps_at_budget']:>10.1f} "
            f"{o['instance_rps_at_budget']:>9.1f} {o['instances']:>5} "
            f"{scaling['target_invocations_per_instance_per_minute']:>10} "
            f"{scaling['min_instances']:>4}:{scaling['max_instances']:<4} {o['monthly_usd']:>10,.0f} "
            f"{o['usd_per_million']:>9.3f}{mark}"
        )
    if len(result["options"]) > top:
        lines.append(f"... {len(result['options']) - top} more (--top N, or --json)")
    lines.append("measured/s: measured on the profile's machine; scaled/s, n, target, cost: scaled and derived from it")
    lines.append("* price not confirmed against AWS's page: check it in the price table")
    lines += [f"assumption: {a}" for a in result["assumptions"]]
    lines.append(f"apply the cheapest: {result['deploy_command']}")
    return "\n".join(lines)


@capacity.command()
@click.option("--model-package-arn", default=None, help="The SageMaker model package version to load-test.")
@click.option(
    "--sagemaker-model",
    default=None,
    help="Or a SageMaker model by name (what `mlops endpoint deploy` created: `mlops endpoint status` names it).",
)
@click.option(
    "--instance-type",
    "instance_types",
    multiple=True,
    default=("ml.c5.xlarge", "ml.c6i.xlarge"),
    show_default=True,
    help="Instance type to test (repeatable, 1-10).",
)
@click.option("--p95-ms", type=float, default=P95_BUDGET_MS, show_default=True, help="The P95 latency threshold.")
@click.option(
    "--role",
    envvar="MLOPS_SAGEMAKER_ROLE_ARN",
    default=None,
    help="Role Inference Recommender acts as [env MLOPS_SAGEMAKER_ROLE_ARN].",
)
@click.option("--job-name", default=None, help="Recommendation job name [default: intent-load-test-<UTC time>].")
@click.option(
    "--payload-url",
    default=None,
    metavar="S3_URI",
    help="A tar.gz of sample requests already in S3 [default: built from --payloads and uploaded to --bucket].",
)
@click.option(
    "--bucket",
    envvar="MLOPS_SAGEMAKER_BUCKET",
    default=None,
    help="Bucket for the sample payload archive [env MLOPS_SAGEMAKER_BUCKET].",
)
@click.option(
    "--payloads", type=click.Path(path_type=Path), default=None, help="Prompts file; default: the test split."
)
@click.option(
    "--users",
    default="1,10,50",
    show_default=True,
    help="Simulated users at the start of each traffic phase (comma-separated).",
)
@click.option("--phase-seconds", type=int, default=120, show_default=True, help="Seconds per traffic phase.")
@region_option()
@click.option("--dry-run", is_flag=True, help="Validate the request against botocore's shape and print it.")
@click.option("--wait", is_flag=True, help="Wait for the job (typically hours) and write its profiles.")
@click.option(
    "--results",
    "results_of",
    default=None,
    metavar="JOB",
    help="Do not submit: write the profiles of the finished job JOB.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory for the profiles [default: capacity/ in the state directory, .mlops/capacity].",
)
@json_option
@user_errors
def recommend(
    model_package_arn: str | None,
    sagemaker_model: str | None,
    instance_types: tuple[str, ...],
    p95_ms: float,
    role: str | None,
    job_name: str | None,
    payload_url: str | None,
    bucket: str | None,
    payloads: Path | None,
    users: str,
    phase_seconds: int,
    region: str,
    dry_run: bool,
    wait: bool,
    results_of: str | None,
    out_dir: Path | None,
    as_json: bool,
) -> None:
    """Load-test real instance types with SageMaker Inference Recommender at a P95 threshold (optional, AWS only).

    Its results are capacity profiles measured on each instance type, which `capacity plan --profile` uses as they
    are, with no per-vCPU scaling.
    """
    from pipelines.capacity import default_out_dir, recommend_capacity, recommendation_results

    out = out_dir or default_out_dir()
    if results_of:
        results = recommendation_results(results_of, region=region, out_dir=out)
        emit(results, as_json=as_json, text=_recommend_text(results))
        return
    test = _load_test(
        job_name,
        role,
        instance_types,
        payload_url,
        bucket,
        model_package_arn,
        sagemaker_model,
        p95_ms,
        users,
        phase_seconds,
    )
    with progress_display() as show:
        result = recommend_capacity(
            test,
            region=region,
            out_dir=out,
            upload_payloads=payload_url is None,
            payloads=payloads,
            dry_run=dry_run,
            wait=wait,
            on_status=lambda status: show(Progress("load test", f"{test.job_name}: {status}")),
        )
    emit(result, as_json=as_json, text=_recommend_text(result))


def _recommend_text(result: dict[str, Any]) -> str:
    import json

    job = result["job"]
    if "request" in result and not result["submitted"]:
        request = json.dumps(result["request"], indent=2)
        return f"dry run: a valid CreateInferenceRecommendationsJob request (not sent)\n{request}"
    lines = []
    if result.get("submitted"):
        if result.get("payload_uploaded"):
            lines.append(f"uploaded sample requests to {result['payload_uploaded']}")
        lines.append(f"submitted load test {job} ({result['job_arn']})")
    if "profiles" not in result:
        lines.append(f"when it has finished (typically hours): mlops capacity recommend --results {job}")
        return "\n".join(lines)
    lines.append(f"{'instance':<16} {'rate/s':>9} {'latency ms':>10} {'$/hour':>8}  (measured on the instance type)")
    for profile in result["profiles"]:
        rec = profile["recommender"]
        lines.append(
            f"{profile['instance_type']:<16} {profile['rate_at_budget_rps']:>9.1f} {rec['model_latency_ms']:>10} "
            f"{rec['cost_per_hour'] or 0:>8.3f}"
        )
    lines += [f"  wrote {path}" for path in result["files"]]
    profiles = " ".join(f"--profile {path}" for path in result["files"])
    lines.append(f"plan from them: mlops capacity plan --rps 10000 {profiles}")
    return "\n".join(lines)


def _load_test(
    job_name: str | None,
    role: str | None,
    instance_types: tuple[str, ...],
    payload_url: str | None,
    bucket: str | None,
    model_package_arn: str | None,
    sagemaker_model: str | None,
    p95_ms: float,
    users: str,
    phase_seconds: int,
) -> Any:
    """The LoadTest the options describe, or a usage error naming the missing or malformed one."""
    from datetime import UTC, datetime

    from inference.deploy.recommender import LoadTest
    from ml.aws import DEFAULT_S3_PREFIX

    name = job_name or f"intent-load-test-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    if not role:
        raise click.UsageError("a load test needs --role (or MLOPS_SAGEMAKER_ROLE_ARN): the role it runs as")
    if not payload_url and not bucket:
        raise click.UsageError("give --payload-url S3_URI, or --bucket to upload sample requests to")
    try:
        phases = tuple(int(u) for u in users.split(","))
    except ValueError:
        raise click.UsageError(f"--users takes comma-separated whole numbers, got {users!r}") from None
    return LoadTest(
        job_name=name,
        role_arn=role,
        instance_types=instance_types,
        payload_url=payload_url or f"s3://{bucket}/{DEFAULT_S3_PREFIX}/recommender/{name}/payloads.tar.gz",
        model_package_arn=model_package_arn,
        sagemaker_model=sagemaker_model,
        p95_ms=p95_ms,
        users=phases,
        phase_seconds=phase_seconds,
    )
