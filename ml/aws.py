"""boto3 clients for AWS or for a local stand-in of it, and the AWS naming rules several packages check.

One rule for local stand-ins (the local A/B endpoint, a moto server): a client given an `endpoint_url` with no
credentials in reach is unsigned, since boto3 could not sign at all and the stand-in checks no signatures.
"""

from __future__ import annotations

import re
from typing import Any

from ml.errors import MlopsError

ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
DEFAULT_REGION = "us-east-1"
# The key prefix in the bucket under which jobs, packages and recommender payloads go (`--prefix`,
# MLOPS_SAGEMAKER_PREFIX).
DEFAULT_S3_PREFIX = "intent-mlops"


def boto3_client(
    service: str,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    unsigned: bool | None = None,
    **config: Any,
) -> Any:
    """A boto3 client with botocore `config` options; unsigned for a local stand-in (see the module docstring).

    `unsigned=None` decides by the rule above; True or False forces it.
    """
    import boto3
    from botocore.config import Config

    if unsigned is None:
        unsigned = bool(endpoint_url) and boto3.Session().get_credentials() is None
    if unsigned:
        from botocore import UNSIGNED

        config["signature_version"] = UNSIGNED
    return boto3.client(service, region_name=region, endpoint_url=endpoint_url, config=Config(**config))


def secret_value(secret_id: str, *, region: str | None = None) -> str:
    """The string value of a Secrets Manager secret (by name or ARN); MlopsError saying why it could not be read."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return str(boto3_client("secretsmanager", region=region).get_secret_value(SecretId=secret_id)["SecretString"])
    except (ClientError, BotoCoreError, KeyError) as exc:
        raise MlopsError(
            f"cannot read the secret {secret_id!r}: {exc}",
            hint="check the secret's name and that the role may call secretsmanager:GetSecretValue on it",
        ) from exc


def validate_role_arn(role_arn: str) -> str:
    """Return `role_arn` if it is an IAM role ARN (`arn:aws:iam::<12 digits>:role/<name>`), else raise MlopsError."""
    if not ROLE_ARN_RE.match(role_arn or ""):
        raise MlopsError(
            f"not an IAM role ARN: {role_arn!r}",
            hint="pass the SageMaker execution role as arn:aws:iam::<12-digit account>:role/<name>",
        )
    return role_arn
