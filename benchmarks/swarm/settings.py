"""What the runner hands to the Locust processes it starts, and the protocol between workers and master."""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from dataclasses import asdict, dataclass

from ml.errors import MlopsError

# The one environment variable through which the runner configures every Locust process (JSON of SwarmSettings).
SETTINGS_ENV = "MLOPS_SWARM_SETTINGS"
# Custom Locust messages from each worker to the master: a batch of samples, and the worker's own totals at the end.
SAMPLES_MESSAGE = "mlops_samples"
# ... and from the master to every worker: measuring starts now.
MEASURE_MESSAGE = "mlops_measure"
# ... and: stop, send the last samples and DONE.
FINISH_MESSAGE = "mlops_finish"
DONE_MESSAGE = "mlops_done"
# How often a worker sends the samples it has gathered to the master.
FLUSH_EVERY_S = 1.0
# The Locust user class for each kind of target (names in benchmarks/swarm/locustfile.py).
SERVER_USER = "InvocationsUser"
ENDPOINT_USER = "EndpointUser"
SAGEMAKER_USER = "SageMakerUser"
SAGEMAKER_PREFIX = "sagemaker:"
# The locustfile's own command-line option for the per-user rate: Locust sends custom options from the master to
# every worker, so the master's pace is the one every user keeps.
USER_RPS_OPTION = "--mlops-user-rps"
USER_RPS_DEST = "mlops_user_rps"
# /endpoints/NAME/invocations: the SageMaker runtime's REST path, which the local A/B endpoint serves.
_ENDPOINT_PATH = re.compile(r"^/endpoints/[^/]+/invocations$")


@dataclass(frozen=True)
class SwarmSettings:
    """The target and the pace of each simulated user; the master also gets how long to measure and where to write."""

    target: str
    user_rps: float
    payloads: str | None = None
    endpoint_url: str | None = None
    region: str | None = None
    target_variant: str | None = None
    timeout_s: float = 30.0
    duration_s: float | None = None  # master only: measure this long once every user is running, then stop
    out: str | None = None  # master only: the merged samples are written here as JSON

    def to_env(self) -> dict[str, str]:
        """The environment entry that carries these settings to a Locust process."""
        return {SETTINGS_ENV: json.dumps(asdict(self))}

    @classmethod
    def from_env(cls) -> SwarmSettings:
        """The settings the runner gave this Locust process."""
        raw = os.environ.get(SETTINGS_ENV)
        if not raw:
            raise MlopsError(
                f"{SETTINGS_ENV} is not set: this locustfile is run by `mlops bench locust`",
                hint="run `mlops bench locust --target ...` instead of locust directly",
            )
        return cls(**json.loads(raw))


def user_class(target: str) -> str:
    """The Locust user class for a target: a model server URL, a runtime URL with /endpoints/NAME/invocations, or
    sagemaker:ENDPOINT (boto3, signed by botocore)."""
    if target.startswith(SAGEMAKER_PREFIX):
        if not target.removeprefix(SAGEMAKER_PREFIX):
            raise MlopsError(f"no endpoint name in {target!r}", hint="give sagemaker:ENDPOINT_NAME")
        return SAGEMAKER_USER
    parts = urllib.parse.urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MlopsError(
            f"not a target: {target!r}",
            hint="give http://HOST:PORT/invocations, http://HOST:PORT/endpoints/NAME/invocations or sagemaker:NAME",
        )
    return ENDPOINT_USER if _ENDPOINT_PATH.match(parts.path) else SERVER_USER


def split_url(url: str) -> tuple[str, str]:
    """(scheme://host:port, path?query) of an HTTP target: Locust's --host and the path each request posts to."""
    parts = urllib.parse.urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return f"{parts.scheme}://{parts.netloc}", path
