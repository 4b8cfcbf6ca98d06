"""`mlops endpoint serve-local`: the local A/B endpoint, an embedded stand-in for a SageMaker endpoint with variants."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import click

from mlops_cli.errors import user_errors

REGISTRY_PREFIX = "models:/"


@click.command("serve-local")
@click.argument("endpoint_name", metavar="[ENDPOINT]", required=False)
@click.option("--variant", "variant_specs", multiple=True, metavar="NAME=MODEL",
              help="A production variant of ENDPOINT (repeatable). MODEL: a model directory, a model.tar.gz, "
                   "models:/NAME@ALIAS or models:/NAME/VERSION.")
@click.option("--weights", metavar="NAME=W,...", default=None,
              help="Variant weights, e.g. champion=90,challenger=10 (default: equal).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to bind; it checks no signatures, so keep it on loopback.")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True, envvar="MLOPS_LOCAL_ENDPOINT_PORT",
              show_envvar=True, help="Port.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="onnxruntime intra-op threads per variant [default: CPUs / variants].")
@click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where registry models are downloaded and archives extracted (default: a temporary directory "
                   "removed on exit).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info", show_default=True,
              help="Log level (JSON lines on stdout).")
@user_errors
def serve_local(endpoint_name: str | None, variant_specs: tuple[str, ...], weights: str | None, host: str, port: int,
                threads: int | None, work_dir: Path | None, log_level: str) -> None:
    """Serve a local A/B endpoint that boto3 talks to as if it were SageMaker.

    With ENDPOINT and --variant, that endpoint is created at startup (models ENDPOINT-NAME, config
    ENDPOINT-config-1) and is in service once the server listens; without, it starts empty and endpoints are
    created through the SageMaker API, e.g. by `mlops endpoint deploy --local-endpoint URL`.

    \b
    Routes:
      POST /                               SageMaker API (AWS JSON 1.1, X-Amz-Target: SageMaker.<Operation>):
                                           Create/Describe/Delete/List Model(s), EndpointConfig, Endpoint(s),
                                           UpdateEndpoint, UpdateEndpointWeightsAndCapacities, ListTags, AddTags
      POST /endpoints/NAME/invocations     SageMaker Runtime InvokeEndpoint (TargetVariant pins a variant)
      GET  /endpoints/NAME/metrics?since=  per-variant invocations, errors, latency percentiles, intents
      GET  /ping                           200 while the process is up

    \b
    Example:
      mlops endpoint serve-local intents --variant champion=models:/intent-classifier@champion \\
          --variant challenger=models:/intent-classifier@challenger --weights champion=90,challenger=10
      # boto3.client("sagemaker-runtime", endpoint_url="http://127.0.0.1:8080").invoke_endpoint(
      #     EndpointName="intents", Body=b'{"inputs": "hello"}', ContentType="application/json")
    """
    from inference.local_endpoint import check_variants
    from inference.local_endpoint import serve_local as run_local_endpoint
    from inference.local_sagemaker import check_model_source
    from inference.variants import parse_variant_spec, parse_weights

    variants = [parse_variant_spec(spec) for spec in variant_specs]
    # Every name and weight is checked before anything is downloaded or loaded.
    parsed_weights = parse_weights(weights) if weights is not None else None
    check_variants(endpoint_name, [name for name, _ in variants], parsed_weights)
    for _, model in variants:
        if not model.startswith(REGISTRY_PREFIX):
            check_model_source(Path(model).resolve())

    temporary: Path | None = None
    try:
        if work_dir is None:
            temporary = work_dir = Path(tempfile.mkdtemp(prefix="intent-local-endpoint-"))
        resolved: list[tuple[str, Path]] = []
        for name, model in variants:
            if model.startswith(REGISTRY_PREFIX):
                from model_registry.artifacts import download_model

                resolved.append((name, download_model(model, work_dir / "registry" / name)))
            else:
                resolved.append((name, Path(model).resolve()))
        run_local_endpoint(host, port, endpoint=endpoint_name, variants=resolved, weights=parsed_weights, threads=threads,
                           work_dir=work_dir, log_level=log_level)
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
