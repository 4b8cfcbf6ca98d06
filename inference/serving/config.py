"""Typed server settings, each declared once: its type, default, meaning, environment variable and flag.

Precedence: built-in defaults, then environment variables (`INTENT_SERVE_<NAME>`, and SageMaker's own
`SAGEMAKER_BIND_TO_PORT` and `SAGEMAKER_MODEL_SERVER_WORKERS`), then explicit overrides (command-line flags).
Everything else is derived from the `ServerConfig` fields below: the environment names, the flags of `serve` and
`mlops serve`, their help, the validation, and the table in docs/operations.md (`settings_table()`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

from inference.serving.capture import DEFAULT_ROTATE_BYTES, SERVE_ENDPOINT, check_capture_name
from inference.serving.payload import Limits
from ml.errors import MlopsError
from ml.model import PRECISIONS

log = logging.getLogger(__name__)

ENV_PREFIX = "INTENT_SERVE_"
# Where SageMaker mounts the model.
DEFAULT_MODEL_DIR = Path("/opt/ml/model")
PORT_ENV = "SAGEMAKER_BIND_TO_PORT"
SAGEMAKER_WORKERS_ENV = "SAGEMAKER_MODEL_SERVER_WORKERS"
# The resolved config travels to worker processes (spawned by uvicorn) in this variable.
RESOLVED_CONFIG_ENV = "INTENT_SERVE_RESOLVED_CONFIG"
# torch is the PyTorch-eager baseline the benchmarks compare against; it needs torch, which the image lacks.
SERVED_PRECISIONS = (*PRECISIONS, "torch")
LOG_LEVELS = ("debug", "info", "warning", "error")
SPIN_MODES = ("auto", "on", "off")


@dataclass(frozen=True)
class ConnectionLimits:
    """What one connection may take: a request head's size, the time to send a request, a share of the worker's
    connections. `inference.serving.asgi` enforces them, for the model server and the local endpoint alike."""

    # Defaults: Node.js's largest request head (16 KiB) and gunicorn's most header fields (100).
    max_header_bytes: int = 16 * 1024
    max_headers: int = 100
    request_timeout_s: float = 30.0
    # Below the usual limit of 1,024 open files per process, which the model's and the metrics' files share.
    max_connections: int = 512


class ConfigError(MlopsError):
    """A server setting (flag or environment variable) is invalid."""


@dataclass(frozen=True)
class Setting:
    """What a user needs to know about one server setting; the field name, type and default come from the dataclass."""

    help: str
    default_text: str | None = None  # how a computed default reads (None: the default value itself)
    env: str | None = None  # default: INTENT_SERVE_<NAME>
    fallback_env: str | None = None  # read when `env` is unset (SageMaker's own variable)
    choices: tuple[str, ...] = ()  # case-insensitive
    minimum: float | None = None
    maximum: float | None = None
    positional: bool = False  # a command argument rather than a flag
    deprecated_env: str | None = None  # an old name, still read, with a warning
    deprecated_flag: str | None = None


def _setting(default: Any, help_text: str, **details: Any) -> Any:
    return field(default=default, metadata={"setting": Setting(help_text, **details)})


@dataclass(frozen=True)
class ServerConfig:
    """Everything the inference server needs to start."""

    model_dir: Path = _setting(DEFAULT_MODEL_DIR, "model directory", positional=True)
    host: str = _setting("0.0.0.0", "interface to bind")  # noqa: S104 - a container must listen on all interfaces
    port: int = _setting(8080, "port to listen on (set by SageMaker)", env=PORT_ENV, minimum=1, maximum=65535)
    # One single-threaded worker per CPU: requests run side by side (docs/benchmarks.md, "Serving").
    workers: int | None = _setting(
        None, "worker processes", default_text="one per CPU", fallback_env=SAGEMAKER_WORKERS_ENV, minimum=1
    )
    threads: int | None = _setting(
        None, "onnxruntime intra-op threads per worker", default_text="CPUs / workers", minimum=1
    )
    precision: str = _setting(
        "int8",
        "ONNX graph to serve, or torch for the PyTorch eager baseline (needs torch)",
        choices=SERVED_PRECISIONS,
        deprecated_env=f"{ENV_PREFIX}VARIANT",
        deprecated_flag="--variant",
    )
    # Micro-batching pays only where a model call's fixed cost dominates (small models, short prompts); with one
    # worker per CPU on the base model it makes requests wait for their batch's last
    # (docs/benchmarks.md, "Micro-batching").
    batch_max_size: int = _setting(1, "micro-batching: most texts per model call (1 turns it off)", minimum=1)
    batch_wait_ms: float = _setting(0.0, "micro-batching: longest wait for a batch to fill", minimum=0)
    max_inputs: int = _setting(Limits.max_inputs, "most texts per request (413 beyond)", minimum=1)
    max_body_bytes: int = _setting(Limits.max_body_bytes, "largest request body in bytes (413 beyond)", minimum=1)
    max_text_bytes: int = _setting(Limits.max_text_bytes, "largest single text in UTF-8 bytes (413 beyond)", minimum=1)
    max_length: int | None = _setting(None, "token truncation length", default_text="the model's", minimum=1)
    max_header_bytes: int = _setting(
        ConnectionLimits.max_header_bytes,
        "largest request head (request line and headers) in bytes (431 beyond)",
        minimum=1024,
    )
    max_headers: int = _setting(ConnectionLimits.max_headers, "most header fields per request (431 beyond)", minimum=1)
    request_timeout_s: float = _setting(
        ConnectionLimits.request_timeout_s,
        "seconds a client has to send a whole request, from its first byte or from connecting (408 and closed beyond)",
        minimum=0.01,
    )
    max_connections: int = _setting(
        ConnectionLimits.max_connections, "most open connections per worker (503 with Retry-After beyond)", minimum=1
    )
    graceful_timeout_s: float = _setting(
        30.0, "seconds in-flight requests may run after SIGTERM (those not started get 503 at once)", minimum=0
    )
    keep_alive_s: int = _setting(75, "HTTP keep-alive in seconds", minimum=1)
    log_level: str = _setting("info", "log level", choices=LOG_LEVELS)
    spin: str = _setting(
        "auto", "whether idle onnxruntime threads spin (auto: only with one worker)", choices=SPIN_MODES
    )
    # Data capture (inference.serving.capture): on when either the directory or the share is set.
    capture_dir: Path | None = _setting(
        None,
        "data capture: where sampled requests and answers are written (SageMaker's JSON Lines); turns capture on",
        default_text="off; <state dir>/capture when only the share is set",
    )
    capture_percent: float | None = _setting(
        None,
        "data capture: share of answered requests captured, 0-100; turns capture on",
        default_text="100 when a capture directory is set, else off",
        minimum=0,
        maximum=100,
    )
    capture_endpoint: str = _setting(SERVE_ENDPOINT, "data capture: the endpoint name the files are filed under")
    capture_rotate_bytes: int = _setting(
        DEFAULT_ROTATE_BYTES,
        "data capture: a file's size in bytes at which the next one is started",
        default_text=f"{DEFAULT_ROTATE_BYTES // 2**20} MiB",
        minimum=1024,
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "model_dir", Path(self.model_dir))
        if self.capture_dir is not None:
            object.__setattr__(self, "capture_dir", Path(self.capture_dir))
        if self.workers is None:
            from inference.predictor import available_cpus

            object.__setattr__(self, "workers", available_cpus())
        for info in server_settings():
            _check(info, getattr(self, info.name))
        try:
            check_capture_name("capture endpoint", self.capture_endpoint)
        except MlopsError as exc:
            raise ConfigError(exc.message, hint=exc.hint) from None

    @property
    def capture(self) -> bool:
        """Data capture is on when a capture directory or a capture share is set (a share of 0 captures none)."""
        return self.capture_dir is not None or self.capture_percent is not None

    @property
    def capture_share(self) -> float:
        """The percentage of answered requests captured when capture is on."""
        return 100.0 if self.capture_percent is None else self.capture_percent

    @property
    def batching(self) -> bool:
        """Micro-batching is on when a batch may hold more than one text."""
        return self.batch_max_size > 1

    @property
    def allow_spinning(self) -> bool:
        """Whether idle onnxruntime threads spin: auto spins for a lone worker, whose threads have the cores alone."""
        return self.spin == "on" or (self.spin == "auto" and self.workers == 1)

    @property
    def intra_op_threads(self) -> int:
        """Threads per worker: as configured, else the available CPUs shared among the workers."""
        from inference.predictor import default_threads

        return self.threads or default_threads(self.workers or 1)

    @property
    def limits(self) -> Limits:
        """The request limits these settings impose."""
        return Limits(self.max_inputs, self.max_body_bytes, self.max_text_bytes)

    @property
    def connection_limits(self) -> ConnectionLimits:
        """The limits of each connection these settings impose."""
        return ConnectionLimits(self.max_header_bytes, self.max_headers, self.request_timeout_s, self.max_connections)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> ServerConfig:
        """Defaults, then environment variables, then the overrides that are not None."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for info in server_settings():
            raw = _read_env(info, env)
            if raw is not None:
                values[info.name] = info.parse(raw[0], raw[1])
        known = {info.name for info in server_settings()}
        unknown = {k for k, v in overrides.items() if v is not None} - known
        if unknown:
            raise ConfigError(f"unknown server setting(s): {', '.join(sorted(unknown))}")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def to_json(self) -> str:
        """Serialise for the worker processes."""
        data = dataclasses.asdict(self)
        data["model_dir"] = str(self.model_dir)
        data["capture_dir"] = None if self.capture_dir is None else str(self.capture_dir)
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ServerConfig:
        """Inverse of to_json."""
        return cls(**json.loads(text))


@dataclass(frozen=True)
class SettingInfo:
    """A setting resolved from its field: name, value type, default, environment variable and flag."""

    name: str
    type: type
    optional: bool
    default: Any
    setting: Setting

    @property
    def env(self) -> str:
        """The environment variable that sets it."""
        return self.setting.env or ENV_PREFIX + self.name.upper()

    @property
    def flag(self) -> str:
        """The command-line flag that sets it (`--batch-max-size`; `_s` units are dropped: `--graceful-timeout`)."""
        return "--" + self.name.removesuffix("_s").replace("_", "-")

    @property
    def default_text(self) -> str:
        """The default as the help shows it."""
        return self.setting.default_text or str(self.default)

    @property
    def description(self) -> str:
        """What the setting means, with its choices."""
        choices = f"; one of {', '.join(self.setting.choices)}" if self.setting.choices else ""
        return self.setting.help + choices

    @property
    def help(self) -> str:
        """One line of help, naming the environment variable and the default."""
        env = self.env + (f" or {self.setting.fallback_env}" if self.setting.fallback_env else "")
        return f"{self.description} [env {env}; default {self.default_text}]"

    @property
    def deprecated_dest(self) -> str:
        """Where a command-line parser puts the value of the deprecated flag."""
        return f"deprecated_{self.name}"

    def parse(self, raw: str, source: str) -> Any:
        """A raw string (from `source`, an environment variable or flag) as this setting's type, else ConfigError."""
        raw = raw.strip()
        if self.type is Path:
            return Path(raw)
        if self.type in (int, float):
            try:
                value = self.type(raw)
            except ValueError:
                kind = "an integer" if self.type is int else "a number"
                raise ConfigError(f"{source}={raw!r} is not {kind}") from None
            return value
        return raw.lower() if self.setting.choices else raw


@cache
def server_settings() -> tuple[SettingInfo, ...]:
    """Every server setting, in declaration order."""
    hints = typing.get_type_hints(ServerConfig)
    out = []
    for f in fields(ServerConfig):
        hint = hints[f.name]
        args = typing.get_args(hint) if isinstance(hint, types.UnionType) else ()
        base = next(a for a in args if a is not type(None)) if args else hint
        out.append(SettingInfo(f.name, base, type(None) in args, f.default, f.metadata["setting"]))
    return tuple(out)


def _read_env(info: SettingInfo, env: Mapping[str, str]) -> tuple[str, str] | None:
    """(raw value, variable name) of the first non-empty variable that sets `info`, or None."""
    old_name = info.setting.deprecated_env
    if old_name and env.get(old_name, "").strip():
        log.warning("%s is deprecated: set %s instead", old_name, info.env)
        current, old = env.get(info.env, "").strip(), env[old_name].strip()
        if current and current.lower() != old.lower():
            raise ConfigError(
                f"{info.env}={current!r} and the deprecated {old_name}={old!r} disagree: set only {info.env}"
            )
    for name in (info.env, old_name, info.setting.fallback_env):
        if name and env.get(name, "").strip():
            return env[name].strip(), name
    return None


def _check(info: SettingInfo, value: Any) -> None:
    if value is None:
        if not info.optional:
            raise ConfigError(f"{info.name} must be set")
        return
    s = info.setting
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{info.name} must be a finite number, got {value}")
    if s.minimum is not None and value < s.minimum:
        raise ConfigError(f"{info.name} must be at least {s.minimum:g}, got {value}")
    if s.maximum is not None and value > s.maximum:
        raise ConfigError(f"{info.name} must be at most {s.maximum:g}, got {value}")
    if s.choices and value not in s.choices:
        raise ConfigError(f"{info.name} must be one of {', '.join(s.choices)}, got {value!r}")


def flag_overrides(values: Mapping[str, Any]) -> dict[str, Any]:
    """Command-line values (raw or None, keyed by setting name or `deprecated_dest`) as typed overrides."""
    overrides: dict[str, Any] = {}
    for info in server_settings():
        raw = values.get(info.name)
        old = values.get(info.deprecated_dest)
        if old is not None:
            log.warning("%s is deprecated: use %s", info.setting.deprecated_flag, info.flag)
            if raw is not None and str(raw).lower() != str(old).lower():
                raise ConfigError(f"{info.flag} {raw} and the deprecated {info.setting.deprecated_flag} {old} disagree")
            raw = old if raw is None else raw
        if raw is not None:
            overrides[info.name] = info.parse(str(raw), info.flag)
    return overrides


def settings_table() -> str:
    """The settings as a Markdown table: environment variable, flag, meaning and default."""
    rows = ["| environment variable | flag | meaning | default |", "|---|---|---|---|"]
    for info in server_settings():
        env = f"`{info.env}`" + (f" (else `{info.setting.fallback_env}`)" if info.setting.fallback_env else "")
        flag = "argument" if info.setting.positional else f"`{info.flag}`"
        rows.append(f"| {env} | {flag} | {info.description} | {info.default_text} |")
    return "\n".join(rows)
