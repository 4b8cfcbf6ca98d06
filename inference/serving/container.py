"""`serve`: the container command SageMaker runs (`docker run IMAGE serve`), and what the serving image offers.

SageMaker sets `SAGEMAKER_BIND_TO_PORT` and mounts the model at /opt/ml/model; every other setting is an
environment variable or a flag (the same flags as `mlops serve`, derived from `inference.serving.config`).
`serve --help` lists them.
"""

from __future__ import annotations

import argparse
import sys

from inference.serving.config import server_settings
from ml.errors import MlopsError


def parser() -> argparse.ArgumentParser:
    """The `serve` command line: the model directory and one flag per server setting, all optional."""
    p = argparse.ArgumentParser(
        prog="serve",
        description="Serve an intent model on the SageMaker container contract (GET /ping, POST /invocations, "
        "GET /metrics) until SIGTERM. Flags override environment variables.",
    )
    for info in server_settings():
        if info.setting.positional:
            p.add_argument(info.name, nargs="?", default=None, metavar="MODEL_DIR", help=info.help)
            continue
        p.add_argument(info.flag, dest=info.name, default=None, metavar=info.type.__name__.upper(), help=info.help)
        if info.setting.deprecated_flag:
            p.add_argument(
                info.setting.deprecated_flag, dest=info.deprecated_dest, default=None, help=argparse.SUPPRESS
            )
    return p


def main(argv: list[str] | None = None) -> int:
    """Start the server; exit 0 after a graceful SIGTERM, 1 on a configuration error, 2 on a usage error."""
    args = vars(parser().parse_args(sys.argv[1:] if argv is None else argv))
    from inference.serving.config import ServerConfig, flag_overrides
    from inference.serving.server import serve

    try:
        serve(ServerConfig.from_env(**flag_overrides(args)))
    except MlopsError as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201 - logging may not be configured yet
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
