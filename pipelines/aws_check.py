"""Read-only checks of an AWS setup for the SageMaker path, run before anything is paid for (`mlops aws check`).

Each check gives one line: pass, fail or skipped, with the reason, and for a failure how to fix it. Nothing is
created or written; the calls are sts:GetCallerIdentity, iam:GetRole, s3:HeadBucket, ecr:DescribeImages,
sagemaker:DescribeMlflowTrackingServer and, when asked for, iam:SimulatePrincipalPolicy, plus one HTTP GET of an
MLflow server's /health. The IAM policies they go with are in docs/aws/iam/ (explained in docs/aws.md).

What is checked:
- the caller: who the credentials in reach belong to (nothing else is checked without them);
- the role: it exists and trusts sagemaker.amazonaws.com (SageMaker assumes it for jobs and endpoints);
- the bucket: it exists, this caller may list it, and it is in the region the jobs run in (writes are not tried;
  `simulate=("pipeline",)` asks IAM whether they would be allowed);
- the MLflow tracking URI, as the SageMaker jobs will use it: an http(s) server must answer /health (from here;
  a loopback address fails, the jobs cannot reach it); a SageMaker managed MLflow tracking server must be up; a
  local store (sqlite:, file:, a path, or none set) fails, since a job would register into its own throwaway disk;
- images: each exists in ECR (a repository of another account, such as AWS's framework images, is skipped when
  its policy does not let this caller describe it);
- permissions (optional): IAM's policy simulator on the key actions of the pipeline caller, the deployer or the
  execution role. Services that do not implement it (moto) give `skipped`, never a guess.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ml.aws import DEFAULT_REGION, boto3_client, validate_role_arn
from ml.errors import MlopsError
from model_registry.tracking import tracking_uri
from pipelines.sagemaker_pipeline import SageMakerSettings

PASS, FAIL, SKIPPED = "pass", "fail", "skipped"
SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"
HTTP_TIMEOUT_S = 5.0
# DescribeMlflowTrackingServer states in which the server takes requests.
SERVING_TRACKING_SERVER_STATES = ("Created", "Updated", "Started", "MaintenanceComplete")
SIMULATIONS = ("pipeline", "endpoint", "execution-role")
ECR_IMAGE_RE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[a-z0-9][a-z0-9._/-]*)(?::(?P<tag>\w[\w.-]{0,127})|@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
MLFLOW_ARN_RE = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"(?P<kind>mlflow-tracking-server|mlflow-app)/(?P<name>[A-Za-z0-9-]+)$"
)
POLICY_DIR = "docs/aws/iam"


@dataclass(frozen=True)
class Check:
    """The outcome of one check: its name, pass / fail / skipped, what was found, and how to fix a failure."""

    name: str
    status: str
    detail: str
    hint: str = ""

    def to_dict(self) -> dict[str, str]:
        """The check as JSON-ready fields."""
        return asdict(self)


@dataclass(frozen=True)
class AwsSetup:
    """What to check: validated once (`create`), before any call is made."""

    settings: SageMakerSettings  # region, bucket, prefix, pipeline name (validated by SageMakerSettings)
    role_arn: str | None = None
    tracking_uri: str | None = None
    images: tuple[str, ...] = ()
    simulate: tuple[str, ...] = ()
    endpoint: str | None = None

    @classmethod
    def create(
        cls,
        *,
        region: str = DEFAULT_REGION,
        role_arn: str | None = None,
        bucket: str | None = None,
        prefix: str | None = None,
        pipeline_name: str | None = None,
        tracking_uri: str | None = None,
        images: Sequence[str] = (),
        simulate: Sequence[str] = (),
        endpoint: str | None = None,
    ) -> AwsSetup:
        """Validate the inputs (MlopsError saying what is wrong and how to fix it) and return the setup."""
        if role_arn:
            validate_role_arn(role_arn)
        settings = SageMakerSettings.create(
            role_arn=role_arn or None,
            region=region,
            default_bucket=bucket or None,
            s3_prefix=prefix,
            pipeline_name=pipeline_name or None,
        )
        for image in images:
            parse_image_uri(image)
        unknown = sorted(set(simulate) - set(SIMULATIONS))
        if unknown:
            raise MlopsError(f"unknown simulation(s) {', '.join(unknown)}", hint=f"one of: {', '.join(SIMULATIONS)}")
        if "endpoint" in simulate and not endpoint:
            raise MlopsError(
                "simulating the deployer's actions needs an endpoint name", hint="add --endpoint NAME, e.g. intent-ab"
            )
        if simulate and not role_arn:
            raise MlopsError(
                "simulating permissions needs the role (every purpose passes or is the role)", hint="add --role ARN"
            )
        return cls(settings, role_arn or None, tracking_uri, tuple(images), tuple(dict.fromkeys(simulate)), endpoint)

    @property
    def region(self) -> str:
        """The region the jobs and endpoints run in."""
        return self.settings.region

    def bucket(self, caller: Caller) -> str:
        """The bucket given, else the SageMaker default of the caller's account (as the other commands use)."""
        return self.settings.default_bucket or f"sagemaker-{self.region}-{caller.account}"


@dataclass(frozen=True)
class Caller:
    """Who the credentials in reach belong to (sts:GetCallerIdentity)."""

    arn: str
    account: str

    @property
    def partition(self) -> str:
        """The AWS partition of the caller (aws, aws-cn, aws-us-gov)."""
        return self.arn.split(":")[1]

    @property
    def principal_arn(self) -> str | None:
        """The IAM ARN IAM's simulator takes for this caller: an assumed role's role, a user; None for root."""
        kind, _, rest = self.arn.split(":", 5)[5].partition("/")
        if kind == "assumed-role":
            # The session ARN drops the role's path; a role with a path is then not found (and skipped).
            return f"arn:{self.partition}:iam::{self.account}:role/{rest.split('/')[0]}"
        if kind in ("user", "role"):
            return f"arn:{self.partition}:iam::{self.account}:{kind}/{rest}"
        return None


# ---------------------------------------------------------------------------------------------- helpers


def _error(exc: Exception) -> tuple[str, str]:
    """(code, message) of a botocore ClientError, else (type name, text)."""
    error = getattr(exc, "response", {}).get("Error", {})
    if error:
        return str(error.get("Code", "")), str(error.get("Message", "")).splitlines()[0][:200]
    return type(exc).__name__, str(exc).splitlines()[0][:200] if str(exc) else ""


def _not_implemented(exc: Exception) -> bool:
    """True when the endpoint does not speak the API at all (a stand-in such as moto), rather than refusing a call."""
    from botocore.parsers import ResponseParserError

    if isinstance(exc, ResponseParserError):
        return True
    code, _ = _error(exc)
    # An HTTP status as the error code: the endpoint answered with an error page, not an AWS error.
    return code.isdigit() or code in ("NotImplemented", "InvalidAction", "UnknownOperationException")


def _denied(exc: Exception) -> bool:
    code, _ = _error(exc)
    return code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "403")


def _client(service: str, region: str) -> Any:
    # Read-only checks fail fast: a short connect and read timeout, one retry.
    return boto3_client(
        service, region=region, connect_timeout=5, read_timeout=15, retries={"max_attempts": 2, "mode": "standard"}
    )


def _aws_errors() -> tuple[type[Exception], ...]:
    """The exceptions an AWS call may raise: service errors, client-side errors, unparseable answers."""
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.parsers import ResponseParserError

    return ClientError, BotoCoreError, ResponseParserError


def _aws_call(name: str, call: Callable[[], Check], action: str) -> Check:
    """Run one AWS-backed check; an error no check expected becomes a failure that names the action."""
    try:
        return call()
    except _aws_errors() as exc:
        code, message = _error(exc)
        if _denied(exc):
            return Check(name, FAIL, f"{action} denied: {message}", f"grant {action} (see {POLICY_DIR}/)")
        return Check(name, FAIL, f"{action} failed: {code}: {message}", "check the region, endpoint and credentials")


def parse_image_uri(uri: str) -> dict[str, str]:
    """The account, region, repository and tag or digest of an ECR image URI; MlopsError for anything else."""
    match = ECR_IMAGE_RE.match(uri or "")
    if not match:
        raise MlopsError(
            f"not an ECR image URI: {uri!r}",
            hint="SageMaker pulls images from ECR: <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>",
        )
    parts = {k: v for k, v in match.groupdict().items() if v}
    if "tag" not in parts and "digest" not in parts:
        parts["tag"] = "latest"
    return parts


# ---------------------------------------------------------------------------------------------- checks


def check_caller(region: str = DEFAULT_REGION) -> tuple[Check, Caller | None]:
    """sts:GetCallerIdentity: whose credentials are in reach."""
    try:
        identity = _client("sts", region).get_caller_identity()
    except _aws_errors() as exc:
        code, message = _error(exc)
        return (
            Check(
                "caller",
                FAIL,
                f"no AWS identity: {code}: {message}",
                "configure credentials (AWS_PROFILE, `aws sso login`, or a role) and the endpoint (AWS_ENDPOINT_URL)",
            ),
            None,
        )
    caller = Caller(identity["Arn"], identity["Account"])
    return Check("caller", PASS, f"{caller.arn} (account {caller.account})"), caller


def trusts_service(document: Any, service: str = SAGEMAKER_SERVICE) -> bool:
    """Whether a trust policy lets `service` assume the role (an Allow of sts:AssumeRole, no Deny)."""
    if isinstance(document, str):
        document = json.loads(urllib.parse.unquote(document))
    statements = document.get("Statement", [])
    allowed = False
    for statement in [statements] if isinstance(statements, dict) else statements:
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        principals = statement.get("Principal", {})
        services = principals.get("Service", []) if isinstance(principals, dict) else []
        services = [services] if isinstance(services, str) else services
        if service in services and {a.lower() for a in actions} & {"sts:assumerole", "sts:*", "*"}:
            if statement.get("Effect") == "Deny":
                return False
            allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def check_role(role_arn: str | None, caller: Caller) -> Check:
    """iam:GetRole: the role exists and trusts sagemaker.amazonaws.com."""
    name = "role"
    trust_file = f"{POLICY_DIR}/execution-role-trust.json (endpoint-role-trust.json for an endpoint's role)"
    if not role_arn:
        return Check(
            name,
            FAIL,
            "no role given",
            "pass --role arn:aws:iam::<account>:role/<name> or set MLOPS_SAGEMAKER_ROLE_ARN",
        )
    account = role_arn.split(":")[4]
    if account != caller.account:
        return Check(name, SKIPPED, f"{role_arn} is in account {account}, the caller in {caller.account}: not readable")

    def get_role() -> Check:
        from botocore.exceptions import ClientError

        try:
            role = _client("iam", DEFAULT_REGION).get_role(RoleName=role_arn.rsplit("/", 1)[1])["Role"]
        except ClientError as exc:
            if _error(exc)[0] != "NoSuchEntity":
                raise
            return Check(name, FAIL, f"{role_arn} does not exist", f"create it with the trust policy {trust_file}")
        if role["Arn"] != role_arn:
            return Check(name, FAIL, f"the role's ARN is {role['Arn']}, not {role_arn}", "pass the ARN IAM shows")
        if not trusts_service(role.get("AssumeRolePolicyDocument", {})):
            return Check(
                name,
                FAIL,
                f"{role_arn} does not trust {SAGEMAKER_SERVICE}: SageMaker cannot assume it",
                f"set its trust policy to {trust_file}",
            )
        return Check(name, PASS, f"{role_arn} exists and trusts {SAGEMAKER_SERVICE}")

    return _aws_call(name, get_role, "iam:GetRole")


def check_bucket(setup: AwsSetup, caller: Caller) -> Check:
    """s3:HeadBucket: the bucket exists, this caller may list it, and it is in the jobs' region (nothing written)."""
    name = "bucket"
    bucket = setup.bucket(caller)
    which = "" if setup.settings.default_bucket else " (the default: no --bucket given)"

    def head_bucket() -> Check:
        from botocore.exceptions import ClientError

        try:
            response = _client("s3", setup.region).head_bucket(Bucket=bucket)
        except ClientError as exc:
            code = _error(exc)[0]
            if code in ("404", "NoSuchBucket", "NotFound"):
                return Check(
                    name,
                    FAIL,
                    f"s3://{bucket}{which} does not exist",
                    f"create it in {setup.region} first (the policies in {POLICY_DIR}/ do not grant s3:CreateBucket)",
                )
            if code == "403":
                return Check(
                    name,
                    FAIL,
                    f"s3://{bucket} exists but this caller may not list it (403)",
                    f"grant s3:ListBucket on arn:aws:s3:::{bucket} (see {POLICY_DIR}/)",
                )
            raise
        headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        bucket_region = headers.get("x-amz-bucket-region") or response.get("BucketRegion")
        if bucket_region and bucket_region != setup.region:
            return Check(
                name,
                FAIL,
                f"s3://{bucket} is in {bucket_region}, the jobs run in {setup.region}",
                f"use a bucket in {setup.region} (SageMaker jobs read and write S3 in their own region)",
            )
        return Check(
            name,
            PASS,
            f"s3://{bucket}{which} exists{f' in {bucket_region}' if bucket_region else ''}; "
            f"code and outputs go under s3://{bucket}/{setup.settings.s3_prefix}/ (writes not tried)",
        )

    return _aws_call(name, head_bucket, "s3:ListBucket")


def _loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _http_get(url: str) -> int:
    """The HTTP status of a GET of `url` (MLflow's own token or basic credentials sent, if set); raises OSError."""
    headers = {"User-Agent": "mlops-aws-check"}
    if os.environ.get("MLFLOW_TRACKING_TOKEN"):
        headers["Authorization"] = f"Bearer {os.environ['MLFLOW_TRACKING_TOKEN']}"
    elif os.environ.get("MLFLOW_TRACKING_USERNAME"):
        pair = f"{os.environ['MLFLOW_TRACKING_USERNAME']}:{os.environ.get('MLFLOW_TRACKING_PASSWORD', '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - the scheme is checked to be http(s)
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _check_mlflow_server(uri: str) -> Check:
    name = "mlflow"
    parsed = urllib.parse.urlsplit(uri)
    if not parsed.hostname:
        return Check(name, FAIL, f"{uri} has no host", "set MLFLOW_TRACKING_URI to http(s)://<host>[:port]")
    base = uri.rstrip("/")
    try:
        status = _http_get(f"{base}/health")
        probe = "/health"
        if status == 404:  # behind a proxy that does not pass /health: ask the tracking API itself
            status = _http_get(f"{base}/api/2.0/mlflow/experiments/search?max_results=1")
            probe = "the experiments API"
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Check(
            name,
            FAIL,
            f"{uri} did not answer within {HTTP_TIMEOUT_S:g} s: {reason}",
            "check that the server runs and that this machine and the SageMaker jobs' network can reach it",
        )
    if status in (401, 403):
        return Check(
            name,
            FAIL,
            f"{uri} refused the request (HTTP {status})",
            "set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD",
        )
    if status != 200:
        return Check(name, FAIL, f"{uri} answered HTTP {status} to {probe}", "check that it is an MLflow server")
    if _loopback(parsed.hostname):
        return Check(
            name,
            FAIL,
            f"{uri} answers here, but it is a loopback address: SageMaker jobs cannot reach it",
            "run the server where the jobs can reach it, or use a SageMaker managed MLflow tracking server ARN",
        )
    return Check(name, PASS, f"{uri} answered {probe}")


def _check_mlflow_arn(uri: str, caller: Caller | None) -> Check:
    name = "mlflow"
    match = MLFLOW_ARN_RE.match(uri)
    if not match:
        return Check(
            name,
            FAIL,
            f"{uri} is not a SageMaker MLflow ARN",
            "arn:aws:sagemaker:<region>:<account>:mlflow-tracking-server/<name>",
        )
    if match["kind"] == "mlflow-app":
        return Check(
            name, SKIPPED, f"{uri} is an MLflow App: not checked (the policies in {POLICY_DIR}/ cover tracking servers)"
        )
    if caller is None:
        return Check(name, SKIPPED, f"{uri}: no AWS identity to describe it with (see the caller check)")

    def describe() -> Check:
        from botocore.exceptions import ClientError

        try:
            server = _client("sagemaker", match["region"]).describe_mlflow_tracking_server(
                TrackingServerName=match["name"]
            )
        except ClientError as exc:
            code, message = _error(exc)
            if _not_implemented(exc):
                return Check(name, SKIPPED, f"{uri}: the endpoint does not implement DescribeMlflowTrackingServer")
            if code in ("ResourceNotFound", "ValidationException"):
                return Check(name, FAIL, f"{uri}: {message or code}", "create the tracking server, or fix the ARN")
            raise
        status, active = server.get("TrackingServerStatus", ""), server.get("IsActive", "Active")
        if status not in SERVING_TRACKING_SERVER_STATES or active != "Active":
            return Check(
                name,
                FAIL,
                f"tracking server {match['name']} is {status} ({active})",
                f"start it: aws sagemaker start-mlflow-tracking-server --tracking-server-name {match['name']}",
            )
        return Check(name, PASS, f"tracking server {match['name']} is {status}, {server.get('TrackingServerUrl', '')}")

    return _aws_call(name, describe, "sagemaker:DescribeMlflowTrackingServer")


def check_tracking_uri(explicit: str | None, caller: Caller | None) -> Check:
    """The MLflow tracking URI as SageMaker jobs will use it: a reachable server or a running managed one."""
    uri = tracking_uri(explicit or None)
    scheme = urllib.parse.urlsplit(uri).scheme.lower()
    if scheme in ("http", "https"):
        return _check_mlflow_server(uri)
    if uri.startswith("arn:"):
        return _check_mlflow_arn(uri, caller)
    if scheme in ("", "sqlite", "file"):
        unset = "" if explicit else " (the local default: MLFLOW_TRACKING_URI is not set)"
        return Check(
            "mlflow",
            FAIL,
            f"{uri}{unset} is a local store: SageMaker jobs cannot reach it",
            "set MLFLOW_TRACKING_URI to an http(s) MLflow server or a SageMaker MLflow tracking server ARN",
        )
    return Check("mlflow", SKIPPED, f"{uri}: a {scheme}: tracking URI is not checked")


def check_image(uri: str, setup: AwsSetup, caller: Caller) -> Check:
    """ecr:DescribeImages: the image exists in ECR, in the jobs' region."""
    name = "image"
    parts = parse_image_uri(uri)
    if parts["region"] != setup.region:
        return Check(
            name,
            FAIL,
            f"{uri} is in {parts['region']}, the jobs run in {setup.region}",
            f"push it to ECR in {setup.region}",
        )
    image_id = {"imageDigest": parts["digest"]} if "digest" in parts else {"imageTag": parts["tag"]}

    def describe() -> Check:
        from botocore.exceptions import ClientError

        try:
            found = _client("ecr", setup.region).describe_images(
                registryId=parts["account"], repositoryName=parts["repository"], imageIds=[image_id]
            )["imageDetails"][0]
        except ClientError as exc:
            code, message = _error(exc)
            if code in ("ImageNotFoundException", "RepositoryNotFoundException"):
                return Check(name, FAIL, f"{uri}: {message or code}", f"build and push it: docker push {uri}")
            if _denied(exc) and parts["account"] != caller.account:
                return Check(
                    name,
                    SKIPPED,
                    f"{uri}: account {parts['account']}'s registry does not let this caller describe it",
                )
            raise
        digest, size_mb = found.get("imageDigest", "?")[:19], found.get("imageSizeInBytes", 0) / 1e6
        return Check(
            name, PASS, f"{uri} exists: {digest}..., {size_mb:.0f} MB, pushed {found.get('imagePushedAt', '?')}"
        )

    return _aws_call(name, describe, "ecr:DescribeImages")


# ---------------------------------------------------------------------------------------------- permissions


@dataclass(frozen=True)
class KeyAction:
    """An IAM action on one resource, with the request context IAM would see (for a simulation)."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


def key_actions(purpose: str, setup: AwsSetup, caller: Caller) -> list[KeyAction]:
    """The actions a principal must be allowed for `purpose` (pipeline, endpoint, execution-role), on their ARNs."""
    partition, region, account = caller.partition, setup.region, caller.account
    bucket = setup.bucket(caller)
    prefix = f"arn:{partition}:s3:::{bucket}/{setup.settings.s3_prefix}"
    sagemaker = f"arn:{partition}:sagemaker:{region}:{account}"
    pass_role = (("iam:PassedToService", SAGEMAKER_SERVICE),)
    role = setup.role_arn or ""
    if purpose == "pipeline":
        pipeline = f"{sagemaker}:pipeline/{setup.settings.pipeline_name.lower()}"
        return [
            KeyAction("s3:ListBucket", f"arn:{partition}:s3:::{bucket}"),
            KeyAction("s3:PutObject", f"{prefix}/{setup.settings.pipeline_name}/code/sourcedir.tar.gz"),
            KeyAction("sagemaker:CreatePipeline", pipeline),
            KeyAction("sagemaker:UpdatePipeline", pipeline),
            KeyAction("sagemaker:StartPipelineExecution", pipeline),
            KeyAction("iam:PassRole", role, pass_role),
        ]
    if purpose == "endpoint":
        endpoint = (setup.endpoint or "").lower()
        return [
            KeyAction("s3:PutObject", f"{prefix}/models/files/0/model.tar.gz"),
            KeyAction("sagemaker:CreateModel", f"{sagemaker}:model/{endpoint}-champion-0"),
            KeyAction("sagemaker:CreateEndpointConfig", f"{sagemaker}:endpoint-config/{endpoint}-0"),
            KeyAction("sagemaker:CreateEndpoint", f"{sagemaker}:endpoint/{endpoint}"),
            KeyAction("sagemaker:UpdateEndpoint", f"{sagemaker}:endpoint/{endpoint}"),
            KeyAction("sagemaker:UpdateEndpointWeightsAndCapacities", f"{sagemaker}:endpoint/{endpoint}"),
            KeyAction("sagemaker:AddTags", f"{sagemaker}:endpoint/{endpoint}"),  # its change history
            KeyAction("sagemaker:InvokeEndpoint", f"{sagemaker}:endpoint/{endpoint}"),
            KeyAction("application-autoscaling:RegisterScalableTarget", "*"),
            KeyAction("iam:PassRole", role, pass_role),
        ]
    if purpose == "execution-role":
        return [
            KeyAction("s3:GetObject", f"{prefix}/{setup.settings.pipeline_name}/code/sourcedir.tar.gz"),
            KeyAction("s3:PutObject", f"{prefix}/{setup.settings.pipeline_name}/training/model.tar.gz"),
            KeyAction("sagemaker:CreateProcessingJob", f"{sagemaker}:processing-job/pipelines-0-prepare"),
            KeyAction("sagemaker:CreateTrainingJob", f"{sagemaker}:training-job/pipelines-0-train"),
            KeyAction("iam:PassRole", role, pass_role),
            KeyAction("ecr:GetAuthorizationToken", "*"),
            KeyAction(
                "logs:PutLogEvents",
                f"arn:{partition}:logs:{region}:{account}:log-group:/aws/sagemaker/TrainingJobs:log-stream:0",
            ),
        ]
    raise MlopsError(f"unknown simulation {purpose!r}", hint=f"one of: {', '.join(SIMULATIONS)}")


def check_permissions(purpose: str, setup: AwsSetup, caller: Caller) -> Check:
    """iam:SimulatePrincipalPolicy on the key actions of `purpose`: which of them IAM would deny."""
    name = f"permissions: {purpose}"
    principal = setup.role_arn if purpose == "execution-role" else caller.principal_arn
    policy_file = {"pipeline": "caller.json", "endpoint": "deployer.json", "execution-role": "execution-role.json"}
    if principal is None:
        return Check(name, SKIPPED, f"{caller.arn} is not a user or role: IAM cannot simulate it")

    def simulate() -> Check:
        iam = _client("iam", DEFAULT_REGION)
        denied = []
        actions = key_actions(purpose, setup, caller)
        for key in actions:
            request: dict[str, Any] = {
                "PolicySourceArn": principal,
                "ActionNames": [key.action],
                "ResourceArns": [key.resource],
            }
            if key.context:
                request["ContextEntries"] = [
                    {"ContextKeyName": k, "ContextKeyValues": [v], "ContextKeyType": "string"} for k, v in key.context
                ]
            try:
                results = iam.simulate_principal_policy(**request)["EvaluationResults"]
            except _aws_errors() as exc:
                if _not_implemented(exc):
                    return Check(name, SKIPPED, "the IAM endpoint does not implement SimulatePrincipalPolicy")
                if _denied(exc):
                    return Check(
                        name,
                        SKIPPED,
                        f"this caller may not call iam:SimulatePrincipalPolicy on {principal}",
                        "grant it to check permissions here, or review the policy by hand",
                    )
                if _error(exc)[0] == "NoSuchEntity":
                    return Check(name, SKIPPED, f"IAM does not know {principal} (a role with a path?)")
                raise
            if any(r.get("EvalDecision") != "allowed" for r in results):
                denied.append(f"{key.action} on {key.resource}")
        if denied:
            return Check(
                name,
                FAIL,
                f"{principal} is denied {len(denied)} of {len(actions)} key actions: {'; '.join(denied)}",
                f"attach {POLICY_DIR}/{policy_file[purpose]} (with your names filled in)",
            )
        return Check(name, PASS, f"{principal} is allowed all {len(actions)} key actions")

    return _aws_call(name, simulate, "iam:SimulatePrincipalPolicy")


# ---------------------------------------------------------------------------------------------- all of them


def run_checks(setup: AwsSetup) -> list[Check]:
    """Run every check of `setup`, in order; checks that need an AWS identity are skipped without one."""
    return list(_checks(setup))


def _checks(setup: AwsSetup) -> Iterator[Check]:
    identity, caller = check_caller(setup.region)
    yield identity
    no_identity = "needs an AWS identity (see the caller check)"
    yield check_role(setup.role_arn, caller) if caller else Check("role", SKIPPED, no_identity)
    yield check_bucket(setup, caller) if caller else Check("bucket", SKIPPED, no_identity)
    yield check_tracking_uri(setup.tracking_uri, caller)
    if not setup.images:
        yield Check("images", SKIPPED, "no --image given (nor MLOPS_SERVING_IMAGE)")
    for image in setup.images:
        yield check_image(image, setup, caller) if caller else Check("image", SKIPPED, f"{image}: {no_identity}")
    if not setup.simulate:
        yield Check("permissions", SKIPPED, f"not simulated (--simulate {'/'.join(SIMULATIONS)})")
    for purpose in setup.simulate:
        yield (
            check_permissions(purpose, setup, caller)
            if caller
            else Check(f"permissions: {purpose}", SKIPPED, no_identity)
        )


def summary(checks: Sequence[Check]) -> dict[str, Any]:
    """The checks as one JSON-ready document: ok (no failure), counts per status and every check."""
    counts = {status: sum(c.status == status for c in checks) for status in (PASS, FAIL, SKIPPED)}
    return {"ok": counts[FAIL] == 0, "counts": counts, "checks": [c.to_dict() for c in checks]}


def render(checks: Sequence[Check]) -> str:
    """One line per check (status, name, detail), a `fix:` line under each failure, and the counts."""
    width = max((len(c.name) for c in checks), default=0)
    lines = []
    for check in checks:
        lines.append(f"{check.status:<8} {check.name:<{width}}  {check.detail}")
        if check.hint and check.status == FAIL:
            lines.append(f"{'':<8} {'':<{width}}  fix: {check.hint}")
    counts = summary(checks)["counts"]
    lines.append(f"{counts[PASS]} passed, {counts[FAIL]} failed, {counts[SKIPPED]} skipped")
    return "\n".join(lines)
