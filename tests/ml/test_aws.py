"""boto3 clients: signed for AWS, unsigned for a local stand-in when no credentials are in reach."""

from __future__ import annotations

import pytest
from botocore import UNSIGNED

from ml.aws import boto3_client, validate_role_arn
from ml.errors import MlopsError


def test_a_local_stand_in_without_credentials_gets_an_unsigned_client(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    local = boto3_client("sagemaker-runtime", region="us-east-1", endpoint_url="http://127.0.0.1:9")
    assert local.meta.config.signature_version is UNSIGNED
    forced = boto3_client("sagemaker", region="us-east-1", endpoint_url="http://127.0.0.1:9", unsigned=False)
    assert forced.meta.config.signature_version is not UNSIGNED


def test_aws_and_credentialed_clients_are_signed() -> None:
    # The test environment sets AWS_ACCESS_KEY_ID: credentials are in reach.
    assert boto3_client("sagemaker", region="us-east-1").meta.config.signature_version is not UNSIGNED
    local = boto3_client("sagemaker", region="us-east-1", endpoint_url="http://127.0.0.1:9", connect_timeout=2)
    assert local.meta.config.signature_version is not UNSIGNED and local.meta.config.connect_timeout == 2


@pytest.mark.parametrize("arn", ["arn:aws:iam::123456789012:user/alice", "role/x", "", "arn:aws:iam::12345:role/x"])
def test_role_arns_are_checked(arn: str) -> None:
    with pytest.raises(MlopsError, match="not an IAM role ARN"):
        validate_role_arn(arn)
    assert validate_role_arn("arn:aws-cn:iam::123456789012:role/path/sm") == "arn:aws-cn:iam::123456789012:role/path/sm"


def test_a_secret_is_read_from_secrets_manager(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from ml.aws import secret_value

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    boto3_client("secretsmanager", region="us-east-1").create_secret(Name="hf/token", SecretString="hf_abc")
    assert secret_value("hf/token", region="us-east-1") == "hf_abc"
    with pytest.raises(MlopsError, match="cannot read the secret 'hf/other'") as raised:
        secret_value("hf/other", region="us-east-1")
    assert "secretsmanager:GetSecretValue" in (raised.value.hint or "")
