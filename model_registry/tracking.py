"""Where the MLflow registry lives: `MLFLOW_TRACKING_URI`, else a SQLite store in the local state directory."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from ml.errors import MlopsError
from ml.settings import REGISTERED_MODEL_NAME, state_dir

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)

EXPERIMENT_NAME = REGISTERED_MODEL_NAME  # one experiment holds the runs of the registered model


class RegistryError(MlopsError):
    """The registry is unreachable or refused an operation."""


def tracking_uri(explicit: str | None = None) -> str:
    """The tracking URI in force: explicit, `MLFLOW_TRACKING_URI`, or `sqlite:///<state>/mlflow.db`."""
    from ml.state import MLFLOW_DB

    return explicit or os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{state_dir() / MLFLOW_DB}"


# Tracking URIs a SageMaker job can reach: an MLflow server, or a SageMaker managed MLflow tracking server (by ARN,
# through the sagemaker-mlflow plugin). Anything else (sqlite:, file:, a bare path) lives on the job's own disk,
# which is deleted with the job.
REMOTE_SCHEMES = ("http://", "https://", "arn:aws:sagemaker:", "arn:aws-cn:sagemaker:", "arn:aws-us-gov:sagemaker:")


def require_remote(uri: str | None, *, purpose: str) -> str:
    """`uri` if it names a registry that outlives a SageMaker job (see REMOTE_SCHEMES), else RegistryError."""
    if uri and uri.strip().startswith(REMOTE_SCHEMES):
        return uri.strip()
    shown = repr(uri) if uri else "no tracking URI"
    raise RegistryError(
        f"{purpose} needs an MLflow registry that outlives the SageMaker job, but got {shown}: a local store "
        "would be written inside the job's container and deleted with it",
        hint="give an MLflow server URL (http(s)://...) or a SageMaker managed MLflow ARN "
        "(arn:aws:sagemaker:<region>:<account>:mlflow-tracking-server/<name>), e.g. with MLFLOW_TRACKING_URI",
    )


def configure(explicit_uri: str | None = None) -> str:
    """Point mlflow at the tracking URI, with quiet, fail-fast defaults; return the URI."""
    # A dead tracking server should fail in seconds, not after minutes of exponential backoff.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    import mlflow

    uri = tracking_uri(explicit_uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def client(explicit_uri: str | None = None) -> MlflowClient:
    """An MlflowClient on the configured tracking URI."""
    from mlflow.tracking import MlflowClient

    uri = configure(explicit_uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def experiment_id(mlflow_client: MlflowClient, name: str = EXPERIMENT_NAME) -> str:
    """Get or create the experiment; with the local SQLite store its artifacts go under the state directory."""
    experiment = mlflow_client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    import mlflow

    location = None
    if mlflow.get_tracking_uri().startswith("sqlite:"):
        location = (state_dir() / "mlartifacts").as_uri()
    return mlflow_client.create_experiment(name, artifact_location=location)


def find_registered_model(mlflow_client: MlflowClient, name: str) -> Any | None:
    """The registered model `name`, or None when it does not exist; an unreachable registry raises RegistryError."""
    from mlflow.exceptions import MlflowException

    try:
        return mlflow_client.get_registered_model(name)
    except MlflowException as exc:
        if getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
            return None
        # An unreachable server must not read as "no model": callers would report the wrong problem.
        raise RegistryError(
            f"could not read {name!r} from the registry: {type(exc).__name__}: {first_line(exc)}",
            hint="check that the tracking server is up and reachable (MLFLOW_TRACKING_URI); nothing was changed",
        ) from exc


def require_registered_model(mlflow_client: MlflowClient, name: str) -> Any:
    """The registered model `name`; RegistryError saying how to get one when it does not exist."""
    model = find_registered_model(mlflow_client, name)
    if model is None:
        raise RegistryError(
            f"no registered model {name!r} in the registry",
            hint="run the pipeline (`mlops pipeline run`) to register one, or check MLFLOW_TRACKING_URI",
        )
    return model


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (MLflow's can run to pages)."""
    return str(exc).splitlines()[0] if str(exc) else ""
