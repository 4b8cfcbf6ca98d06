"""Where endpoint commands go: SageMaker on AWS, or the local A/B endpoint, and what each can do.

Both are the SageMaker API through boto3, so one deployer serves both; they differ in their clients (the local
endpoint is unsigned and has no Application Auto Scaling or CloudWatch), in where per-variant traffic is read,
in where model packages must be (S3, or local files) and in the SageMaker features they offer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inference.deploy.endpoints import EndpointManager
from inference.deploy.packages import ResolvedModel, upload_packages
from inference.deploy.traffic import CloudWatchTraffic, LocalEndpointTraffic, TrafficSource
from ml.aws import DEFAULT_REGION, DEFAULT_S3_PREFIX, boto3_client

# What the local endpoint records as a variant's image and execution role: it runs neither.
LOCAL_IMAGE = "local/intent-serve:latest"
LOCAL_ROLE = "arn:aws:iam::000000000000:role/local-endpoint"


@dataclass
class DeployTarget:
    """The clients, traffic source and capabilities of AWS or of the local A/B endpoint."""

    manager: EndpointManager
    runtime: Any
    traffic: TrafficSource
    region: str
    local_url: str | None = None
    bucket: str | None = None
    prefix: str = DEFAULT_S3_PREFIX

    @classmethod
    def create(
        cls,
        local_url: str | None = None,
        region: str = DEFAULT_REGION,
        *,
        bucket: str | None = None,
        prefix: str = DEFAULT_S3_PREFIX,
    ) -> DeployTarget:
        """AWS (credentials, region, AWS_ENDPOINT_URL from the usual boto3 environment), or the local endpoint's URL."""
        if local_url:
            # The local endpoint checks no signatures: talking to it needs no AWS credentials.
            retries = {"max_attempts": 2, "mode": "standard"}
            sagemaker, runtime = (
                boto3_client(service, region=region, endpoint_url=local_url, unsigned=True, retries=retries)
                for service in ("sagemaker", "sagemaker-runtime")
            )
            return cls(
                EndpointManager(sagemaker, poll_s=0.5, timeout_s=300),
                runtime,
                LocalEndpointTraffic(local_url),
                region,
                local_url,
            )
        cloudwatch = boto3_client("cloudwatch", region=region)
        manager = EndpointManager(
            boto3_client("sagemaker", region=region),
            autoscaling_client=boto3_client("application-autoscaling", region=region),
            cloudwatch_client=cloudwatch,
        )
        return cls(
            manager,
            boto3_client("sagemaker-runtime", region=region),
            CloudWatchTraffic(cloudwatch),
            region,
            bucket=bucket,
            prefix=prefix,
        )

    @property
    def is_local(self) -> bool:
        """Whether commands go to the local A/B endpoint (which has no autoscaling or guardrails)."""
        return self.local_url is not None

    @property
    def image_uri(self) -> str:
        """The image recorded for variants on the local endpoint."""
        return LOCAL_IMAGE

    @property
    def role_arn(self) -> str:
        """The execution role recorded for models on the local endpoint."""
        return LOCAL_ROLE

    def model_data_urls(self, models: list[ResolvedModel]) -> dict[str, str]:
        """Where each variant's model is for the endpoint: a local file URI, or its package uploaded to S3."""
        if self.is_local:
            return {m.variant: m.local_path.resolve().as_uri() for m in models}
        return upload_packages(models, bucket=self.bucket, prefix=self.prefix, region=self.region)
