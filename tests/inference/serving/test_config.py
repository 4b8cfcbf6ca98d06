"""Server settings: defaults, environment, flags, and the errors that name the variable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from inference.serving.config import ConfigError, ServerConfig


def test_config_defaults() -> None:
    config = ServerConfig.from_env({})
    from inference.predictor import available_cpus

    # One single-threaded worker per CPU; spinning only for a lone worker.
    assert config.model_dir == Path("/opt/ml/model") and config.port == 8080
    assert (config.workers, config.intra_op_threads) == (available_cpus(), 1)
    assert config.precision == "int8" and config.max_inputs == 64 and config.spin == "auto"
    assert config.allow_spinning == (available_cpus() == 1)
    # Micro-batching off unless asked for; when on, a lone request never waits for company.
    assert not config.batching and (config.batch_max_size, config.batch_wait_ms) == (1, 0.0)
    assert ServerConfig.from_env({"INTENT_SERVE_BATCH_MAX_SIZE": "8"}).batching
    assert not ServerConfig.from_env({"INTENT_SERVE_WORKERS": "2"}).allow_spinning
    assert ServerConfig.from_env({"INTENT_SERVE_WORKERS": "2", "INTENT_SERVE_SPIN": "ON"}).allow_spinning
    with pytest.raises(ConfigError, match="spin must be one of auto, on, off"):
        ServerConfig(spin="sometimes")


def test_config_precedence_flags_over_env_over_defaults() -> None:
    env = {
        "SAGEMAKER_BIND_TO_PORT": "9000",
        "INTENT_SERVE_WORKERS": "3",
        "INTENT_SERVE_BATCH_MAX_SIZE": "16",
        "INTENT_SERVE_BATCH_WAIT_MS": "2.5",
        "INTENT_SERVE_PRECISION": "FP32",
        "INTENT_SERVE_MODEL_DIR": "/models/a",
    }
    config = ServerConfig.from_env(env)
    assert (config.port, config.workers, config.batch_max_size, config.batch_wait_ms) == (9000, 3, 16, 2.5)
    assert config.precision == "fp32" and config.batching and config.model_dir == Path("/models/a")
    config = ServerConfig.from_env(env, port=9100, workers=None, model_dir=Path("/models/b"))
    assert config.port == 9100 and config.workers == 3 and config.model_dir == Path("/models/b")
    assert ServerConfig.from_env({"SAGEMAKER_MODEL_SERVER_WORKERS": "2"}).workers == 2
    assert ServerConfig.from_env({"SAGEMAKER_MODEL_SERVER_WORKERS": "2", "INTENT_SERVE_WORKERS": "4"}).workers == 4


def test_config_round_trips_for_workers() -> None:
    config = ServerConfig.from_env({}, port=1234, threads=2, batch_max_size=8, max_length=64)
    assert ServerConfig.from_json(config.to_json()) == config


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SAGEMAKER_BIND_TO_PORT": "http"}, "SAGEMAKER_BIND_TO_PORT='http' is not an integer"),
        ({"INTENT_SERVE_WORKERS": "0"}, "workers must be at least 1"),
        ({"INTENT_SERVE_BATCH_WAIT_MS": "soon"}, "is not a number"),
        ({"INTENT_SERVE_PRECISION": "fp16"}, "precision must be one of"),
        ({"INTENT_SERVE_PRECISION": "int8", "INTENT_SERVE_VARIANT": "fp32"}, "disagree"),
        ({"SAGEMAKER_BIND_TO_PORT": "70000"}, "at most 65535"),
    ],
)
def test_config_errors_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        ServerConfig.from_env(env)


def test_the_deprecated_variant_names_still_work_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    from inference.serving.config import flag_overrides

    with caplog.at_level("WARNING"):
        assert ServerConfig.from_env({"INTENT_SERVE_VARIANT": "FP32"}).precision == "fp32"
        assert flag_overrides({"deprecated_precision": "fp32"}) == {"precision": "fp32"}
    warnings = [r.getMessage() for r in caplog.records]
    assert "INTENT_SERVE_VARIANT is deprecated: set INTENT_SERVE_PRECISION instead" in warnings
    assert "--variant is deprecated: use --precision" in warnings
    with pytest.raises(ConfigError, match="disagree"):
        flag_overrides({"precision": "int8", "deprecated_precision": "fp32"})


def test_every_setting_has_one_home_from_which_env_names_flags_and_docs_derive() -> None:
    """A new setting is one field: its variable, flag, help and docs row follow from it."""
    import click

    from inference.serving.config import server_settings, settings_table
    from inference.serving.container import parser
    from mlops_cli.serve import serve
    from tests.conftest import ROOT

    settings = server_settings()
    assert [s.name for s in settings] == [f.name for f in __import__("dataclasses").fields(ServerConfig)]
    flags = {s.flag for s in settings if not s.setting.positional}
    container_flags = {o for action in parser()._actions for o in action.option_strings} - {"-h", "--help"}
    cli_flags = {o for p in serve.params if isinstance(p, click.Option) for o in p.opts} - {"--download-dir"}
    assert flags | {"--variant"} == container_flags == cli_flags
    # Every flag reads its own environment variable by name, and the docs list each one with its default.
    for info in settings:
        assert info.env in info.help and info.default_text in info.help
    operations = (ROOT / "docs" / "operations.md").read_text()
    assert settings_table() in operations, "docs/operations.md must include settings_table() verbatim"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--port", "http"], "--port='http' is not an integer"),
        (["--workers", "0"], "workers must be at least 1"),
        (["--precision", "fp16"], "precision must be one of"),
    ],
)
def test_container_flags_are_checked_like_the_environment(flags: list[str], message: str) -> None:
    from inference.serving.config import flag_overrides
    from inference.serving.container import parser

    with pytest.raises(ConfigError, match=re.escape(message)):
        ServerConfig.from_env({}, **flag_overrides(vars(parser().parse_args(flags))))
