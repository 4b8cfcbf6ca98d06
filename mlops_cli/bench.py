"""`mlops bench ...`: load-test a target and gate on p95 latency."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from mlops_cli.errors import aws_errors, user_errors
from mlops_cli.output import emit, json_option


@click.group()
def bench() -> None:
    """Benchmark inference: an in-process model, an HTTP URL, or a SageMaker endpoint."""


def build_target(url: str | None, model_dir: Path | None, endpoint: str | None, *, backend: str,
                 endpoint_url: str | None, target_variant: str | None, threads: int | None,
                 region: str | None = None) -> tuple[Any, str]:
    """The callable target and a display name, from exactly one of --url / --model-dir / --endpoint."""
    from ml.errors import MlopsError

    chosen = [name for name, value in (("--url", url), ("--model-dir", model_dir), ("--endpoint", endpoint)) if value]
    if len(chosen) != 1:
        raise MlopsError("give exactly one target: --url, --model-dir or --endpoint", hint=f"got {chosen or 'none'}")
    if url:
        from benchmarks.targets import http_target

        return http_target(url), url
    if endpoint:
        from benchmarks.targets import sagemaker_target

        return sagemaker_target(endpoint, endpoint_url=endpoint_url, target_variant=target_variant, region=region), endpoint
    from inference.predictor import OnnxPredictor, TorchPredictor

    predictor = (
        TorchPredictor(model_dir, intra_op_threads=threads)
        if backend == "torch"
        else OnnxPredictor(model_dir, variant=backend.removeprefix("onnx-"), intra_op_threads=threads)
    )

    def call(text: str) -> None:
        predictor.predict([text])

    return call, f"{model_dir} ({backend})"


@bench.command()
@click.option("--url", default=None, help="HTTP target speaking the container contract, e.g. http://127.0.0.1:8080/invocations.")
@click.option("--model-dir", type=click.Path(path_type=Path), default=None, help="In-process target: a model directory.")
@click.option("--backend", type=click.Choice(["onnx-int8", "onnx-fp32", "torch"]), default="onnx-int8", show_default=True,
              help="Backend of the in-process target.")
@click.option("--threads", type=int, default=None, help="Intra-op threads of the in-process target.")
@click.option("--endpoint", default=None, help="SageMaker endpoint name (boto3 sagemaker-runtime).")
@click.option("--endpoint-url", envvar="MLOPS_LOCAL_ENDPOINT", default=None,
              help="Runtime URL for --endpoint, e.g. the local A/B endpoint [env MLOPS_LOCAL_ENDPOINT].")
@click.option("--target-variant", default=None, help="Pin a production variant of --endpoint.")
@click.option("--region", envvar=["AWS_REGION", "AWS_DEFAULT_REGION"], default="us-east-1", show_default=True,
              help="AWS region of --endpoint [env AWS_REGION / AWS_DEFAULT_REGION].")
@click.option("--mode", type=click.Choice(["closed", "open"]), default="closed", show_default=True,
              help="closed: N clients back to back; open: fixed arrival rate (--rate).")
@click.option("--concurrency", type=int, default=1, show_default=True, help="Clients (closed) or max in-flight requests (open).")
@click.option("--rate", "rate_rps", type=float, default=None, help="Open loop: requests per second.")
@click.option("--requests", type=int, default=None, help="Requests to measure (default 200 unless --duration).")
@click.option("--duration", "duration_s", type=float, default=None, help="Seconds to measure instead of a count.")
@click.option("--warmup", "warmup_requests", type=int, default=10, show_default=True, help="Unmeasured warm-up requests.")
@click.option("--payloads", type=click.Path(path_type=Path), default=None, help="Prompts file (JSONL with text, or lines); default: the test split.")
@click.option("--p95-budget-ms", type=float, default=500.0, show_default=True, help="Gate: fail when p95 exceeds this.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also write the JSON result here.")
@json_option
@user_errors
@aws_errors
def run(url: str | None, model_dir: Path | None, backend: str, threads: int | None, endpoint: str | None,
        endpoint_url: str | None, target_variant: str | None, region: str, payloads: Path | None, p95_budget_ms: float,
        out: Path | None, as_json: bool, **load: Any) -> None:
    """Measure p50/p95/p99/max latency, throughput and errors, then apply the p95 gate (non-zero exit on failure)."""
    from benchmarks.gate import latency_gate
    from benchmarks.load import LoadConfig, run_load
    from benchmarks.payloads import load_payloads
    from benchmarks.report import format_summary

    if load["requests"] is None and load["duration_s"] is None:
        load["requests"] = 200
    config = LoadConfig(**load)
    target, name = build_target(url, model_dir, endpoint, backend=backend, endpoint_url=endpoint_url,
                                target_variant=target_variant, threads=threads, region=region)
    summary = run_load(target, load_payloads(payloads), config).summary()
    verdict = latency_gate(summary, p95_budget_ms)
    result = {"target": name, "summary": summary, "gate": verdict.to_dict()}
    if out:
        out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    status = "PASSED" if verdict.passed else "FAILED: " + "; ".join(verdict.reasons)
    emit(result, as_json=as_json, text=format_summary(summary, name=name) + f"\ngate (p95 <= {p95_budget_ms:g} ms): {status}")
    if not verdict.passed:
        raise SystemExit(1)


@bench.command()
@click.option("--model-dir", type=click.Path(path_type=Path), default=None, help="Compare in-process backends of this model.")
@click.option("--backends", default="torch,onnx-fp32,onnx-int8", show_default=True, help="In-process backends to compare (with --model-dir).")
@click.option("--threads", type=int, default=None, help="Intra-op threads of in-process targets.")
@click.option("--url", "urls", multiple=True, metavar="NAME=URL", help="An HTTP target to compare (repeatable).")
@click.option("--baseline", default=None, help="Target the ratios are relative to (default: the first).")
@click.option("--rounds", type=int, default=3, show_default=True, help="Interleaved rounds per target.")
@click.option("--concurrency", type=int, default=1, show_default=True)
@click.option("--requests", type=int, default=100, show_default=True, help="Requests per target per round.")
@click.option("--warmup", "warmup_requests", type=int, default=10, show_default=True)
@click.option("--payloads", type=click.Path(path_type=Path), default=None, help="Prompts file; default: the test split.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also write the JSON result here.")
@json_option
@user_errors
def compare(model_dir: Path | None, backends: str, threads: int | None, urls: tuple[str, ...], baseline: str | None,
            rounds: int, concurrency: int, requests: int, warmup_requests: int, payloads: Path | None,
            out: Path | None, as_json: bool) -> None:
    """Measure several backends or endpoints side by side (interleaved rounds) and report ratios to a baseline."""
    from benchmarks.compare import compare as run_compare
    from benchmarks.load import LoadConfig
    from benchmarks.payloads import load_payloads
    from benchmarks.report import format_table
    from benchmarks.targets import http_target
    from ml.errors import MlopsError

    targets: dict[str, Any] = {}
    if model_dir:
        for backend in [b.strip() for b in backends.split(",") if b.strip()]:
            if backend not in ("torch", "onnx-fp32", "onnx-int8"):
                raise MlopsError(f"unknown backend {backend!r}", hint="use torch, onnx-fp32, onnx-int8")
            targets[backend], _ = build_target(None, model_dir, None, backend=backend, endpoint_url=None,
                                               target_variant=None, threads=threads)
    for item in urls:
        name, sep, url = item.partition("=")
        if not sep or not name or not url:
            raise MlopsError(f"expected NAME=URL, got {item!r}")
        targets[name] = http_target(url)
    config = LoadConfig(concurrency=concurrency, requests=requests, warmup_requests=warmup_requests)
    result = run_compare(targets, load_payloads(payloads), config, rounds=rounds, baseline=baseline)
    if out:
        out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    rows = result["targets"]
    lines = [format_table(rows), "", f"ratios vs {result['baseline']} (p50, p95, throughput):"]
    for name, summary in rows.items():
        r = summary["ratios_vs_baseline"]
        lines.append(f"  {name:<20} {r['p50_ms']}x  {r['p95_ms']}x  {r['throughput_rps']}x")
    emit(result, as_json=as_json, text="\n".join(lines))
