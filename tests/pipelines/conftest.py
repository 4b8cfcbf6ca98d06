"""Fixtures for the SageMaker pipeline tests: one offline definition per session, AWS pointed at moto.

The moto server itself (a real `python -m moto.server` subprocess on loopback) is `moto_server` from
tests/conftest.py; the fake AWS environment (credentials, region, AWS_MAX_ATTEMPTS=1,
SAGEMAKER_VALIDATE_ROLE=false, ...) is set there for the whole test run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROLE = "arn:aws:iam::123456789012:role/SageMakerExecutionRole-tests"
BUCKET = "mlops-pipeline-tests"
REGION = "us-east-1"


@pytest.fixture(scope="session")
def settings() -> Any:
    """SageMakerSettings with a test role and bucket (everything else default)."""
    from pipelines.sagemaker_pipeline import SageMakerSettings

    return SageMakerSettings.create(role_arn=ROLE, default_bucket=BUCKET, region=REGION)


@pytest.fixture(scope="session")
def definition_text(settings: Any) -> str:
    """The definition JSON, built once per session offline (moto's in-process mock)."""
    from pipelines.sagemaker_pipeline import definition_json

    return definition_json(settings, offline=True)


@pytest.fixture
def definition(definition_text: str) -> dict[str, Any]:
    """A fresh, mutable copy of the definition as a dict."""
    return json.loads(definition_text)


@pytest.fixture
def aws_endpoint(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point boto3 (and so the SDK and the CLI subprocesses) at the moto server for one test."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("SAGEMAKER_VALIDATE_ROLE", "false")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto_server


@pytest.fixture
def dvc_repo(tmp_path: Path) -> Path:
    """A DVC repository (no git) tracking data/prompts.jsonl, with an S3 remote (default) and a local one."""
    from dvc.repo import Repo

    repo = Repo.init(str(tmp_path), no_scm=True)
    data = tmp_path / "data" / "prompts.jsonl"
    data.parent.mkdir()
    data.write_text('{"text": "turn on the lights", "intent": "smart_home"}\n')
    repo.add(str(data))
    with repo.config.edit() as conf:
        conf["remote"]["s3store"] = {"url": "s3://dvc-tests/store"}
        conf["remote"]["localstore"] = {"url": str(tmp_path / "local-remote")}
        conf["core"]["remote"] = "s3store"
    repo.close()
    return tmp_path
