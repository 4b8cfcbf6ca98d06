"""`mlops serve`: the SageMaker-contract inference server on onnxruntime."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from mlops_cli.errors import user_errors

F = TypeVar("F", bound=Callable[..., object])

# Every flag defaults to None: unset flags fall through to the environment (INTENT_SERVE_*, see
# inference/config.py), then to the built-in defaults.


def _setting(
    flag: str, env: str, default: str, help_text: str, *, dest: str | None = None, **kwargs: object
) -> Callable[[F], F]:
    """A server flag that defaults to None, so that an unset flag falls through to its environment variable."""
    decls = (flag, dest) if dest else (flag,)
    return click.option(*decls, default=None, help=f"{help_text} [env {env}; default {default}]", **kwargs)


@click.command("serve")
@click.argument("model", required=False)
@_setting("--host", "INTENT_SERVE_HOST", "0.0.0.0", "Interface to bind.")
@_setting("--port", "SAGEMAKER_BIND_TO_PORT", "8080", "Port.", type=click.IntRange(1, 65535))
@_setting("--workers", "INTENT_SERVE_WORKERS", "one per CPU", "Worker processes.", type=click.IntRange(min=1))
@_setting("--threads", "INTENT_SERVE_THREADS", "CPUs/workers", "onnxruntime intra-op threads per worker.",
          type=click.IntRange(min=1))
@_setting("--variant", "INTENT_SERVE_VARIANT", "int8", "int8 or fp32 (ONNX), or torch (PyTorch eager baseline; needs torch).", type=click.Choice(["int8", "fp32", "torch"]))
@_setting("--batch-max-size", "INTENT_SERVE_BATCH_MAX_SIZE", "1: off",
          "Micro-batching: most texts per model call; 8 suits small models whose calls cost little per text.",
          type=click.IntRange(min=1))
@_setting("--batch-wait-ms", "INTENT_SERVE_BATCH_WAIT_MS", "0: only requests already waiting join",
          "Micro-batching: longest wait for a batch to fill.",
          type=click.FloatRange(min=0))
@_setting("--max-inputs", "INTENT_SERVE_MAX_INPUTS", "64", "Most texts per request.", type=click.IntRange(min=1))
@_setting("--max-body-bytes", "INTENT_SERVE_MAX_BODY_BYTES", "1 MiB", "Largest request body.", type=click.IntRange(min=1))
@_setting("--max-text-bytes", "INTENT_SERVE_MAX_TEXT_BYTES", "16 KiB", "Largest single text (UTF-8 bytes).",
          type=click.IntRange(min=1))
@_setting("--max-length", "INTENT_SERVE_MAX_LENGTH", "the model's", "Token truncation length.", type=click.IntRange(min=1))
@_setting("--graceful-timeout", "INTENT_SERVE_GRACEFUL_TIMEOUT_S", "30", "Seconds in-flight requests may run after SIGTERM.",
          dest="graceful_timeout_s", type=click.FloatRange(min=0))
@_setting("--spin", "INTENT_SERVE_SPIN", "auto", "Idle onnxruntime threads spin (auto: only with one worker).",
          type=click.Choice(["auto", "on", "off"]))
@_setting("--log-level", "INTENT_SERVE_LOG_LEVEL", "info", "Log level.",
          type=click.Choice(["debug", "info", "warning", "error"]))
@click.option("--download-dir", type=click.Path(path_type=Path), default=None,
              help="Where a registry model is downloaded (default: a temporary directory removed on exit).")
@user_errors
def serve(model: str | None, download_dir: Path | None, **settings: object) -> None:
    """Serve MODEL (a model directory or models:/NAME@ALIAS, models:/NAME/VERSION) on the SageMaker container contract.

    MODEL defaults to INTENT_SERVE_MODEL_DIR, else /opt/ml/model. Routes: GET /ping, POST /invocations,
    GET /metrics. Stops gracefully on SIGTERM.
    """
    from inference.config import ServerConfig
    from inference.server import serve as run_server

    temporary: Path | None = None
    try:
        model_dir: Path | None = None
        if model and model.startswith("models:/"):
            from model_registry.artifacts import download_model

            if download_dir is None:
                temporary = download_dir = Path(tempfile.mkdtemp(prefix="intent-model-"))
            model_dir = download_model(model, download_dir)
        elif model:
            model_dir = Path(model)
        config = ServerConfig.from_env(model_dir=model_dir, **settings)
        run_server(config)
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)


COMMANDS: list[click.Command] = [serve]
