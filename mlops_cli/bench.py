"""`mlops bench ...`: load-test a target and gate on p95 latency."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from benchmarks.targets import BACKENDS
from ml.settings import P95_BUDGET_MS
from mlops_cli.errors import aws_errors, user_errors
from mlops_cli.options import MODEL_HELP, model_directory, region_option
from mlops_cli.output import emit, json_option
from mlops_cli.progress import progress_display


def sagemaker_options(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--endpoint-url, --target-variant and --region for a target that is a SageMaker endpoint (named by `what`)."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        func = region_option(f"of {what}")(func)
        func = click.option("--target-variant", default=None, help=f"Pin a production variant of {what}.")(func)
        return click.option(
            "--endpoint-url",
            envvar="MLOPS_LOCAL_ENDPOINT",
            default=None,
            help=f"Runtime URL for {what}, e.g. the local A/B endpoint [env MLOPS_LOCAL_ENDPOINT].",
        )(func)

    return decorate


@click.group()
def bench() -> None:
    """Benchmark inference: an in-process model, an HTTP URL, or a SageMaker endpoint."""


@bench.command()
@click.option(
    "--url", default=None, help="HTTP target speaking the container contract, e.g. http://127.0.0.1:8080/invocations."
)
@click.option("--model-dir", default=None, help=f"In-process target: {MODEL_HELP}.")
@click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    default=BACKENDS[0],
    show_default=True,
    help="Backend of the in-process target.",
)
@click.option("--threads", type=int, default=None, help="Intra-op threads of the in-process target.")
@click.option("--endpoint", default=None, help="SageMaker endpoint name (boto3 sagemaker-runtime).")
@sagemaker_options("--endpoint")
@click.option(
    "--mode",
    type=click.Choice(["closed", "open"]),
    default="closed",
    show_default=True,
    help="closed: N clients back to back; open: fixed arrival rate (--rate).",
)
@click.option(
    "--concurrency", type=int, default=1, show_default=True, help="Clients (closed) or max in-flight requests (open)."
)
@click.option("--rate", "rate_rps", type=float, default=None, help="Open loop: requests per second.")
@click.option("--requests", type=int, default=None, help="Requests to measure (default 200 unless --duration).")
@click.option("--duration", "duration_s", type=float, default=None, help="Seconds to measure instead of a count.")
@click.option(
    "--warmup", "warmup_requests", type=int, default=10, show_default=True, help="Unmeasured warm-up requests."
)
@click.option(
    "--payloads",
    type=click.Path(path_type=Path),
    default=None,
    help="Prompts file (JSONL with text, or lines); default: the test split.",
)
@click.option(
    "--p95-budget-ms", type=float, default=P95_BUDGET_MS, show_default=True, help="Gate: fail when p95 exceeds this."
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also write the JSON result here."
)
@json_option
@user_errors
@aws_errors
def run(
    url: str | None,
    model_dir: str | None,
    backend: str,
    threads: int | None,
    endpoint: str | None,
    endpoint_url: str | None,
    target_variant: str | None,
    region: str,
    payloads: Path | None,
    p95_budget_ms: float,
    out: Path | None,
    as_json: bool,
    **load: Any,
) -> None:
    """Measure p50/p95/p99/max latency, throughput and errors, then apply the p95 gate (non-zero exit on failure)."""
    from benchmarks.load import LoadConfig, run_load
    from benchmarks.payloads import load_payloads
    from benchmarks.targets import choose_target

    if load["requests"] is None and load["duration_s"] is None:
        load["requests"] = 200
    config = LoadConfig(**load)
    with model_directory(model_dir) as local_dir:
        target, name = choose_target(
            url,
            local_dir,
            endpoint,
            backend=backend,
            endpoint_url=endpoint_url,
            target_variant=target_variant,
            threads=threads,
            region=region,
        )
        with progress_display() as show:
            summary = run_load(target, load_payloads(payloads), config, on_progress=show, task=name).summary()
    _gate_and_emit(name, summary, p95_budget_ms, out=out, as_json=as_json)


def _gate_and_emit(
    name: str, summary: dict[str, Any], budget_ms: float, *, out: Path | None, as_json: bool, note: str = ""
) -> None:
    """Apply the p95 gate to a load summary, print the result (and write it to `out`), exit 1 when it fails."""
    from benchmarks.gate import latency_gate
    from benchmarks.report import format_summary

    verdict = latency_gate(summary, budget_ms)
    result = {"target": name, "summary": summary, "gate": verdict.to_dict()}
    if out:
        out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    status = "PASSED" if verdict.passed else "FAILED: " + "; ".join(verdict.reasons)
    emit(
        result,
        as_json=as_json,
        text=format_summary(summary, name=name) + note + f"\ngate (p95 <= {budget_ms:g} ms): {status}",
    )
    if not verdict.passed:
        raise SystemExit(1)


@bench.command()
@click.option(
    "--target",
    required=True,
    help="http://HOST:PORT/invocations (model server), http://HOST:PORT/endpoints/NAME/invocations (local A/B "
    "endpoint, per-variant statistics) or sagemaker:ENDPOINT (boto3 InvokeEndpoint, signed by botocore).",
)
@click.option("--rate", "rate_rps", type=float, required=True, help="Target arrival rate, requests per second in all.")
@click.option("--duration", "duration_s", type=float, default=30.0, show_default=True, help="Seconds to measure.")
@click.option(
    "--workers", type=int, default=2, show_default=True, help="Locust worker processes to start on this machine."
)
@click.option(
    "--expect-workers",
    type=int,
    default=None,
    help="Workers the master waits for in all, those started elsewhere with --worker-only too (default: --workers).",
)
@click.option(
    "--user-rate",
    "user_rps",
    type=float,
    default=1.0,
    show_default=True,
    help="Requests per second of each simulated user: users = rate / user-rate, the most requests in flight.",
)
@click.option("--master-host", default=None, help="With --worker-only: the machine running the master.")
@click.option("--master-port", type=int, default=None, help="The master's port (Locust's default 5557 unless given).")
@click.option("--worker-only", is_flag=True, help="Start only workers, for a master on --master-host.")
@sagemaker_options("sagemaker:ENDPOINT")
@click.option(
    "--payloads",
    type=click.Path(path_type=Path),
    default=None,
    help="Prompts file (JSONL with text, or lines); default: the test split.",
)
@click.option(
    "--gate-p95-ms",
    "--p95-budget-ms",
    "p95_budget_ms",
    type=float,
    default=P95_BUDGET_MS,
    show_default=True,
    help="Gate: fail when p95 exceeds this.",
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also write the JSON result here."
)
@json_option
@user_errors
def locust(
    target: str,
    rate_rps: float,
    duration_s: float,
    workers: int,
    expect_workers: int | None,
    user_rps: float,
    master_host: str | None,
    master_port: int | None,
    worker_only: bool,
    endpoint_url: str | None,
    target_variant: str | None,
    region: str,
    payloads: Path | None,
    p95_budget_ms: float,
    out: Path | None,
    as_json: bool,
) -> None:
    """Distributed load with Locust: a master and N worker processes (here, or on many machines with --worker-only
    --master-host) at a fixed arrival rate; the same report, per-variant statistics and p95 gate as `bench run`.

    Needs the locust extra (pip install 'intent-mlops[locust]').
    """
    from benchmarks.swarm.runner import DEFAULT_MASTER_PORT, SwarmConfig, run_swarm, run_workers

    config = SwarmConfig(
        rate_rps=rate_rps,
        duration_s=duration_s,
        workers=workers,
        expect_workers=expect_workers,
        user_rps=user_rps,
        master_host=master_host,
        master_port=master_port or DEFAULT_MASTER_PORT,
        worker_only=worker_only,
    )
    if worker_only:
        run_workers(
            target, config, payloads=payloads, endpoint_url=endpoint_url, region=region, target_variant=target_variant
        )
        click.echo(f"{workers} workers done (the master on {master_host} reports the run)", err=True)
        return
    with progress_display() as show:
        result = run_swarm(
            target,
            config,
            payloads=payloads,
            endpoint_url=endpoint_url,
            region=region,
            target_variant=target_variant,
            on_progress=show,
        )
    summary = result.summary()
    note = "\n" + ", ".join(
        f"{w} {f['requests']} requests ({f['rate_rps']:g}/s)" for w, f in summary["workers"].items()
    )
    _gate_and_emit(target, summary, p95_budget_ms, out=out, as_json=as_json, note=note)


@bench.command()
@click.option("--model-dir", default=None, help=f"Compare in-process backends of this model: {MODEL_HELP}.")
@click.option(
    "--backends",
    default="torch,onnx-fp32,onnx-int8",
    show_default=True,
    help=f"In-process backends to compare (with --model-dir), from {', '.join(BACKENDS)}.",
)
@click.option("--threads", type=int, default=None, help="Intra-op threads of in-process targets.")
@click.option("--url", "urls", multiple=True, metavar="NAME=URL", help="An HTTP target to compare (repeatable).")
@click.option("--baseline", default=None, help="Target the ratios are relative to (default: the first).")
@click.option("--rounds", type=int, default=3, show_default=True, help="Interleaved rounds per target.")
@click.option("--concurrency", type=int, default=1, show_default=True)
@click.option("--requests", type=int, default=100, show_default=True, help="Requests per target per round.")
@click.option("--warmup", "warmup_requests", type=int, default=10, show_default=True)
@click.option(
    "--payloads", type=click.Path(path_type=Path), default=None, help="Prompts file; default: the test split."
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also write the JSON result here."
)
@json_option
@user_errors
def compare(
    model_dir: str | None,
    backends: str,
    threads: int | None,
    urls: tuple[str, ...],
    baseline: str | None,
    rounds: int,
    concurrency: int,
    requests: int,
    warmup_requests: int,
    payloads: Path | None,
    out: Path | None,
    as_json: bool,
) -> None:
    """Measure several backends or endpoints side by side (interleaved rounds) and report ratios to a baseline."""
    from benchmarks import compare as comparison
    from benchmarks.load import LoadConfig
    from benchmarks.payloads import load_payloads
    from benchmarks.report import format_comparison
    from benchmarks.targets import comparison_targets

    config = LoadConfig(concurrency=concurrency, requests=requests, warmup_requests=warmup_requests)
    with model_directory(model_dir) as local_dir:
        targets = comparison_targets(
            local_dir, [b.strip() for b in backends.split(",") if b.strip()], urls, threads=threads
        )
        with progress_display() as show:
            result = comparison.compare(
                targets, load_payloads(payloads), config, rounds=rounds, baseline=baseline, on_progress=show
            )
    if out:
        out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    emit(result, as_json=as_json, text=format_comparison(result))
