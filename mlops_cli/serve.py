"""`mlops serve`: the SageMaker-contract inference server on onnxruntime.

Its flags are the container's `serve` flags, derived from the typed server settings (`inference.serving.config`):
every flag defaults to unset, so that an unset flag falls through to its environment variable, then to the default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from inference.serving.config import server_settings
from mlops_cli.errors import user_errors
from mlops_cli.options import model_directory


def setting_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """One option per server setting (and a hidden one per deprecated flag)."""
    for info in reversed(server_settings()):
        if info.setting.positional:
            continue
        if info.setting.deprecated_flag:
            func = click.option(info.setting.deprecated_flag, info.deprecated_dest, default=None, hidden=True)(func)
        if info.setting.choices:
            kind: dict[str, Any] = {"type": click.Choice(info.setting.choices, case_sensitive=False)}
        else:
            kind = {"type": str, "metavar": info.type.__name__.upper()}
        func = click.option(info.flag, info.name, default=None, help=info.help, **kind)(func)
    return func


@click.command("serve")
@click.argument("model", required=False)
@setting_options
@click.option(
    "--download-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where a registry model is downloaded (default: a temporary directory removed on exit).",
)
@user_errors
def serve(model: str | None, download_dir: Path | None, **settings: Any) -> None:
    """Serve MODEL (a model directory or models:/NAME@ALIAS, models:/NAME/VERSION) on the SageMaker container contract.

    MODEL defaults to INTENT_SERVE_MODEL_DIR, else /opt/ml/model. Routes: GET /ping, POST /invocations,
    GET /metrics. Stops gracefully on SIGTERM.

    Data capture (--capture-dir and/or --capture-percent) writes a sampled share of the requests and answers in
    SageMaker's data-capture JSON Lines under DIR/ENDPOINT/AllTraffic/YYYY/MM/DD/HH/ (default DIR: the state
    directory's capture/); it is user data: see docs/operations.md, "Data capture".
    """
    from inference.serving import server
    from inference.serving.config import ServerConfig, flag_overrides

    overrides = flag_overrides(settings)  # every flag is checked before anything is downloaded
    with model_directory(model or None, download_dir) as model_dir:
        config = ServerConfig.from_env(**overrides, model_dir=model_dir)
        if config.capture and config.capture_dir is None:
            from inference.serving.capture import CAPTURE_DIR
            from ml.settings import state_dir

            config = dataclasses.replace(config, capture_dir=state_dir() / CAPTURE_DIR)
        server.serve(config)


COMMANDS: list[click.Command] = [serve]
