"""The IAM policy documents of docs/aws/iam/, and a small evaluator of them for the tests.

`load_policies` fills the placeholders (`<ACCOUNT_ID>`, `<BUCKET>`, ...) with the test's names. `allowing` decides
like IAM does for identity policies, within what these documents use: an explicit Deny wins; an Allow needs the
action (wildcards, case-insensitive), the resource (wildcards, case-sensitive) and every condition to match
(StringEquals, StringLike, ArnLike and ArnEquals; a condition on a key the request lacks does not match). Any other
operator fails the test, so the evaluator is never more generous than IAM.

`Recorder` is a botocore event hook that records every API call a client makes, with its parameters; `Enforcer`
also refuses, with AccessDenied, the calls the acting principal's policy does not allow. `needs` turns calls into
the IAM actions and resources they require: the call's own action (`OPERATION_ACTIONS` for the operations whose
action is named otherwise) and what AWS checks on top of it (`implied`). `execution_role_needs` and
`endpoint_role_needs` derive what SageMaker does as the roles from the requests that set it to work.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pipelines.images import TRAINING_REPOSITORY
from pipelines.steps.contract import HF_TOKEN_SECRET_ENV
from tests.conftest import ROOT

POLICY_DIR = ROOT / "docs" / "aws" / "iam"
ACCOUNT = "123456789012"  # moto's account
REGION = "us-east-1"
NAMES = {
    "ACCOUNT_ID": ACCOUNT,
    "REGION": REGION,
    "BUCKET": "intent-mlops-iam-tests",
    "PREFIX": "intent-mlops",
    "PIPELINE": "intent-classifier",
    "EXECUTION_ROLE": "intent-sagemaker-execution",
    "ENDPOINT_ROLE": "intent-sagemaker-endpoint",
    "ENDPOINT_PREFIX": "intent-",
    "TRACKING_SERVER": "intent-mlflow",
    "HF_TOKEN_SECRET": "intent-mlops/hf-token",
    "TRAINING_REPOSITORY": TRAINING_REPOSITORY,  # the image policy "project" names it (pipelines/images.py)
    "SERVING_REPOSITORY": "intent-serve",
}
PLACEHOLDER = re.compile(r"<([A-Z_]+)>")
SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"
# The IAM service prefix of each botocore service the code uses (most are the service name).
IAM_PREFIX = {
    "s3": "s3",
    "sts": "sts",
    "iam": "iam",
    "ecr": "ecr",
    "sagemaker": "sagemaker",
    "sagemaker-runtime": "sagemaker",
    "application-autoscaling": "application-autoscaling",
    "cloudwatch": "cloudwatch",
    "logs": "logs",
    "secretsmanager": "secretsmanager",
}
# Operations authorised by an action of another name (AWS's Service Authorization Reference).
OPERATION_ACTIONS = {
    ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "ListObjects"): "s3:ListBucket",
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "CreateMultipartUpload"): "s3:PutObject",
    ("s3", "UploadPart"): "s3:PutObject",
    ("s3", "CompleteMultipartUpload"): "s3:PutObject",
    ("s3", "AbortMultipartUpload"): "s3:AbortMultipartUpload",
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
}
S3_BUCKET_OPERATIONS = {"HeadBucket", "ListObjectsV2", "ListObjects", "CreateBucket", "GetBucketLocation"}


def render(text: str, names: dict[str, str] = NAMES) -> str:
    """The policy text with its placeholders filled in; an unknown placeholder fails."""

    def fill(match: re.Match[str]) -> str:
        assert match[1] in names, f"unknown placeholder <{match[1]}>"
        return names[match[1]]

    return PLACEHOLDER.sub(fill, text)


def load_policies(names: dict[str, str] = NAMES) -> dict[str, dict[str, Any]]:
    """Every policy document of docs/aws/iam/, by file stem, with the placeholders filled in."""
    return {path.stem: json.loads(render(path.read_text(), names)) for path in sorted(POLICY_DIR.glob("*.json"))}


def _as_list(value: Any) -> list[Any]:
    return [value] if isinstance(value, str | dict) else list(value)


def statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements of a policy document, as a list."""
    return _as_list(policy["Statement"])


def _wildcard(pattern: str, value: str, *, case: bool) -> bool:
    """IAM's wildcards: * any run of characters, ? one character; nothing else is special."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, 0 if case else re.IGNORECASE) is not None


def _condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, pairs in condition.items():
        if operator not in ("StringEquals", "StringLike", "ArnLike", "ArnEquals"):
            raise AssertionError(f"the test's evaluator does not know the condition operator {operator}")
        for key, expected in pairs.items():
            value = context.get(key)
            if value is None:
                return False
            patterns = _as_list(expected)
            if operator == "StringEquals":
                matched = value in patterns
            else:
                matched = any(_wildcard(p, value, case=True) for p in patterns)
            if not matched:
                return False
    return True


def _statement_matches(statement: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> bool:
    if not any(_wildcard(p, action, case=False) for p in _as_list(statement.get("Action", []))):
        return False
    if not any(_wildcard(p, resource, case=True) for p in _as_list(statement.get("Resource", []))):
        return False
    return _condition_holds(statement.get("Condition", {}), context)


def allowing(policy: dict[str, Any], action: str, resource: str, context: dict[str, str] | None = None) -> list[str]:
    """The Sids of the statements that allow `action` on `resource`; empty when none does or a Deny matches."""
    context = context or {}
    found = []
    for statement in statements(policy):
        if _statement_matches(statement, action, resource, context):
            if statement["Effect"] == "Deny":
                return []
            found.append(statement.get("Sid", "?"))
    return found


@dataclass(frozen=True)
class Need:
    """An IAM action on a resource that some call (or a fact of AWS) requires, and why."""

    action: str
    resource: str
    why: str
    context: tuple[tuple[str, str], ...] = ()


@dataclass
class Call:
    """One recorded API call: botocore's service name, the operation and its parameters (bodies left out)."""

    service: str
    operation: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.service}:{self.operation}"


class Recorder:
    """A botocore `before-parameter-build.*.*` hook: records every call of the clients it is registered on."""

    def __init__(self) -> None:
        self.calls: list[Call] = []

    def __call__(self, params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        kept = {k: copy.deepcopy(v) for k, v in params.items() if k not in ("Body", "Fileobj")}
        self.calls.append(Call(model.service_model.service_name, model.name, kept))


def action_of(call: Call) -> str:
    """The IAM action that authorises a call."""
    assert call.service in IAM_PREFIX, f"{call}: add the service's IAM prefix to IAM_PREFIX"
    return OPERATION_ACTIONS.get((call.service, call.operation), f"{IAM_PREFIX[call.service]}:{call.operation}")


def _sagemaker_arn(kind: str, name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:{kind}/{name.lower()}"


def resources_of(call: Call) -> list[str]:
    """The ARNs a call acts on, as IAM sees them ("*" for an action without resource-level permissions)."""
    p = call.params
    if call.service == "s3":
        if "Bucket" not in p:
            return ["*"]
        if call.operation in S3_BUCKET_OPERATIONS or "Key" not in p:
            return [f"arn:aws:s3:::{p['Bucket']}"]
        return [f"arn:aws:s3:::{p['Bucket']}/{p['Key']}"]
    if call.service in ("sagemaker", "sagemaker-runtime"):
        named = {
            "PipelineName": "pipeline",
            "EndpointName": "endpoint",
            "EndpointConfigName": "endpoint-config",
            "ModelName": "model",
            "TrackingServerName": "mlflow-tracking-server",
        }
        arns = [_sagemaker_arn(kind, p[key]) for key, kind in named.items() if isinstance(p.get(key), str)]
        if "ResourceArn" in p:
            arns.append(p["ResourceArn"])
        if "PipelineExecutionArn" in p:
            arns.append(p["PipelineExecutionArn"].split("/execution/")[0])  # authorised on the pipeline
        return arns or ["*"]
    if call.service == "iam":
        if "RoleName" in p:
            return [f"arn:aws:iam::{ACCOUNT}:role/{p['RoleName']}"]
        if "PolicySourceArn" in p:
            return [p["PolicySourceArn"]]
    if call.service == "ecr" and "repositoryName" in p:
        return [f"arn:aws:ecr:{REGION}:{p.get('registryId', ACCOUNT)}:repository/{p['repositoryName']}"]
    if call.service == "cloudwatch" and "AlarmName" in p:
        return [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{p['AlarmName']}"]
    return ["*"]


def implied(call: Call) -> Iterator[Need]:
    """The actions AWS checks on top of a call's own: passing a role, tagging on create, what autoscaling does."""
    p = call.params
    pass_role = (("iam:PassedToService", SAGEMAKER_SERVICE),)
    for key in ("RoleArn", "ExecutionRoleArn"):
        if call.service == "sagemaker" and call.operation.startswith(("Create", "Update")) and key in p:
            yield Need("iam:PassRole", p[key], f"{call} passes the role {key}", pass_role)
    if call.service == "sagemaker" and call.operation.startswith("Create") and p.get("Tags"):
        for arn in resources_of(call):
            yield Need("sagemaker:AddTags", arn, f"{call} tags what it creates")
    if call.service == "application-autoscaling":
        endpoint, variant = p.get("ResourceId", "endpoint//variant/").split("/")[1::2]
        if call.operation == "RegisterScalableTarget":
            # Application Auto Scaling checks the caller may scale the variant, and creates its service-linked role.
            for action in ("DescribeEndpoint", "UpdateEndpointWeightsAndCapacities"):
                yield Need(f"sagemaker:{action}", _sagemaker_arn("endpoint", endpoint), f"{call} on the variant")
            config = _sagemaker_arn("endpoint-config", f"{endpoint}-x")  # the deployer names configs <endpoint>-...
            yield Need("sagemaker:DescribeEndpointConfig", config, f"{call} on the variant")
            slr = (
                f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
                "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
            )
            service = (("iam:AWSServiceName", "sagemaker.application-autoscaling.amazonaws.com"),)
            yield Need("iam:CreateServiceLinkedRole", slr, f"{call}, the first time in an account", service)
        alarm = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:TargetTracking-endpoint/{endpoint}/variant/{variant}-x"
        if call.operation == "PutScalingPolicy":
            yield Need("cloudwatch:PutMetricAlarm", alarm, f"{call} creates target-tracking alarms")
            yield Need("cloudwatch:DescribeAlarms", "*", f"{call} creates target-tracking alarms")
        if call.operation in ("DeleteScalingPolicy", "DeregisterScalableTarget"):
            yield Need("cloudwatch:DeleteAlarms", alarm, f"{call} deletes its target-tracking alarms")
            yield Need("cloudwatch:DescribeAlarms", "*", f"{call} deletes its target-tracking alarms")


def needs(calls: Iterable[Call]) -> list[Need]:
    """Every action, with its resource, that the calls need: their own and the implied ones."""
    out: list[Need] = []
    for call in calls:
        action = action_of(call)
        out += [Need(action, resource, str(call)) for resource in resources_of(call)]
        out += list(implied(call))
    return list(dict.fromkeys(out))


def denied(policy: dict[str, Any], wanted: Iterable[Need]) -> list[str]:
    """The needs the policy does not allow, each as 'action on resource (why)'."""
    return [
        f"{n.action} on {n.resource} ({n.why})"
        for n in wanted
        if not allowing(policy, n.action, n.resource, dict(n.context))
    ]


def unused_statements(policy: dict[str, Any], wanted: Iterable[Need]) -> list[str]:
    """The Sids of the statements no need uses: each could go without anything the code does being denied."""
    used = {sid for n in wanted for sid in allowing(policy, n.action, n.resource, dict(n.context))}
    return [s["Sid"] for s in statements(policy) if s["Effect"] == "Allow" and s["Sid"] not in used]


class Enforcer(Recorder):
    """A Recorder that also denies, as IAM would, every call the acting principal's policy does not allow.

    Denied calls raise AccessDenied (what AWS answers) after being recorded in `denied_calls`, so the flows take
    the path they would take on AWS under exactly these policies.
    """

    def __init__(self, policies: dict[str, dict[str, Any]]) -> None:
        super().__init__()
        self.policies = policies
        self.principal = ""
        self.denied_calls: list[str] = []

    def __call__(self, params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        from botocore.exceptions import ClientError

        super().__call__(params, model, **kwargs)
        call = self.calls[-1]
        refused = denied(self.policies[self.principal], needs([call]))
        if refused:
            self.denied_calls.append(str(call))
            code = "AccessDenied" if call.service in ("s3", "iam", "sts") else "AccessDeniedException"
            message = f"{self.principal} is not authorized: {'; '.join(refused)}"
            raise ClientError({"Error": {"Code": code, "Message": message}}, model.name)


def _resolve(value: Any, known: dict[str, str]) -> str:
    """A pipeline expression as a string: parameters and step properties by their value, the rest as 'x'."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Get" in value:
        return known.get(str(value["Get"]), "x")
    if isinstance(value, dict) and "Std:Join" in value:
        join = value["Std:Join"]
        return str(join["On"]).join(_resolve(v, known) for v in join["Values"])
    return "x"


def _object_arn(uri: str) -> str:
    """The ARN of an object under an s3:// URI (the URI itself when it names a file, else a key below it)."""
    path = uri.removeprefix("s3://")
    if path.endswith("/") or "." not in path.rsplit("/", 1)[-1]:
        path = path.rstrip("/") + "/x"
    return f"arn:aws:s3:::{path}"


def _steps(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for step in steps:
        yield step
        if step["Type"] == "Condition":
            yield from _steps(step["Arguments"]["IfSteps"])
            yield from _steps(step["Arguments"]["ElseSteps"])


def _image_repository(uri: str) -> str:
    from pipelines.aws_check import parse_image_uri

    image = parse_image_uri(uri)
    return f"arn:aws:ecr:{image['region']}:{image['account']}:repository/{image['repository']}"


def execution_role_needs(definition: dict[str, Any], started: dict[str, str]) -> Iterator[Need]:
    """What SageMaker does as the execution role to run the pipeline that CreatePipeline sent, as it was started."""
    known = {f"Parameters.{p['Name']}": str(p.get("DefaultValue", "x")) for p in definition.get("Parameters", [])}
    known.update({f"Parameters.{name}": value for name, value in started.items()})
    pass_role = (("iam:PassedToService", SAGEMAKER_SERVICE),)
    jobs = {"Processing": "processing-job", "Training": "training-job"}
    steps = [s for s in _steps(definition["Steps"]) if s["Type"] in jobs]
    for step in steps:  # first the outputs: later steps read them through step properties
        arguments, name = step["Arguments"], step["Name"]
        for output in arguments.get("ProcessingOutputConfig", {}).get("Outputs", []):
            uri = _resolve(output["S3Output"]["S3Uri"], known)
            known[f"Steps.{name}.ProcessingOutputConfig.Outputs['{output['OutputName']}'].S3Output.S3Uri"] = uri
        if "OutputDataConfig" in arguments:
            path = _resolve(arguments["OutputDataConfig"]["S3OutputPath"], known)
            known[f"Steps.{name}.OutputDataConfig.S3OutputPath"] = path
            known[f"Steps.{name}.ModelArtifacts.S3ModelArtifacts"] = f"{path}/x/output/model.tar.gz"
    for step in steps:
        kind, arguments = step["Type"], step["Arguments"]
        why = f"pipeline step {step['Name']} ({kind})"
        job = _sagemaker_arn(jobs[kind], f"pipelines-x-{step['Name']}-x")
        for verb in ("Create", "Describe", "Stop"):
            yield Need(f"sagemaker:{verb}{kind}Job", job, why)
        yield Need("sagemaker:AddTags", job, f"{why}: the pipeline tags its jobs")
        yield Need("iam:PassRole", arguments["RoleArn"], f"{why} runs as the role", pass_role)
        image = _resolve(
            arguments.get("AppSpecification", {}).get("ImageUri")
            or arguments["AlgorithmSpecification"]["TrainingImage"],
            known,
        )
        for action in ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"):
            yield Need(action, _image_repository(image), f"{why} pulls {image}")
        inputs = [i["S3Input"]["S3Uri"] for i in arguments.get("ProcessingInputs", [])]
        inputs += [c["DataSource"]["S3DataSource"]["S3Uri"] for c in arguments.get("InputDataConfig", [])]
        outputs = [o["S3Output"]["S3Uri"] for o in arguments.get("ProcessingOutputConfig", {}).get("Outputs", [])]
        if "OutputDataConfig" in arguments:
            outputs.append(arguments["OutputDataConfig"]["S3OutputPath"])
        for uri in (_resolve(v, known) for v in inputs):
            bucket = uri.removeprefix("s3://").split("/")[0]
            yield Need("s3:ListBucket", f"arn:aws:s3:::{bucket}", f"{why} reads {uri}")
            yield Need("s3:GetObject", _object_arn(uri), f"{why} reads {uri}")
        for uri in (_resolve(v, known) for v in outputs):
            yield Need("s3:PutObject", _object_arn(uri), f"{why} writes {uri}")
        secret = _resolve(arguments.get("Environment", {}).get(HF_TOKEN_SECRET_ENV, ""), known)
        if secret:  # the train step reads the Hugging Face token from Secrets Manager (pipelines/steps/train.py)
            arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret}-AbCdEf"  # AWS appends 6 characters
            yield Need("secretsmanager:GetSecretValue", arn, f"{why} reads the Hugging Face token {secret}")


def endpoint_role_needs(calls: Iterable[Call]) -> Iterator[Need]:
    """What SageMaker does as the endpoint's role for the models and configs the deployer created."""
    for call in calls:
        if str(call) == "sagemaker:CreateModel":
            container = call.params["PrimaryContainer"]
            why = f"model {call.params['ModelName']}"
            yield Need("s3:GetObject", _object_arn(container["ModelDataUrl"]), f"{why} loads its package")
            for action in ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"):
                yield Need(action, _image_repository(container["Image"]), f"{why} pulls its image")
        if str(call) == "sagemaker:CreateEndpointConfig" and "DataCaptureConfig" in call.params:
            uri = call.params["DataCaptureConfig"]["DestinationS3Uri"]
            yield Need(
                "s3:PutObject", _object_arn(uri), f"config {call.params['EndpointConfigName']} captures to {uri}"
            )
