"""The IAM policies of docs/aws/iam/: well-formed, and they allow every AWS operation the code makes and little else.

The flows run in this process against the moto server, as a user runs them: `mlops pipeline definition --online`,
`upsert` (create, then update) and `start` as the pipeline caller; `mlops endpoint deploy` (one refused by
SageMaker, one that succeeds), `shift` (at once and stepwise), `report`, `promote` (with guardrails), `rollback` and
`status` as the deployer; `mlops aws check` as each of them. A botocore event hook on every client records each
call and enforces the acting principal's policy, as IAM would (tests/iam_policies.py): a call that the policy does
not allow, itself or what AWS checks on top of it (passing a role, tagging on create, what Application Auto
Scaling does for the caller), gets AccessDenied. So the commands must succeed under exactly these policies, and
the only denials allowed are the ones listed in TOLERATED_DENIALS, which the code handles.

The roles are not callers: what SageMaker does as them is derived from what the code asks of it (the definition
that CreatePipeline sends and the parameters it is started with; the models and data capture that CreateModel and
CreateEndpointConfig set up), plus DOCUMENTED needs, each with its reason. Every Action and Resource entry of every
policy must be needed: taking any one of them out must deny something (the automated form of a mutation check),
unless WITHOUT_A_RECORDED_USE says why it stays.

moto has no UpdateEndpoint: as in tests/inference/deploy/test_endpoints_moto.py, the request is recorded (and
enforced), then replayed on moto as DeleteEndpoint + CreateEndpoint by a client of its own. moto's InvokeEndpoint
answers a canned string, so the report's sample gets its predictions from a `before-call` hook.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from click.testing import CliRunner

from inference.deploy.history import HISTORY_LIMIT
from ml.taxonomy import INTENTS
from tests.iam_policies import (
    ACCOUNT,
    NAMES,
    POLICY_DIR,
    REGION,
    SAGEMAKER_SERVICE,
    Call,
    Enforcer,
    Need,
    denied,
    endpoint_role_needs,
    execution_role_needs,
    load_policies,
    needs,
    render,
    statements,
)
from tests.inference.deploy.test_endpoints_moto import UpdateEndpointReplay

BUCKET, PREFIX = NAMES["BUCKET"], NAMES["PREFIX"]
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/{NAMES['EXECUTION_ROLE']}"
ENDPOINT_ROLE = f"arn:aws:iam::{ACCOUNT}:role/{NAMES['ENDPOINT_ROLE']}"
SERVING_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{NAMES['SERVING_REPOSITORY']}:1.0"
ENDPOINT = f"{NAMES['ENDPOINT_PREFIX']}ab"
TRACKING_SERVER = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:mlflow-tracking-server/{NAMES['TRACKING_SERVER']}"
DATA_URI = f"s3://{BUCKET}/{PREFIX}/dvc/files/md5/3f/2a9c"  # the DVC remote's copy (README: the remote's URL)
IDENTITY_POLICIES = ("caller", "deployer", "execution-role", "endpoint-role")
TRUST_POLICIES = ("execution-role-trust", "endpoint-role-trust")
FLOWS = {"pipeline": "caller", "endpoint": "deployer", "check as caller": "caller", "check as deployer": "deployer"}

# Calls the code makes that the policies deny on purpose, and why that is fine.
TOLERATED_DENIALS = {
    "s3:ListBuckets": "the SageMaker SDK's default_bucket() reads Bucket.creation_date, which lists every bucket of "
    "the account; boto3 swallows the AccessDenied and the SDK then checks the bucket with ListObjectsV2 "
    "(s3:ListBucket on the one bucket), so s3:ListAllMyBuckets is not granted",
}

_LOGS = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/sagemaker"


def _mlflow(why: str, *actions: str) -> list[Need]:
    return [Need(f"sagemaker-mlflow:{a}", TRACKING_SERVER, why) for a in actions]


def _job_runtime(kind: str) -> list[Need]:
    """What a SageMaker job or endpoint does as its role, whatever it runs (SageMaker's execution-role docs)."""
    group = f"{_LOGS}/{kind}"
    namespace = (("cloudwatch:namespace", f"/aws/sagemaker/{kind.split('/')[0]}"),)
    return [
        Need("ecr:GetAuthorizationToken", "*", f"{kind}: log in to ECR to pull the image"),
        Need("logs:CreateLogGroup", group, f"{kind}: container logs"),
        Need("logs:CreateLogStream", f"{group}:log-stream:x", f"{kind}: container logs"),
        Need("logs:PutLogEvents", f"{group}:log-stream:x", f"{kind}: container logs"),
        Need("logs:DescribeLogStreams", f"{group}:log-stream:x", f"{kind}: container logs"),
        Need("cloudwatch:PutMetricData", "*", f"{kind}: instance metrics", namespace),
    ]


# Needs no flow here can record, each with where it comes from.
DOCUMENTED: dict[str, list[Need]] = {
    "caller": [
        Need(
            f"s3:{verb}",
            f"arn:aws:s3:::{DATA_URI.removeprefix('s3://')}",
            "`mlops data push/pull -r storage` with the DVC remote at s3://<BUCKET>/<PREFIX>/dvc (README); DVC's "
            "s3fs clients are not the botocore clients this test hooks",
        )
        for verb in ("GetObject", "PutObject")
    ],
    "deployer": [
        Need(
            "sagemaker:DeleteEndpoint",
            f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{ENDPOINT}",
            "deploy replaces a Failed endpoint (EndpointManager._delete_and_wait); moto never fails one",
        ),
        Need(
            "s3:GetObject",
            f"arn:aws:s3:::{BUCKET}/{PREFIX}/mlflow/1/run/artifacts/package/model.tar.gz",
            "deploying a registry version downloads its package from the MLflow artifact store (docs/aws.md puts it "
            "at s3://<BUCKET>/<PREFIX>/mlflow)",
        ),
        *(
            Need(
                f"sagemaker:{verb}InferenceExperiment",
                f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:inference-experiment/{ENDPOINT}-shadow-20261203063000-000",
                "`mlops endpoint shadow start|report|stop` (inference.deploy.shadow, experiments named "
                "<endpoint>-shadow-<UTC time>); moto implements no inference experiments "
                "(tests/inference/deploy/test_shadow.py)",
            )
            for verb in ("Create", "Describe", "Start", "Stop")
        ),
        Need(
            "sagemaker:ListInferenceExperiments",
            "*",
            "finding an endpoint's shadow test lists the experiments (ListInferenceExperiments has no endpoint "
            "filter and no resource); moto implements none",
        ),
        *_mlflow(
            "deploy, promote and rollback read the registry (model_registry.queries, .promotion) with a SageMaker "
            "MLflow tracking URI",
            "GetRegisteredModel",
            "GetModelVersion",
            "GetModelVersionByAlias",
            "SearchModelVersions",
            "GetRun",
        ),
        *_mlflow(
            "promote and rollback move the champion alias and record it (model_registry.promotion)",
            "SetRegisteredModelAlias",
            "SetRegisteredModelTag",
            "SetModelVersionTag",
        ),
    ],
    "execution-role": [
        *_job_runtime("ProcessingJobs"),
        *_job_runtime("TrainingJobs"),
        Need(
            "s3:PutObject",
            f"arn:aws:s3:::{BUCKET}/{PREFIX}/mlflow/1/run/artifacts/model/model.onnx",
            "the register step logs the model to the MLflow artifact store (docs/aws.md: s3://<BUCKET>/<PREFIX>/mlflow)",
        ),
        *_mlflow(
            "the register step logs a run and registers a version (model_registry.registration)",
            "GetExperimentByName",
            "CreateExperiment",
            "CreateRun",
            "LogBatch",
            "LogInputs",
            "UpdateRun",
            "GetRun",
            "SearchModelVersions",
            "GetRegisteredModel",
            "CreateRegisteredModel",
            "CreateModelVersion",
            "SetModelVersionTag",
            "SetRegisteredModelAlias",
            "DeleteModelVersion",
        ),
    ],
    "endpoint-role": _job_runtime(f"Endpoints/{ENDPOINT}"),
}

# Statements (policy, Sid) that no flow or documented need uses in full, and why they stay.
WITHOUT_A_RECORDED_USE = {
    ("deployer", "OptionalPolicySimulation"): "a deployer that is a role (CI) simulates its own role (role/*); "
    "moto's caller is a user",
}


def _package(path: Path, marker: str) -> Path:
    """A small model.tar.gz: the deployer uploads it; moto never opens it."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        data = json.dumps({"model": marker}).encode()
        info = tarfile.TarInfo("metadata.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    path.mkdir(parents=True)
    (path / "model.tar.gz").write_bytes(gzip.compress(raw.getvalue()))
    return path / "model.tar.gz"


def _answer_invocations(params: dict[str, Any], **kwargs: Any) -> tuple[AWSResponse, dict[str, Any]]:
    """InvokeEndpoint as the serving container answers it: one prediction per input, from the pinned variant."""
    texts = json.loads(params["body"])["inputs"]
    variant = params["headers"].get("X-Amzn-SageMaker-Target-Variant", "champion")
    body = json.dumps({"predictions": [{"intent": INTENTS[0], "confidence": 0.9} for _ in texts]}).encode()
    parsed = {"Body": io.BytesIO(body), "ContentType": "application/json", "InvokedProductionVariant": variant}
    return AWSResponse(params["url"], 200, {}, None), parsed


def _setup_account(moto_server: str) -> None:
    """What an administrator creates once (docs/aws.md): the bucket, the two roles, the serving image."""
    s3 = boto3.client("s3", endpoint_url=moto_server, region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    iam = boto3.client("iam", endpoint_url=moto_server, region_name=REGION)
    for role, trust in (("EXECUTION_ROLE", "execution-role-trust"), ("ENDPOINT_ROLE", "endpoint-role-trust")):
        iam.create_role(
            RoleName=NAMES[role], AssumeRolePolicyDocument=render((POLICY_DIR / f"{trust}.json").read_text())
        )
    ecr = boto3.client("ecr", endpoint_url=moto_server, region_name=REGION)
    ecr.create_repository(repositoryName=NAMES["SERVING_REPOSITORY"])
    ecr.put_image(
        repositoryName=NAMES["SERVING_REPOSITORY"],
        imageManifest=json.dumps({"schemaVersion": 2, "config": {"digest": "sha256:" + "a" * 64}, "layers": []}),
        imageManifestMediaType="application/vnd.docker.distribution.manifest.v2+json",
        imageTag="1.0",
    )


def _mlops(*args: str, exit_code: int | None = 0) -> str:
    """Run `mlops ARGS` in this process (so the hooks see its clients); check its exit code unless None."""
    from mlops_cli.main import cli

    result = CliRunner().invoke(cli, list(args))
    if exit_code is not None:
        assert result.exit_code == exit_code, f"mlops {' '.join(args)} exited {result.exit_code}:\n{result.output}"
    return result.output


@dataclass
class Recorded:
    """The calls of each flow, and the calls the policies denied (by 'service:Operation')."""

    flows: dict[str, list[Call]]
    denied_calls: list[str]

    def needs_of(self, principal: str) -> list[Need]:
        """What the calls of `principal`'s flows need (calls denied on purpose left out)."""
        calls = [c for name, cs in self.flows.items() if FLOWS[name] == principal for c in cs]
        return needs(c for c in calls if str(c) not in TOLERATED_DENIALS)

    def calls(self, name: str) -> set[str]:
        """The operations of one flow, as 'service:Operation'."""
        return {str(c) for c in self.flows[name]}


@pytest.fixture(scope="module")
def recorded(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    """Every flow run under its principal's policy, its calls recorded."""
    tmp = tmp_path_factory.mktemp("iam-flows")
    _reset(moto_server)  # an account as an administrator leaves it (docs/aws.md), whatever ran before
    _setup_account(moto_server)
    replay = UpdateEndpointReplay(moto_server)  # its own client, created before the hook: its calls are not ours
    enforcer = Enforcer(load_policies())
    original = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        client.meta.events.register("before-parameter-build.*.*", enforcer)
        client.meta.events.register("before-call.sagemaker.UpdateEndpoint", replay)
        client.meta.events.register("before-call.sagemaker-runtime.InvokeEndpoint", _answer_invocations)
        return client

    def flow(name: str) -> None:
        enforcer.principal = FLOWS[name]
        enforcer.calls = flows.setdefault(name, [])

    inputs = tmp / "sample.jsonl"
    inputs.write_text("".join(json.dumps({"text": f"prompt {i}", "intent": INTENTS[0]}) + "\n" for i in range(3)))
    champion, challenger = _package(tmp / "one", "one"), _package(tmp / "two", "two")
    flows: dict[str, list[Call]] = {}
    with pytest.MonkeyPatch.context() as mp:
        for name, value in (("AWS_ENDPOINT_URL", moto_server), ("AWS_DEFAULT_REGION", REGION)):
            mp.setenv(name, value)
        mp.setenv("MLOPS_STATE_DIR", str(tmp / "state"))
        mp.delenv("AWS_PROFILE", raising=False)
        mp.setattr(botocore.session.Session, "create_client", create_client)

        flow("pipeline")
        location = ["--role", EXECUTION_ROLE, "--bucket", BUCKET, "--prefix", PREFIX, "--region", REGION]
        _mlops("pipeline", "definition", "--online", *location, "--out", str(tmp / "pipeline.json"))
        _mlops("pipeline", "upsert", *location, "--image-policy", "aws", "--json")  # with AWS's framework image
        _mlops("pipeline", "upsert", *location, "--json")  # updates it, with the project's own images
        # On a GPU instance (start reads the pipeline's image default to pick the GPU image), into the managed
        # MLflow, with a Hugging Face token for a gated model.
        started = ["-p", f"InputDataUri={DATA_URI}", "-p", "TrainingInstanceType=ml.g5.xlarge"]
        started += ["-p", f"HfTokenSecret={NAMES['HF_TOKEN_SECRET']}", "--tracking-uri", TRACKING_SERVER]
        _mlops("pipeline", "start", "--region", REGION, *started, "--json")

        flow("endpoint")
        deploy = [
            "deploy",
            "--image-uri",
            SERVING_IMAGE,
            "--role",
            ENDPOINT_ROLE,
            "--bucket",
            BUCKET,
            "--prefix",
            PREFIX,
        ]
        variants = ["--variant", f"champion={champion}", "--variant", f"challenger={challenger}"]
        refused = f"{NAMES['ENDPOINT_PREFIX']}refused"
        _mlops("endpoint", *deploy, refused, *variants, "--instance-type", "ml.nope.large", exit_code=1)
        capture = ["--data-capture", f"s3://{BUCKET}/{PREFIX}/capture/{ENDPOINT}"]
        _mlops(
            "endpoint",
            *deploy,
            ENDPOINT,
            *variants,
            "--weights",
            "champion=90,challenger=10",
            *capture,
            "--autoscale",
            "1:4:70",
        )
        # More shifts than the endpoint's history keeps: the oldest records are deleted (DeleteTags).
        for weight in range(30, 30 + HISTORY_LIMIT):
            _mlops("endpoint", "shift", ENDPOINT, "--weights", f"champion={weight}")
        _mlops("endpoint", "shift", ENDPOINT, "--weights", "champion=50,challenger=50")
        _mlops("endpoint", "history", ENDPOINT)
        _mlops("endpoint", "report", ENDPOINT, "--inputs", str(inputs), "--since-seconds", "600", "--json")
        # A blue/green update with guardrails (same variant names: AWS's rule), then promote and its rollback.
        _mlops("endpoint", *deploy, ENDPOINT, *variants, "--weights", "champion=50,challenger=50", *capture,
               "--guardrails", "canary")  # fmt: skip
        # (moto publishes no metrics, so the report gives no verdict: the promotion is forced, with a reason.)
        _mlops(
            "endpoint", "promote", ENDPOINT, "--variant", "challenger", "--no-registry", "--force", "--reason", "drill"
        )
        _mlops("endpoint", "rollback", ENDPOINT, "--no-registry")  # the promotion
        _mlops("endpoint", "rollback", ENDPOINT, "--no-registry")  # the guarded deploy
        _mlops("endpoint", "rollback", ENDPOINT, "--no-registry")  # the last shift
        _mlops("endpoint", "status", ENDPOINT)

        check = ["aws", "check", "--bucket", BUCKET, "--prefix", PREFIX, "--region", REGION, "--json"]
        for name, role, extra in (
            ("check as caller", EXECUTION_ROLE, ["--simulate", "pipeline", "--simulate", "execution-role"]),
            (
                "check as deployer",
                ENDPOINT_ROLE,
                ["--image", SERVING_IMAGE, "--simulate", "endpoint", "--endpoint", ENDPOINT],
            ),
        ):
            flow(name)
            for uri in ("http://127.0.0.1:9", TRACKING_SERVER):  # an http(s) server and a managed one
                output = _mlops(*check, "--role", role, "--tracking-uri", uri, *extra, exit_code=None)
                assert "denied" not in output, output
    yield Recorded(flows, enforcer.denied_calls)
    _reset(moto_server)  # the moto server is the session's: leave no endpoint, bucket or role to later tests


def _reset(moto_server: str) -> None:
    """Empty the moto server (its own reset API)."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"), timeout=30).close()


# ---------------------------------------------------------------------------------------------- the documents

# Actions that take no resource-level permissions (or, for autoscaling, whose targets have generated ARNs): only
# these may have Resource "*".
RESOURCE_STAR_ONLY = (
    "sts:GetCallerIdentity",
    "sagemaker:ListInferenceExperiments",
    "ecr:GetAuthorizationToken",
    "cloudwatch:PutMetricData",
    "cloudwatch:GetMetricStatistics",
    "cloudwatch:DescribeAlarms",
    "application-autoscaling:*",
)
# Permission-only actions and actions of services botocore does not model (AWS's Service Authorization Reference).
KNOWN_ACTIONS = {
    "s3:ListBucket",
    "iam:PassRole",
    "sagemaker:InvokeEndpoint",
    *(
        f"sagemaker-mlflow:{a}"
        for a in (
            "*",
            "GetRegisteredModel",
            "GetModelVersion",
            "GetModelVersionByAlias",
            "SearchModelVersions",
            "GetRun",
            "SetRegisteredModelAlias",
            "SetRegisteredModelTag",
            "SetModelVersionTag",
        )
    ),
}


def _known(action: str) -> bool:
    """Whether the action exists: botocore's model of the service has the operation, or KNOWN_ACTIONS lists it."""
    from tests.iam_policies import IAM_PREFIX

    if action in KNOWN_ACTIONS:
        return True
    prefix, _, name = action.partition(":")
    session = botocore.session.get_session()
    services = [s for s, p in IAM_PREFIX.items() if p == prefix]
    return any(name in session.get_service_model(s).operation_names for s in services)


@pytest.mark.parametrize("name", [*IDENTITY_POLICIES, *TRUST_POLICIES])
def test_policy_documents_are_well_formed(name: str) -> None:
    text = (POLICY_DIR / f"{name}.json").read_text()
    policy = json.loads(render(text))  # every placeholder is a known one
    assert set(policy) == {"Version", "Statement"} and policy["Version"] == "2012-10-17"
    assert isinstance(policy["Statement"], list) and policy["Statement"]
    sids = [s.get("Sid", "") for s in policy["Statement"]]
    assert all(re.fullmatch(r"[A-Za-z0-9]+", sid) for sid in sids) and len(set(sids)) == len(sids), sids
    trust = name in TRUST_POLICIES
    for statement in policy["Statement"]:
        keys = {"Sid", "Effect", "Action", "Condition"} | ({"Principal"} if trust else {"Resource"})
        assert set(statement) - {"Condition"} == keys - {"Condition"}, statement
        assert statement["Effect"] in ("Allow", "Deny")
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        assert actions and all(re.fullmatch(r"[a-z0-9-]+:[A-Za-z*]+", a) for a in actions), actions
        assert "*" not in actions and not any(a.endswith(":*") and a != "sagemaker-mlflow:*" for a in actions)
        unknown = [a for a in actions if not _known(a)]
        assert not unknown, f"{name} {statement['Sid']}: no such action {unknown}"
        if trust:
            assert statement["Principal"] == {"Service": SAGEMAKER_SERVICE} and actions == ["sts:AssumeRole"]
            continue
        resources = [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
        assert all(r == "*" or r.startswith("arn:aws:") for r in resources), resources
        if "*" in resources:
            assert all(a in RESOURCE_STAR_ONLY or a.split(":")[0] + ":*" in RESOURCE_STAR_ONLY for a in actions), (
                f"{name} {statement['Sid']}: Resource * for {actions}"
            )


def test_trust_policies_let_only_sagemaker_of_this_account_assume_the_roles() -> None:
    from pipelines.aws_check import trusts_service

    policies = load_policies()
    for name in TRUST_POLICIES:
        assert trusts_service(policies[name]), name
        assert not trusts_service(policies[name], "ec2.amazonaws.com"), name
        for statement in statements(policies[name]):
            assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


# ---------------------------------------------------------------------------------------------- what the code does


def test_the_flows_make_the_calls_the_policies_are_for(recorded: Recorded) -> None:
    """The flows really ran: each made the operations its principal's policy exists for."""
    assert {
        "s3:PutObject",
        "s3:HeadObject",
        "sagemaker:CreatePipeline",
        "sagemaker:UpdatePipeline",
        "sagemaker:StartPipelineExecution",
    } <= recorded.calls("pipeline")
    assert {
        "s3:PutObject",
        "sagemaker:CreateModel",
        "sagemaker:DeleteModel",
        "sagemaker:CreateEndpointConfig",
        "sagemaker:CreateEndpoint",
        "sagemaker:UpdateEndpoint",
        "sagemaker:UpdateEndpointWeightsAndCapacities",
        "sagemaker:ListTags",
        "sagemaker:AddTags",
        "sagemaker:DeleteTags",
        "sagemaker-runtime:InvokeEndpoint",
        "application-autoscaling:RegisterScalableTarget",
        "application-autoscaling:PutScalingPolicy",
        "application-autoscaling:DeregisterScalableTarget",
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:GetMetricStatistics",
    } <= recorded.calls("endpoint")
    checks = {
        "sts:GetCallerIdentity",
        "iam:GetRole",
        "s3:HeadBucket",
        "sagemaker:DescribeMlflowTrackingServer",
        "iam:SimulatePrincipalPolicy",
    }
    assert checks <= recorded.calls("check as caller")
    assert checks | {"ecr:DescribeImages"} <= recorded.calls("check as deployer")


def test_every_command_runs_under_its_policy(recorded: Recorded) -> None:
    """Only the denials the code is known to handle happened (and each of them did: the list is not stale)."""
    assert set(recorded.denied_calls) == set(TOLERATED_DENIALS), recorded.denied_calls


@pytest.mark.parametrize("principal", ["caller", "deployer"])
def test_the_callers_policies_allow_every_call(recorded: Recorded, principal: str) -> None:
    wanted = recorded.needs_of(principal) + DOCUMENTED[principal]
    assert not denied(load_policies()[principal], wanted)


def _role_needs(recorded: Recorded) -> dict[str, list[Need]]:
    pipeline = recorded.flows["pipeline"]
    sent = [c for c in pipeline if str(c) in ("sagemaker:CreatePipeline", "sagemaker:UpdatePipeline")]
    started = next(c for c in pipeline if str(c) == "sagemaker:StartPipelineExecution")
    parameters = {p["Name"]: p["Value"] for p in started.params["PipelineParameters"]}
    definitions = [json.loads(c.params["PipelineDefinition"]) for c in sent]
    return {
        "execution-role": [
            *(need for d in definitions for need in execution_role_needs(d, parameters)),
            *DOCUMENTED["execution-role"],
        ],
        "endpoint-role": [*endpoint_role_needs(recorded.flows["endpoint"]), *DOCUMENTED["endpoint-role"]],
    }


@pytest.mark.parametrize("role", ["execution-role", "endpoint-role"])
def test_the_roles_allow_what_sagemaker_does_as_them(recorded: Recorded, role: str) -> None:
    wanted = _role_needs(recorded)[role]
    assert len(wanted) > len(DOCUMENTED[role])  # the definition and the deployment gave needs of their own
    assert not denied(load_policies()[role], wanted)


def _without(policy: dict[str, Any], index: int, field: str, entry: str) -> dict[str, Any]:
    """The policy with one Action or Resource entry taken out of statement `index` (the statement, if its last)."""
    changed = json.loads(json.dumps(policy))
    statement = changed["Statement"][index]
    values = [statement[field]] if isinstance(statement[field], str) else statement[field]
    left = [v for v in values if v != entry]
    if left:
        statement[field] = left
    else:
        del changed["Statement"][index]
    return changed


def test_every_action_and_resource_of_every_policy_is_needed(recorded: Recorded) -> None:
    """Take out any one Action or Resource entry and something the code (or SageMaker for it) does is denied."""
    wanted = {
        "caller": recorded.needs_of("caller") + DOCUMENTED["caller"],
        "deployer": recorded.needs_of("deployer") + DOCUMENTED["deployer"],
        **_role_needs(recorded),
    }
    slack = []
    for name in IDENTITY_POLICIES:
        policy = load_policies()[name]
        for index, statement in enumerate(statements(policy)):
            for field in ("Action", "Resource"):
                entries = [statement[field]] if isinstance(statement[field], str) else statement[field]
                for entry in entries:
                    if (name, statement["Sid"]) in WITHOUT_A_RECORDED_USE:
                        continue
                    if not denied(_without(policy, index, field, entry), wanted[name]):
                        slack.append(f"{name} {statement['Sid']} {field} {entry}")
    assert not slack, "granted but never needed:\n" + "\n".join(slack)


def test_without_a_recorded_use_lists_only_statements_there_are() -> None:
    policies = load_policies()
    for name, sid in WITHOUT_A_RECORDED_USE:
        assert sid in {s["Sid"] for s in statements(policies[name])}, (name, sid)


@pytest.mark.parametrize(
    ("purpose", "policy"), [("pipeline", "caller"), ("endpoint", "deployer"), ("execution-role", "execution-role")]
)
def test_the_checks_key_actions_are_the_policies(purpose: str, policy: str) -> None:
    """What `mlops aws check --simulate` asks IAM about is allowed by the policy it tells the user to attach."""
    from pipelines.aws_check import AwsSetup, Caller, key_actions

    setup = AwsSetup.create(
        region=REGION,
        role_arn=EXECUTION_ROLE if purpose != "endpoint" else ENDPOINT_ROLE,
        bucket=BUCKET,
        prefix=PREFIX,
        simulate=(purpose,),
        endpoint=ENDPOINT,
    )
    keys = key_actions(purpose, setup, Caller(f"arn:aws:iam::{ACCOUNT}:user/alice", ACCOUNT))
    wanted = [Need(k.action, k.resource, f"--simulate {purpose}", k.context) for k in keys]
    assert not denied(load_policies()[policy], wanted)
