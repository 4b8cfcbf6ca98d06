"""`serve`: the container command SageMaker runs (`docker run IMAGE serve`).

Configuration comes from the environment (see inference.config): SageMaker sets `SAGEMAKER_BIND_TO_PORT`
and mounts the model at /opt/ml/model. `serve --help` lists the variables.
"""

from __future__ import annotations

import logging
import sys

from ml.errors import MlopsError

log = logging.getLogger("inference.container")


def main(argv: list[str] | None = None) -> int:
    """Start the server from the environment; exit 0 after a graceful SIGTERM, 1 on a configuration error."""
    args = sys.argv[1:] if argv is None else argv
    if any(a in ("-h", "--help") for a in args):
        from inference import config

        print(config.__doc__)  # noqa: T201 - help text for a human at a terminal
        return 0
    if args:
        message = f"serve takes no arguments (got {' '.join(args)}); configure it with environment variables, see serve --help"
        print(message, file=sys.stderr)  # noqa: T201
        return 2
    from inference.config import ServerConfig
    from inference.server import serve

    try:
        serve(ServerConfig.from_env())
    except MlopsError as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201 - logging may not be configured yet
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
