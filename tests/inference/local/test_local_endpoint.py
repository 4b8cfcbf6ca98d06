"""The local A/B endpoint, tested as its users see it: a server started by `mlops endpoint serve-local`, driven by
boto3's `sagemaker-runtime` and `sagemaker` clients pointed at it with endpoint_url."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np
import pytest

from tests.conftest import ROOT, run_cli
from tests.inference.conftest import (
    AB_ENDPOINT,
    ServerProcess,
    ab_models,
    control_call,
    http,
    model_copy,
    sagemaker_clients,
    sdk_v3_invoke,
    start_ab_endpoint,
    start_server,
)

ENDPOINT = AB_ENDPOINT
TEXT = b'{"inputs": "write a python function that reverses a string"}'


@pytest.fixture(scope="module")
def variant_models(onnx_model: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two copies of the tiny model that answer with different model versions (metadata.json): a -> A, b -> B."""
    return ab_models(onnx_model, tmp_path_factory.mktemp("variants"))


@pytest.fixture(scope="module")
def server(variant_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """`mlops endpoint serve-local ab --variant a=... --variant b=... --weights a=90,b=10`, shared by the module."""
    proc = start_ab_endpoint(variant_models, tmp_path_factory.mktemp("local-endpoint") / "server.log")
    yield proc
    proc.kill()


@pytest.fixture(scope="module")
def runtime(server: ServerProcess) -> Any:
    """boto3 sagemaker-runtime client on the local endpoint."""
    return sagemaker_clients(server.url)[0]


@pytest.fixture(scope="module")
def sagemaker(server: ServerProcess) -> Any:
    """boto3 sagemaker client on the local endpoint."""
    return sagemaker_clients(server.url)[1]


@pytest.fixture(scope="module")
def models(sagemaker: Any, variant_models: dict[str, Path]) -> dict[str, str]:
    """The variant directories registered as SageMaker models (one as a file:// URL): {variant: model name}."""
    sagemaker.create_model(
        ModelName="model-a",
        PrimaryContainer={"ModelDataUrl": str(variant_models["a"])},
        ExecutionRoleArn="arn:aws:iam::000000000000:role/local",
    )
    sagemaker.create_model(ModelName="model-b", PrimaryContainer={"ModelDataUrl": variant_models["b"].as_uri()})
    return {"a": "model-a", "b": "model-b"}


def invoke(runtime: Any, endpoint: str = ENDPOINT, body: bytes = TEXT, **kwargs: Any) -> tuple[str, dict[str, Any]]:
    """One InvokeEndpoint call: (the variant that answered, the parsed body)."""
    response = runtime.invoke_endpoint(EndpointName=endpoint, Body=body, ContentType="application/json", **kwargs)
    assert response["ContentType"] == "application/json"
    return response["InvokedProductionVariant"], json.loads(response["Body"].read())


def client_error(call: Callable[[], Any]) -> dict[str, Any]:
    """The parsed error response of a call that must fail with a botocore ClientError."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as info:
        call()
    return info.value.response


def wait_settled(sagemaker: Any, endpoint: str, timeout: float = 60.0) -> dict[str, Any]:
    """DescribeEndpoint once the endpoint is no longer Creating or Updating."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        description = sagemaker.describe_endpoint(EndpointName=endpoint)
        if description["EndpointStatus"] not in ("Creating", "Updating"):
            return description
        time.sleep(0.1)
    raise TimeoutError(f"{endpoint} still {description['EndpointStatus']} after {timeout}s")


def deploy(
    sagemaker: Any, endpoint: str, variants: dict[str, tuple[str, float]], config: str | None = None
) -> dict[str, Any]:
    """Create a config ({variant: (model, weight)}) and an endpoint from it; wait until it has settled."""
    config = config or f"{endpoint}-config"
    sagemaker.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": name,
                "ModelName": model,
                "InitialVariantWeight": weight,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
            for name, (model, weight) in variants.items()
        ],
    )
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    return wait_settled(sagemaker, endpoint)


def endpoint_metrics(server: ServerProcess, endpoint: str, since: float | None = None) -> dict[str, Any]:
    """GET /endpoints/{endpoint}/metrics."""
    query = f"?since={since}" if since is not None else ""
    response = http("GET", f"{server.url}/endpoints/{endpoint}/metrics{query}", content_type=None)
    assert response.status == 200, response.body
    return response.json()


@dataclass
class Traffic:
    """Client threads sending unpinned requests until stopped, recording (sent at, variant, error) per request."""

    runtime: Any
    endpoint: str
    threads: int = 2
    results: list[tuple[float, str | None, str | None]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> Self:
        for _ in range(self.threads):
            worker = threading.Thread(target=self._run, daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            sent = time.time()
            try:
                variant, _ = invoke(self.runtime, self.endpoint)
                self.results.append((sent, variant, None))
            except Exception as exc:  # noqa: BLE001 - every failure is a finding: record it, keep sending
                self.results.append((sent, None, repr(exc)))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=30)

    @property
    def failures(self) -> list[str]:
        """Errors of failed requests."""
        return [error for _, _, error in self.results if error]

    def variants_since(self, since: float) -> Counter[str]:
        """Who answered the requests sent at or after `since`."""
        return Counter(variant for sent, variant, _ in self.results if sent >= since and variant)


def make_archive(model_dir: Path, out: Path) -> Path:
    """A SageMaker-style model.tar.gz: the model's files at the archive root."""
    with tarfile.open(out, "w:gz") as tar:
        for path in sorted(model_dir.iterdir()):
            tar.add(path, arcname=path.name)
    return out


# ----------------------------------------------------------------------------------------------- routing


def test_weighted_routing_follows_the_weights_and_the_metrics_count_it(runtime: Any, server: ServerProcess) -> None:
    since = time.time()
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: invoke(runtime), range(2000)))
    observed = Counter(variant for variant, _ in answers)
    assert set(observed) == {"a", "b"}
    assert abs(observed["a"] / 2000 - 0.9) <= 0.03 and abs(observed["b"] / 2000 - 0.1) <= 0.03, observed
    # The answer really comes from the variant the header names.
    assert all(body["model_version"] == variant.upper() for variant, body in answers)

    metrics = endpoint_metrics(server, ENDPOINT, since)
    assert metrics["endpoint"] == ENDPOINT and metrics["since"] == pytest.approx(since) and metrics["until"] >= since
    for variant, weight in (("a", 90.0), ("b", 10.0)):
        stats = metrics["variants"][variant]
        assert stats["invocations"] == observed[variant]
        assert stats["errors"] == 0 and stats["client_errors"] == 0 and stats["error_rate"] == 0.0
        assert stats["current_weight"] == weight and stats["traffic_share"] == pytest.approx(weight / 100)
        assert 0 < stats["p50_ms"] <= stats["p95_ms"] <= stats["p99_ms"]
        assert sum(stats["predictions"].values()) == observed[variant]  # one text per request
        assert stats["model_name"] == f"{ENDPOINT}-{variant}" and stats["model_version"] == variant.upper()
        assert "latencies_ms" not in stats
    # With latencies=1, every answered request's latency: the samples the percentiles were computed from.
    query = urllib.parse.urlencode({"since": since, "latencies": 1})
    raw = http("GET", f"{server.url}/endpoints/{ENDPOINT}/metrics?{query}", content_type=None).json()
    for variant in ("a", "b"):
        stats, samples = raw["variants"][variant], raw["variants"][variant]["latencies_ms"]
        assert len(samples) == observed[variant]
        assert stats["p95_ms"] == pytest.approx(float(np.percentile(samples, 95, method="inverted_cdf")), abs=1e-3)


def test_a_pinned_variant_always_answers_even_at_weight_zero(
    runtime: Any, sagemaker: Any, models: dict[str, str]
) -> None:
    description = deploy(sagemaker, "pinned", {"a": (models["a"], 1.0), "b": (models["b"], 0.0)})
    assert description["EndpointStatus"] == "InService"
    assert {v["VariantName"]: v["CurrentWeight"] for v in description["ProductionVariants"]} == {"a": 1.0, "b": 0.0}
    config = sagemaker.describe_endpoint_config(EndpointConfigName=description["EndpointConfigName"])
    assert [
        (v["VariantName"], v["ModelName"], v["InitialVariantWeight"], v["InstanceType"])
        for v in config["ProductionVariants"]
    ] == [("a", "model-a", 1.0, "ml.m5.large"), ("b", "model-b", 0.0, "ml.m5.large")]
    for _ in range(10):
        assert invoke(runtime, "pinned", TargetVariant="b")[0] == "b"
        assert invoke(runtime, "pinned")[0] == "a"
    assert invoke(runtime, ENDPOINT, TargetVariant="b")[0] == "b"  # the 10% variant of the startup endpoint


def test_weights_shift_live_without_a_failed_request(runtime: Any, sagemaker: Any, models: dict[str, str]) -> None:
    deploy(sagemaker, "shift", {"a": (models["a"], 50.0), "b": (models["b"], 50.0)})
    with Traffic(runtime, "shift") as traffic:
        time.sleep(0.5)
        sagemaker.update_endpoint_weights_and_capacities(
            EndpointName="shift",
            DesiredWeightsAndCapacities=[
                {"VariantName": "a", "DesiredWeight": 20.0},
                {"VariantName": "b", "DesiredWeight": 80.0},
            ],
        )
        time.sleep(0.5)
        sagemaker.update_endpoint_weights_and_capacities(
            EndpointName="shift",
            DesiredWeightsAndCapacities=[
                {"VariantName": "a", "DesiredWeight": 0.0, "DesiredInstanceCount": 2},
                {"VariantName": "b", "DesiredWeight": 100.0},
            ],
        )
        shifted = time.time()
        time.sleep(1.0)
    assert traffic.failures == []
    assert traffic.variants_since(0)["a"] > 0
    after = traffic.variants_since(shifted)
    assert set(after) == {"b"} and after["b"] > 10, after
    variants = {v["VariantName"]: v for v in sagemaker.describe_endpoint(EndpointName="shift")["ProductionVariants"]}
    assert variants["a"]["CurrentWeight"] == variants["a"]["DesiredWeight"] == 0.0
    assert variants["b"]["CurrentWeight"] == 100.0
    assert variants["a"]["DesiredInstanceCount"] == 2 and variants["b"]["DesiredInstanceCount"] == 1
    assert invoke(runtime, "shift", TargetVariant="a")[0] == "a"  # still deployed, only without traffic


# ------------------------------------------------------------------------------------------------ errors


BAD_INPUTS = [
    # id, body, content type, the model server's status, words its message must contain
    ("invalid-json", b'{"inputs": "hi"', "application/json", 400, "invalid JSON"),
    ("empty-text", b'{"inputs": ""}', "application/json", 400, "empty"),
    ("invisible-text", b'{"inputs": "\\u0000\\u200b\\ufeff"}', "application/json", 400, "nothing visible"),
    ("not-an-object", b'["hi"]', "application/json", 400, "JSON object"),
    ("wrong-content-type", b'{"inputs": "hi"}', "text/plain", 415, "Content-Type"),
    ("csv", b"write a haiku,chat", "text/csv", 415, "unsupported Content-Type 'text/csv': send application/json"),
    ("octet-stream-not-json", b"\x00binary", "application/octet-stream", 415, "send Content-Type: application/json"),
    ("too-many-inputs", json.dumps({"inputs": ["hi"] * 1000}).encode(), "application/json", 413, "1000 texts"),
]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"), [case[1:] for case in BAD_INPUTS], ids=[case[0] for case in BAD_INPUTS]
)
def test_bad_input_is_a_model_error_carrying_the_model_servers_answer(
    runtime: Any, server: ServerProcess, body: bytes, content_type: str, status: int, words: str
) -> None:
    error = client_error(lambda: runtime.invoke_endpoint(EndpointName=ENDPOINT, Body=body, ContentType=content_type))
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["Error"]["Code"] == "ModelError"
    assert error["OriginalStatusCode"] == status
    assert words in json.loads(error["OriginalMessage"])["error"]
    assert error["Error"]["Message"].startswith(f"Received client error ({status}) from primary with message")
    # The server is unharmed.
    assert http("GET", f"{server.url}/ping", content_type=None).status == 200
    assert invoke(runtime)[1]["predictions"]


def test_sagemaker_sdk_v3_invoke_without_a_content_type_is_served(runtime: Any, server: ServerProcess) -> None:
    answer = sdk_v3_invoke(server.url, {"inputs": "write a python function that reverses a string"})
    assert answer.invoked_production_variant in ("a", "b") and len(answer.body["predictions"]) == 1
    # No Content-Type and a body that is not JSON: the model server's 415, carried as a ModelError.
    error = client_error(lambda: runtime.invoke_endpoint(EndpointName=ENDPOINT, Body=b"write a haiku,chat"))
    assert error["Error"]["Code"] == "ModelError" and error["OriginalStatusCode"] == 415
    assert "no Content-Type" in json.loads(error["OriginalMessage"])["error"]


def test_runtime_errors_are_validation_errors(runtime: Any, server: ServerProcess) -> None:
    unknown = client_error(lambda: invoke(runtime, "nowhere"))
    assert unknown["Error"] == {
        "Code": "ValidationError",
        "Message": "Endpoint nowhere of account 000000000000 not found.",
    }
    assert unknown["ResponseMetadata"]["HTTPStatusCode"] == 400
    variant = client_error(lambda: invoke(runtime, TargetVariant="c"))
    assert variant["Error"]["Code"] == "ValidationError" and "'c'" in variant["Error"]["Message"]
    assert http("GET", f"{server.url}/endpoints/nowhere/metrics", content_type=None).status == 404
    assert http("GET", f"{server.url}/endpoints/{ENDPOINT}/metrics?since=yesterday", content_type=None).status == 400
    assert http("GET", f"{server.url}/endpoints/{ENDPOINT}/metrics?latencies=yes", content_type=None).status == 400


def test_control_plane_errors_are_validation_exceptions(
    sagemaker: Any, models: dict[str, str], server: ServerProcess
) -> None:
    def code_and_message(call: Callable[[], Any]) -> tuple[str, str]:
        error = client_error(call)
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
        return error["Error"]["Code"], error["Error"]["Message"]

    def weights(*pairs: tuple[str, float]) -> Callable[[], Any]:
        desired = [{"VariantName": name, "DesiredWeight": weight} for name, weight in pairs]
        return lambda: sagemaker.update_endpoint_weights_and_capacities(
            EndpointName=ENDPOINT, DesiredWeightsAndCapacities=desired
        )

    def config(*variants: tuple[str, str]) -> Callable[[], Any]:
        production = [{"VariantName": name, "ModelName": model} for name, model in variants]
        return lambda: sagemaker.create_endpoint_config(EndpointConfigName="bad-config", ProductionVariants=production)

    assert code_and_message(lambda: sagemaker.describe_endpoint(EndpointName="nowhere")) == (
        "ValidationException",
        'Could not find endpoint "nowhere".',
    )
    assert (
        code_and_message(
            lambda: sagemaker.update_endpoint_weights_and_capacities(
                EndpointName="nowhere", DesiredWeightsAndCapacities=[{"VariantName": "a", "DesiredWeight": 1.0}]
            )
        )[0]
        == "ValidationException"
    )
    code, message = code_and_message(weights(("c", 1.0)))
    assert code == "ValidationException" and "'c'" in message
    code, message = code_and_message(weights(("a", 0.0), ("b", 0.0)))
    assert code == "ValidationException" and "sum to a positive number" in message
    code, message = code_and_message(config(("a", models["a"]), ("a", models["b"])))
    assert code == "ValidationException" and "two variants are named 'a'" in message
    code, message = code_and_message(config(("a_b", models["a"])))
    assert code == "ValidationException" and "'a_b'" in message
    code, message = code_and_message(config(("a", "no-such-model")))
    assert (code, message) == (
        "ValidationException",
        'Could not find model "arn:aws:sagemaker:us-east-1:000000000000:model/no-such-model".',
    )
    code, message = code_and_message(
        lambda: sagemaker.create_model(
            ModelName="remote", PrimaryContainer={"ModelDataUrl": "s3://bucket/model.tar.gz"}
        )
    )
    assert code == "ValidationException" and "serves file paths only" in message
    code, message = code_and_message(
        lambda: sagemaker.create_model(ModelName="missing", PrimaryContainer={"ModelDataUrl": "/no/such/model"})
    )
    assert code == "ValidationException" and "/no/such/model" in message
    code, message = code_and_message(
        lambda: sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="ab-config-1")
    )
    assert message == 'Cannot create already existing endpoint "arn:aws:sagemaker:us-east-1:000000000000:endpoint/ab".'
    # The weights of the startup endpoint were not touched by the rejected calls.
    assert [v["CurrentWeight"] for v in sagemaker.describe_endpoint(EndpointName=ENDPOINT)["ProductionVariants"]] == [
        90.0,
        10.0,
    ]

    headers = {"X-Amz-Target": "SageMaker.CreateTrainingJob"}
    unknown = http("POST", server.url + "/", b"{}", content_type="application/x-amz-json-1.1", headers=headers)
    assert unknown.status == 400 and unknown.json()["__type"] == "UnknownOperationException"
    headers = {"X-Amz-Target": "SageMaker.DescribeEndpoint"}
    malformed = http("POST", server.url + "/", b"{not json", content_type="application/x-amz-json-1.1", headers=headers)
    assert malformed.status == 400 and malformed.json()["__type"] == "SerializationException"


def test_weights_whose_total_overflows_are_refused_at_every_layer_and_the_endpoint_keeps_serving(
    runtime: Any, sagemaker: Any, server: ServerProcess
) -> None:
    """Issue #20: a=1e308,b=1e308 was taken (each is finite) and then every unpinned request failed."""
    from inference.deploy.target import DeployTarget
    from inference.variants import DeploymentError

    for weight, words in [(1e308, "less than or equal to 3.40282e+38"), (3e38, "must sum to at most 3.40282e+38")]:
        desired = [{"VariantName": "a", "DesiredWeight": weight}, {"VariantName": "b", "DesiredWeight": weight}]
        error = client_error(
            lambda desired=desired: sagemaker.update_endpoint_weights_and_capacities(
                EndpointName=ENDPOINT, DesiredWeightsAndCapacities=desired
            )
        )
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 400 and error["Error"]["Code"] == "ValidationException"
        assert words in error["Error"]["Message"], error["Error"]["Message"]
    with pytest.raises(DeploymentError, match="must be at most"):
        DeployTarget.create(server.url).manager.shift(ENDPOINT, {"a": 1e308, "b": 1e308})
    cli = run_cli("endpoint", "shift", ENDPOINT, "--local-endpoint", server.url, "--weights", "a=1e308,b=1e308")
    assert cli.returncode == 1 and "Traceback" not in cli.stderr
    assert cli.stderr.startswith("Error: weight of variant 'a' must be at most 3.40282e+38"), cli.stderr
    described = sagemaker.describe_endpoint(EndpointName=ENDPOINT)["ProductionVariants"]
    assert [v["CurrentWeight"] for v in described] == [90.0, 10.0]
    assert invoke(runtime)[1]["predictions"]  # unpinned requests still route


MALFORMED_MEMBERS = [
    # id, operation, raw JSON body, words the message must contain
    ("superscript-token", "ListModels", '{"NextToken": "\\u00b2"}', "at 'nextToken'"),
    ("5000-digit-token", "ListModels", '{"NextToken": "' + "9" * 5000 + '"}', "nextToken"),
    ("9000-digit-token", "ListEndpoints", '{"NextToken": "' + "1" * 9000 + '"}', "length less than or equal to 8192"),
    ("huge-page", "ListModels", '{"MaxResults": 1' + "0" * 400 + "}", "maxResults"),
    (
        "weight-1e400",
        "UpdateEndpointWeightsAndCapacities",
        '{"EndpointName": "ab", "DesiredWeightsAndCapacities": [{"VariantName": "a", "DesiredWeight": 1e400}]}',
        "desiredWeight",
    ),
    (
        "weight-10**400",
        "UpdateEndpointWeightsAndCapacities",
        '{"EndpointName": "ab", "DesiredWeightsAndCapacities": [{"VariantName": "a", "DesiredWeight": 1'
        + "0" * 400
        + "}]}",
        "desiredWeight",
    ),
    (
        "weight-NaN",
        "UpdateEndpointWeightsAndCapacities",
        '{"EndpointName": "ab", "DesiredWeightsAndCapacities": [{"VariantName": "a", "DesiredWeight": NaN}]}',
        "desiredWeight",
    ),
    (
        "initial-weight-1e39",
        "CreateEndpointConfig",
        '{"EndpointConfigName": "c", "ProductionVariants": [{"VariantName": "a", "ModelName": "ab-a", '
        '"InitialVariantWeight": 1e39}]}',
        "initialVariantWeight",
    ),
    (
        "model-url-nul",
        "CreateModel",
        '{"ModelName": "m", "PrimaryContainer": {"ModelDataUrl": "/a\\u0000b"}}',
        "not found",
    ),
    ("name-surrogate", "DescribeModel", '{"ModelName": "\\ud800"}', "modelName"),
    ("sort-by", "ListEndpoints", '{"SortBy": "Size"}', "enum value set"),
    ("tags-not-a-list", "AddTags", '{"ResourceArn": "x", "Tags": {"Key": "k"}}', "tags"),
]


@pytest.mark.parametrize(
    ("operation", "body", "words"), [m[1:] for m in MALFORMED_MEMBERS], ids=[m[0] for m in MALFORMED_MEMBERS]
)
def test_a_malformed_member_is_a_validation_exception_never_a_500(
    server: ServerProcess, operation: str, body: str, words: str
) -> None:
    """Issue #20: NextToken "\u00b2" or 5,000 digits and DesiredWeight 1e400 were answered 500."""
    status, error = control_call(server.url, operation, body.encode())
    assert (status, error["__type"]) == (400, "ValidationException"), error
    assert words in error["message"], error["message"]
    assert http("GET", f"{server.url}/ping", content_type=None).status == 200


# ---------------------------------------------------------------------------------------- control plane


def test_control_plane_flow_update_while_serving_and_a_failed_update(
    runtime: Any, sagemaker: Any, server: ServerProcess, variant_models: dict[str, Path], tmp_path: Path
) -> None:
    archive = make_archive(variant_models["b"], tmp_path / "model.tar.gz")
    sagemaker.create_model(
        ModelName="Flow-B",
        PrimaryContainer={"ModelDataUrl": archive.as_uri(), "Environment": {"INTENT_SERVE_PRECISION": "fp32"}},
    )
    described = sagemaker.describe_model(ModelName="Flow-B")
    assert described["ModelArn"] == "arn:aws:sagemaker:us-east-1:000000000000:model/flow-b"
    assert described["PrimaryContainer"]["ModelDataUrl"] == archive.as_uri()
    sagemaker.create_model(ModelName="Flow-A", PrimaryContainer={"ModelDataUrl": str(variant_models["a"])})
    created = deploy(sagemaker, "Flow", {"a": ("Flow-A", 1.0), "b": ("Flow-B", 1.0)}, config="flow-config-1")
    assert created["EndpointStatus"] == "InService" and created["EndpointConfigName"] == "flow-config-1"
    assert created["EndpointArn"] == "arn:aws:sagemaker:us-east-1:000000000000:endpoint/flow"
    assert invoke(runtime, "Flow", TargetVariant="b")[1]["model_version"] == "B"  # from the archive's metadata.json
    assert "Flow" in [e["EndpointName"] for e in sagemaker.list_endpoints(NameContains="Flow")["Endpoints"]]

    # UpdateEndpoint to a one-variant config while traffic flows: nothing fails, then only b answers.
    sagemaker.create_endpoint_config(
        EndpointConfigName="flow-config-2",
        ProductionVariants=[
            {"VariantName": "b", "ModelName": "Flow-B", "InitialVariantWeight": 1.0, "InitialInstanceCount": 1}
        ],
    )
    with Traffic(runtime, "Flow") as traffic:
        time.sleep(0.3)
        sagemaker.update_endpoint(EndpointName="Flow", EndpointConfigName="flow-config-2")
        updated = wait_settled(sagemaker, "Flow")
        swapped = time.time()
        time.sleep(0.5)
    assert traffic.failures == []
    assert updated["EndpointStatus"] == "InService" and updated["EndpointConfigName"] == "flow-config-2"
    assert [v["VariantName"] for v in updated["ProductionVariants"]] == ["b"]
    assert "FailureReason" not in updated
    assert set(traffic.variants_since(swapped)) == {"b"} and traffic.variants_since(0)["a"] > 0
    in_service = [
        line
        for line in server.log_lines()
        if line.get("message") == "endpoint in service" and line.get("config_name") == "flow-config-2"
    ]
    assert in_service and in_service[-1]["reused"] == ["b"]  # the loaded model of b was kept, not loaded again

    # A failed update (its model's files vanished after CreateModel) keeps the old config serving.
    doomed = model_copy(variant_models["a"], tmp_path / "doomed")
    sagemaker.create_model(ModelName="Flow-Doomed", PrimaryContainer={"ModelDataUrl": str(doomed)})
    shutil.rmtree(doomed)
    sagemaker.create_endpoint_config(
        EndpointConfigName="flow-config-3",
        ProductionVariants=[
            {"VariantName": "c", "ModelName": "Flow-Doomed", "InitialVariantWeight": 1.0, "InitialInstanceCount": 1}
        ],
    )
    with Traffic(runtime, "Flow") as traffic:
        sagemaker.update_endpoint(EndpointName="Flow", EndpointConfigName="flow-config-3")
        failed = wait_settled(sagemaker, "Flow")
    assert traffic.failures == [] and set(traffic.variants_since(0)) == {"b"}
    assert failed["EndpointStatus"] == "InService" and failed["EndpointConfigName"] == "flow-config-2"
    assert "Flow-Doomed" in failed["FailureReason"] and str(doomed) in failed["FailureReason"]
    assert invoke(runtime, "Flow")[0] == "b"

    # A new endpoint that cannot load fails, and cannot be invoked.
    broken = deploy(sagemaker, "broken", {"c": ("Flow-Doomed", 1.0)}, config="flow-config-3b")
    assert broken["EndpointStatus"] == "Failed" and "Flow-Doomed" in broken["FailureReason"]
    assert client_error(lambda: invoke(runtime, "broken"))["Error"]["Code"] == "ValidationError"

    sagemaker.delete_endpoint(EndpointName="Flow")
    assert client_error(lambda: invoke(runtime, "Flow"))["Error"]["Code"] == "ValidationError"
    assert (
        client_error(lambda: sagemaker.describe_endpoint(EndpointName="Flow"))["Error"]["Code"] == "ValidationException"
    )
    assert invoke(runtime)[1]["predictions"]  # other endpoints are unaffected


def test_tags_and_listing(sagemaker: Any, models: dict[str, str]) -> None:
    endpoint_arn = sagemaker.describe_endpoint(EndpointName=ENDPOINT)["EndpointArn"]
    sagemaker.add_tags(ResourceArn=endpoint_arn, Tags=[{"Key": "team", "Value": "intents"}])
    sagemaker.add_tags(ResourceArn=endpoint_arn, Tags=[{"Key": "team", "Value": "search"}])
    assert sagemaker.list_tags(ResourceArn=endpoint_arn)["Tags"] == [{"Key": "team", "Value": "search"}]
    # As SageMaker checks them: the characters of a tag (JSON is refused), and at most 50 on a resource.
    refused = client_error(
        lambda: sagemaker.add_tags(ResourceArn=endpoint_arn, Tags=[{"Key": "k", "Value": '{"a":1}'}])
    )
    assert "Member must satisfy regular expression pattern" in refused["Error"]["Message"]
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(49)]
    sagemaker.add_tags(ResourceArn=endpoint_arn, Tags=many)
    full = client_error(lambda: sagemaker.add_tags(ResourceArn=endpoint_arn, Tags=[{"Key": "one-more", "Value": ""}]))
    assert "at most 50" in full["Error"]["Message"]
    sagemaker.delete_tags(ResourceArn=endpoint_arn, TagKeys=[t["Key"] for t in many] + ["not-there"])
    assert sagemaker.list_tags(ResourceArn=endpoint_arn)["Tags"] == [{"Key": "team", "Value": "search"}]
    names = [
        m["ModelName"]
        for m in sagemaker.get_paginator("list_models")
        .paginate(PaginationConfig={"PageSize": 1})
        .build_full_result()["Models"]
    ]
    assert {"ab-a", "ab-b", *models.values()} <= set(names)
    by_name = sagemaker.list_endpoints(SortBy="Name", SortOrder="Ascending", StatusEquals="InService")["Endpoints"]
    assert [e["EndpointName"] for e in by_name] == sorted(e["EndpointName"] for e in by_name)


# ------------------------------------------------------------------------------------------------- CLI


def _serve_local(*args: str) -> subprocess.CompletedProcess[str]:
    # A timeout: a command that wrongly started serving would otherwise block the test run.
    return subprocess.run(
        [sys.executable, "-m", "mlops_cli", "endpoint", "serve-local", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["e", "--variant", "a=MODEL", "--variant", "a=MODEL"], "two variants are named 'a'"),
        (["e", "--variant", "a_b=MODEL"], "variant name 'a_b'"),
        (
            ["e", "--variant", "a=MODEL", "--variant", "b=MODEL", "--weights", "a=0,b=0"],
            "do not sum to a positive number",
        ),
        (["e", "--variant", "a=MODEL", "--weights", "a=1,c=1"], "no variant named 'c'"),
        (["e", "--variant", "a=MISSING"], "model not found"),
        (["e", "--variant", "a"], "is not NAME=MODEL"),
        (["--variant", "a=MODEL"], "need an endpoint name"),
    ],
    ids=[
        "duplicate-variant",
        "invalid-name",
        "zero-weights",
        "unknown-weight",
        "missing-model",
        "no-model",
        "no-endpoint",
    ],
)
def test_serve_local_rejects_bad_variants_before_starting(
    args: list[str], words: str, variant_models: dict[str, Path], tmp_path: Path
) -> None:
    args = [a.replace("MODEL", str(variant_models["a"])).replace("MISSING", str(tmp_path / "nowhere")) for a in args]
    result = _serve_local(*args, "--port", "1")
    assert result.returncode != 0
    assert words in result.stderr and "Traceback" not in result.stderr
    assert "starting local endpoint" not in result.stdout


def test_help_describes_the_command() -> None:
    result = run_cli("endpoint", "serve-local", "--help")
    assert result.returncode == 0
    for text in (
        "NAME=MODEL",
        "models:/NAME@ALIAS",
        "--weights",
        "MLOPS_LOCAL_ENDPOINT_PORT",
        "UpdateEndpointWeightsAndCapacities",
        "/endpoints/NAME/invocations",
    ):
        assert text in result.stdout


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGINT"])
def test_starts_empty_and_stops_gracefully(stop: str, tmp_path: Path) -> None:
    empty = start_server(["-m", "mlops_cli", "endpoint", "serve-local"], tmp_path / "empty.log")
    try:
        _, sagemaker = sagemaker_clients(empty.url)
        assert sagemaker.list_endpoints()["Endpoints"] == []
        empty.proc.send_signal(getattr(signal, stop))
        assert empty.proc.wait(timeout=30) == 0
    finally:
        empty.kill()


def test_a_startup_endpoint_that_cannot_load_is_a_clean_error(variant_models: dict[str, Path], tmp_path: Path) -> None:
    broken = model_copy(variant_models["a"], tmp_path / "broken")
    (broken / "model.int8.onnx").write_bytes(b"not an onnx graph")
    result = _serve_local("e", "--variant", f"a={broken}", "--port", "1")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "endpoint 'e' failed to start: Failed to load model 'e-a' for variant 'a'" in result.stderr


class _CrashingPredictor:
    """Stands in for a model whose inference fails."""

    model_version = "crash"

    def predict(self, texts: list[str]) -> list[dict[str, Any]]:
        raise RuntimeError("the graph exploded")


def test_an_inference_crash_is_a_model_error_with_status_500(tmp_path: Path) -> None:
    """In process (a real model does not crash on demand): a predictor that raises gives 424, OriginalStatusCode 500."""
    from starlette.testclient import TestClient

    from inference.local.app import create_app
    from inference.local.models import LoadedModel, ModelRecord
    from inference.local.records import EndpointRecord, LiveVariant, VariantSet
    from inference.serving.config import ServerConfig

    app = create_app(work_dir=tmp_path)
    with TestClient(app) as client:
        record = ModelRecord("crash-model", tmp_path, ServerConfig(), {}, None, time.time())
        model = LoadedModel(record, _CrashingPredictor(), None)  # type: ignore[arg-type]
        endpoint = EndpointRecord("crash", "crash-config", created=time.time(), status="InService")
        endpoint.live = VariantSet("crash-config", [LiveVariant("v", model)], {"v": 1.0}, {"v": 1})
        app.state.sagemaker.endpoints["crash"] = endpoint
        response = client.post(
            "/endpoints/crash/invocations", content=TEXT, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 424 and response.headers["x-amzn-errortype"] == "ModelError"
        body = response.json()
        assert body["OriginalStatusCode"] == 500 and body["message"].startswith(
            "Received server error (500) from primary"
        )
        assert response.headers["x-amzn-invoked-production-variant"] == "v"
        stats = client.get("/endpoints/crash/metrics").json()["variants"]["v"]
        assert stats["invocations"] == 1 and stats["errors"] == 1 and stats["error_rate"] == 1.0
        assert client.get("/ping").status_code == 200


class _NonFinitePredictor:
    """Stands in for a broken model whose probabilities are NaN: its answer cannot be sent as JSON."""

    model_version = "nan"

    def predict(self, texts: list[str]) -> list[dict[str, Any]]:
        return [{"intent": "conversation", "confidence": float("nan"), "probabilities": {}} for _ in texts]


def test_every_failed_answer_of_a_variant_counts_as_its_error(tmp_path: Path) -> None:
    """In process: whatever fails after a variant was chosen is that variant's error, so a report sees it."""
    from starlette.testclient import TestClient

    from inference.local.app import create_app
    from inference.local.models import LoadedModel, ModelRecord
    from inference.local.records import EndpointRecord, LiveVariant, VariantSet
    from inference.serving.config import ServerConfig

    app = create_app(work_dir=tmp_path)
    with TestClient(app, raise_server_exceptions=False) as client:
        record = ModelRecord("nan-model", tmp_path, ServerConfig(), {}, None, time.time())
        model = LoadedModel(record, _NonFinitePredictor(), None)  # type: ignore[arg-type]
        endpoint = EndpointRecord("nan", "nan-config", created=time.time(), status="InService")
        endpoint.live = VariantSet("nan-config", [LiveVariant("v", model)], {"v": 1.0}, {"v": 1})
        app.state.sagemaker.endpoints["nan"] = endpoint
        response = client.post("/endpoints/nan/invocations", content=TEXT, headers={"Content-Type": "application/json"})
        assert response.status_code == 424 and response.json()["OriginalStatusCode"] == 500
        stats = client.get("/endpoints/nan/metrics").json()["variants"]["v"]
        assert stats["invocations"] == 1 and stats["errors"] == 1 and stats["error_rate"] == 1.0
