"""What a shadow test costs the caller: InvokeEndpoint latency without a shadow and with one mirroring 100%.

One local endpoint process (`mlops endpoint serve-local`, one inference thread per model) serves two endpoints
with the same production model: `plain`, and `shadowed`, whose production variant is mirrored at 100% to a shadow
variant (the same model again). The same closed-loop load (http.client, `benchmarks.load`) runs against each in
interleaved rounds, so both see the same machine; the figures are medians over rounds, and the ratios are
shadowed over plain. The caller never waits for the shadow, but on a machine with few cores the shadow's inference
competes with production's for the CPU: that is what the ratios show. The shadow's own figures (mirrored, dropped)
come from the endpoint's metrics document.

Run: .venv/bin/python -m benchmarks.shadow_overhead --model-dir DIR [--requests 300] [--rounds 3]
     [--concurrency 1] [--threads 1] [--payloads FILE] [--out FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.load import LoadConfig, run_load
from benchmarks.payloads import load_payloads
from benchmarks.report import emit_json
from benchmarks.servers import free_port
from benchmarks.targets import http_target

PLAIN, SHADOWED = "plain", "shadowed"
ROLE = "arn:aws:iam::000000000000:role/local-endpoint"


@contextlib.contextmanager
def local_endpoint(threads: int, timeout_s: float = 120.0) -> Iterator[str]:
    """`mlops endpoint serve-local` with no endpoint, on a free port; yields its URL."""
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "mlops_cli",
        "endpoint",
        "serve-local",
        "--port",
        str(port),
        "--threads",
        str(threads),
    ]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the local endpoint exited with {proc.returncode}")
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/ping", timeout=2) as resp:  # noqa: S310
                if resp.status == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the local endpoint did not start")
            time.sleep(0.2)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _until(check: Any, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for the local endpoint")
        time.sleep(0.1)


def deploy(url: str, model_dir: Path) -> None:
    """The two endpoints, and the shadow test on `shadowed` (100% of its requests mirrored)."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    sm = boto3.client("sagemaker", endpoint_url=url, region_name="us-east-1", config=Config(signature_version=UNSIGNED))
    sm.create_model(ModelName="prod", PrimaryContainer={"ModelDataUrl": str(model_dir.resolve())})
    sm.create_model(ModelName="candidate", PrimaryContainer={"ModelDataUrl": str(model_dir.resolve())})
    for name in (PLAIN, SHADOWED):
        sm.create_endpoint_config(
            EndpointConfigName=f"{name}-config", ProductionVariants=[{"VariantName": "prod", "ModelName": "prod"}]
        )
        sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")
    _until(
        lambda: all(sm.describe_endpoint(EndpointName=n)["EndpointStatus"] == "InService" for n in (PLAIN, SHADOWED))
    )
    infra = {
        "InfrastructureType": "RealTimeInference",
        "RealTimeInferenceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }
    sm.create_inference_experiment(
        Name="shadow-overhead",
        Type="ShadowMode",
        RoleArn=ROLE,
        EndpointName=SHADOWED,
        ModelVariants=[
            {"ModelName": "prod", "VariantName": "prod", "InfrastructureConfig": infra},
            {"ModelName": "candidate", "VariantName": "Shadow", "InfrastructureConfig": infra},
        ],
        ShadowModeConfig={
            "SourceModelVariantName": "prod",
            "ShadowModelVariants": [{"ShadowModelVariantName": "Shadow", "SamplingPercentage": 100}],
        },
    )
    _until(lambda: sm.describe_inference_experiment(Name="shadow-overhead")["Status"] == "Running")


def shadow_figures(url: str) -> dict[str, Any]:
    """The shadow variant's mirrored traffic so far."""
    with urllib.request.urlopen(f"{url}/endpoints/{SHADOWED}/metrics", timeout=10) as resp:  # noqa: S310 - loopback
        document = json.loads(resp.read())
    variant = document["shadow"]["shadow-overhead"]["variants"]["Shadow"]
    return {
        k: variant[k]
        for k in ("requests", "answered", "errors", "dropped", "in_flight", "agreement", "shadow", "production")
    }


def measure(
    model_dir: Path, requests: int, rounds: int, concurrency: int, threads: int, payloads: Path | None = None
) -> dict[str, Any]:
    """Caller p50/p95/p99 per endpoint as medians over interleaved rounds, and the ratios shadowed/plain."""
    texts = load_payloads(payloads)
    config = LoadConfig(concurrency=concurrency, requests=requests, warmup_requests=0)
    samples: dict[str, list[dict[str, float]]] = {PLAIN: [], SHADOWED: []}
    with local_endpoint(threads) as url:
        deploy(url, model_dir)
        targets = {name: http_target(f"{url}/endpoints/{name}/invocations") for name in (PLAIN, SHADOWED)}
        for target in targets.values():  # opens the connections and warms both models
            run_load(target, texts, LoadConfig(concurrency=concurrency, requests=100, warmup_requests=concurrency))
        for _ in range(rounds):
            for name, target in targets.items():
                summary = run_load(target, texts, config).summary()
                if summary["errors"]:
                    raise RuntimeError(f"{name}: {summary['errors']} errors in a round")
                samples[name].append({k: summary[k] for k in ("p50_ms", "p95_ms", "p99_ms", "throughput_rps")})
                if name == SHADOWED:  # let the shadow drain, so a round never starts on the last one's backlog
                    _until(lambda: shadow_figures(url)["in_flight"] == 0)
        shadow = shadow_figures(url)
    result: dict[str, Any] = {}
    for name, rows in samples.items():
        result[name] = {key: round(statistics.median(row[key] for row in rows), 3) for key in rows[0]}
        result[name]["rounds"] = rows
    result["ratio_shadowed_over_plain"] = {
        key: round(result[SHADOWED][key] / result[PLAIN][key], 3) for key in ("p50_ms", "p95_ms", "p99_ms")
    }
    result["shadow_variant"] = shadow
    return result


def main(argv: list[str] | None = None) -> int:
    """Measure both endpoints and print (and optionally write) the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, required=True, help="a trained tiny model dir with ONNX exports")
    parser.add_argument("--requests", type=int, default=300, help="measured requests per endpoint per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads per model")
    parser.add_argument(
        "--payloads", type=Path, default=None, help="JSONL (text) or text prompts [default: the test split]"
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    emit_json(
        {
            "endpoints": measure(
                args.model_dir, args.requests, args.rounds, args.concurrency, args.threads, args.payloads
            ),
            "requests_per_round": args.requests,
            "rounds": args.rounds,
            "concurrency": args.concurrency,
            "threads": args.threads,
            "cpus": os.cpu_count(),
        },
        args.out,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
