"""Typed server configuration: defaults, then environment variables, then explicit overrides (CLI flags).

Environment variables (all optional):

| variable                          | meaning                                                   | default          |
|-----------------------------------|-----------------------------------------------------------|------------------|
| `SAGEMAKER_BIND_TO_PORT`          | port to listen on (set by SageMaker)                      | 8080             |
| `INTENT_SERVE_MODEL_DIR`          | model directory                                           | /opt/ml/model    |
| `INTENT_SERVE_HOST`               | interface to bind                                         | 0.0.0.0          |
| `INTENT_SERVE_WORKERS`            | worker processes (else `SAGEMAKER_MODEL_SERVER_WORKERS`)  | CPUs             |
| `INTENT_SERVE_THREADS`            | onnxruntime intra-op threads per worker                   | CPUs / workers   |
| `INTENT_SERVE_VARIANT`            | int8 or fp32 (ONNX), torch (PyTorch eager baseline)       | int8             |
| `INTENT_SERVE_BATCH_MAX_SIZE`     | micro-batching: most texts per model call; 1 turns it off | 1 (off)          |
| `INTENT_SERVE_BATCH_WAIT_MS`      | micro-batching: longest wait for a batch to fill          | 0                |
| `INTENT_SERVE_MAX_INPUTS`         | most texts per request (413 beyond)                       | 64               |
| `INTENT_SERVE_MAX_BODY_BYTES`     | largest request body (413 beyond)                         | 1048576          |
| `INTENT_SERVE_MAX_TEXT_BYTES`     | largest single text, UTF-8 bytes (413 beyond)             | 16384            |
| `INTENT_SERVE_MAX_LENGTH`         | token truncation length (default: the model's)            | model's          |
| `INTENT_SERVE_GRACEFUL_TIMEOUT_S` | how long in-flight requests may run after SIGTERM         | 30               |
| `INTENT_SERVE_KEEP_ALIVE_S`       | HTTP keep-alive                                           | 75               |
| `INTENT_SERVE_LOG_LEVEL`          | debug, info, warning, error                               | info             |
| `INTENT_SERVE_SPIN`               | onnxruntime threads spin while idle: auto (one worker), on, off | auto       |
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ml.errors import MlopsError

DEFAULT_MODEL_DIR = Path("/opt/ml/model")
DEFAULT_PORT = 8080
PORT_ENV = "SAGEMAKER_BIND_TO_PORT"
SAGEMAKER_WORKERS_ENV = "SAGEMAKER_MODEL_SERVER_WORKERS"
ENV_PREFIX = "INTENT_SERVE_"
# The resolved config travels to worker processes (spawned by uvicorn) in this variable.
RESOLVED_CONFIG_ENV = "INTENT_SERVE_RESOLVED_CONFIG"
# torch is the PyTorch-eager baseline (the way the service ran before ONNX); it needs torch, which the image lacks.
VARIANTS = ("int8", "fp32", "torch")
LOG_LEVELS = ("debug", "info", "warning", "error")
SPIN_MODES = ("auto", "on", "off")


class ConfigError(MlopsError):
    """A server setting (flag or environment variable) is invalid."""


@dataclass(frozen=True)
class ServerConfig:
    """Everything the inference server needs to start; see the module docstring for the environment variables."""

    model_dir: Path = DEFAULT_MODEL_DIR
    host: str = "0.0.0.0"  # noqa: S104 - a container must listen on all interfaces
    port: int = DEFAULT_PORT
    # One single-threaded worker per CPU: requests run side by side. On the base model this sustains the highest
    # load (open loop at 90 % of the raw sessions' saturation); one worker splitting each call over every CPU
    # answers a lone request faster but saturates below that rate (docs/benchmarks.md).
    workers: int | None = None
    threads: int | None = None
    variant: str = "int8"
    # Micro-batching is off by default: with one worker per CPU on the base model it adds little or nothing to
    # throughput (-2 to +6 % over six runs, within run-to-run spread), and a batch of k texts costs k single calls
    # there, so under a queue it makes every request in the batch wait for the last. It pays where a call's fixed
    # cost dominates: the tiny model on one worker (on a core of its own) gains 1.55-1.72x at 8 clients on 16-token
    # prompts with --batch-max-size 8 and no wait, and 1.21-1.31x on typical prompts, where even its compute per
    # token dominates (docs/benchmarks.md).
    batch_max_size: int = 1
    batch_wait_ms: float = 0.0
    max_inputs: int = 64
    max_body_bytes: int = 1024 * 1024
    max_text_bytes: int = 16 * 1024
    max_length: int | None = None
    graceful_timeout_s: float = 30.0
    keep_alive_s: int = 75
    log_level: str = "info"
    spin: str = "auto"

    def __post_init__(self) -> None:
        object.__setattr__(self, "model_dir", Path(self.model_dir))
        if self.workers is None:
            from inference.predictor import available_cpus

            object.__setattr__(self, "workers", available_cpus())
        positive = ("port", "workers", "batch_max_size", "max_inputs", "max_body_bytes", "max_text_bytes", "keep_alive_s")
        for name in positive:
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("threads", "max_length"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be at least 1, got {value}")
        if self.port > 65535:
            raise ConfigError(f"port must be at most 65535, got {self.port}")
        if self.batch_wait_ms < 0 or self.graceful_timeout_s < 0:
            raise ConfigError("batch_wait_ms and graceful_timeout_s must not be negative")
        if self.variant not in VARIANTS:
            raise ConfigError(f"variant must be one of {', '.join(VARIANTS)}, got {self.variant!r}")
        if self.spin not in SPIN_MODES:
            raise ConfigError(f"spin must be one of {', '.join(SPIN_MODES)}, got {self.spin!r}")
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"log_level must be one of {', '.join(LOG_LEVELS)}, got {self.log_level!r}")

    @property
    def batching(self) -> bool:
        """Micro-batching is on when a batch may hold more than one text."""
        return self.batch_max_size > 1

    @property
    def allow_spinning(self) -> bool:
        """Whether idle onnxruntime threads spin: auto spins for a lone worker, whose threads have the cores to themselves."""
        return self.spin == "on" or (self.spin == "auto" and self.workers == 1)

    @property
    def intra_op_threads(self) -> int:
        """Threads per worker: as configured, else the available CPUs shared among the workers."""
        from inference.predictor import default_threads

        return self.threads or default_threads(self.workers)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> ServerConfig:
        """Defaults, then environment variables, then the overrides that are not None."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for field in fields(cls):
            raw = env.get(ENV_PREFIX + field.name.upper())
            if raw is not None and raw.strip() != "":
                values[field.name] = _parse(ENV_PREFIX + field.name.upper(), raw.strip(), field.type)
        if env.get(PORT_ENV, "").strip():
            values["port"] = _parse(PORT_ENV, env[PORT_ENV].strip(), "int")
        if "workers" not in values and env.get(SAGEMAKER_WORKERS_ENV, "").strip():
            values["workers"] = _parse(SAGEMAKER_WORKERS_ENV, env[SAGEMAKER_WORKERS_ENV].strip(), "int")
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ConfigError(f"unknown server setting(s): {', '.join(sorted(unknown))}")
        return cls(**values)

    def to_json(self) -> str:
        """Serialise for the worker processes."""
        data = dataclasses.asdict(self)
        data["model_dir"] = str(self.model_dir)
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ServerConfig:
        """Inverse of to_json."""
        return cls(**json.loads(text))


def _parse(name: str, raw: str, type_name: Any) -> Any:
    # Field types are strings under `from __future__ import annotations`.
    type_name = str(type_name)
    try:
        if type_name.startswith("int"):
            return int(raw)
        if type_name.startswith("float"):
            return float(raw)
    except ValueError:
        kind = "an integer" if type_name.startswith("int") else "a number"
        raise ConfigError(f"{name}={raw!r} is not {kind}") from None
    if type_name == "str":
        return raw.lower() if name.endswith(("VARIANT", "LOG_LEVEL", "SPIN")) else raw
    return raw
