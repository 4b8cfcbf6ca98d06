"""Entry point of the `mlops` console script. Heavy libraries are imported inside commands, never here."""

from __future__ import annotations

import logging
import os

import click

from mlops_cli import (
    aws,
    bench,
    capacity,
    data,
    endpoint,
    export,
    loop,
    model,
    monitor,
    pipeline,
    registry,
    serve,
    state,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.version_option(package_name="intent-mlops")
def cli(verbose: int) -> None:
    """MLOps toolkit for the DeBERTa-v3 intent classifier: data, training, pipelines, registry, serving, benchmarks."""
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(level, logging.DEBUG), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Everything runs offline by default: no hub downloads, no telemetry.
    for name, value in (
        ("HF_HUB_OFFLINE", "1"),
        ("MLFLOW_DISABLE_TELEMETRY", "true"),
        ("DO_NOT_TRACK", "true"),
        ("DVC_NO_ANALYTICS", "1"),
        ("TOKENIZERS_PARALLELISM", "false"),
        ("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false"),  # one-file downloads: a bar is only noise
    ):
        os.environ.setdefault(name, value)


cli.add_command(data.data)
cli.add_command(model.train)
cli.add_command(model.evaluate)
cli.add_command(pipeline.pipeline)
cli.add_command(registry.registry)
cli.add_command(bench.bench)
cli.add_command(capacity.capacity)
cli.add_command(endpoint.endpoint)
cli.add_command(aws.aws)
cli.add_command(state.state)
cli.add_command(loop.loop)
cli.add_command(monitor.monitor)
for _command in (*export.COMMANDS, *serve.COMMANDS):
    cli.add_command(_command)
