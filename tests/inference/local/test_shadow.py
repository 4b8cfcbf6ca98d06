"""Shadow tests on the local A/B endpoint, as users run them: a server started by `mlops endpoint serve-local`,
driven by boto3, the `pipelines.shadow` facade and the `mlops endpoint shadow` CLI; and, in process, the proof that a
caller never waits for a shadow (a shadow model held on a gate while production answers)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from inference.deploy.shadow import INSUFFICIENT, READY, ShadowPolicy
from inference.variants import DeploymentError
from ml.errors import MlopsError
from tests.conftest import run_cli
from tests.inference.conftest import ServerProcess, ab_models, model_copy, sagemaker_clients, start_ab_endpoint

TEXT = b'{"inputs": "write a python function that reverses a string"}'
ROLE = "arn:aws:iam::000000000000:role/local"


@pytest.fixture(scope="module")
def models(onnx_model: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Production copies a (version A) and b (version B), and the candidate c (version C): the same weights, so the
    shadow agrees with production on every input."""
    root = tmp_path_factory.mktemp("shadow-models")
    found = ab_models(onnx_model, root)
    found["c"] = model_copy(onnx_model, root / "c")
    (found["c"] / "metadata.json").write_text(json.dumps({"model_version": "C"}))
    return found


@pytest.fixture(scope="module")
def server(models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The local endpoint, serving `ab` (a=90, b=10)."""
    proc = start_ab_endpoint(
        {"a": models["a"], "b": models["b"]}, tmp_path_factory.mktemp("shadow-endpoint") / "server.log"
    )
    yield proc
    proc.kill()


@pytest.fixture(scope="module")
def clients(server: ServerProcess) -> tuple[Any, Any]:
    """boto3 (sagemaker-runtime, sagemaker) on the local endpoint."""
    return sagemaker_clients(server.url)


@pytest.fixture
def endpoint(clients: tuple[Any, Any], models: dict[str, Path]) -> str:
    """A fresh endpoint of this test's own with one production variant `prod` serving model a."""
    sagemaker = clients[1]
    name = f"shadow-{uuid.uuid4().hex[:8]}"
    sagemaker.create_model(ModelName=f"{name}-prod", PrimaryContainer={"ModelDataUrl": str(models["a"])})
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"{name}-config",
        ProductionVariants=[
            {"VariantName": "prod", "ModelName": f"{name}-prod", "InitialVariantWeight": 1.0, "InitialInstanceCount": 1}
        ],
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")
    wait_for(lambda: sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService")
    return name


@pytest.fixture
def target(server: ServerProcess) -> Any:
    """The deploy target of the local endpoint (what `--local-endpoint URL` gives the CLI)."""
    from inference.deploy.target import DeployTarget

    made = DeployTarget.create(server.url)
    made.manager.poll_s = 0.1
    return made


def wait_for(condition: Callable[[], Any], timeout: float = 60.0) -> Any:
    """Poll until `condition()` is truthy (a wait for background work, not a speed threshold)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError("condition not met")


def invoke(runtime: Any, endpoint: str, **kwargs: Any) -> tuple[str, dict[str, Any]]:
    """One InvokeEndpoint call: (the variant that answered, the parsed body)."""
    response = runtime.invoke_endpoint(EndpointName=endpoint, Body=TEXT, ContentType="application/json", **kwargs)
    return response["InvokedProductionVariant"], json.loads(response["Body"].read())


def shadow_figures(target: Any, endpoint: str) -> dict[str, Any]:
    """The metrics document's shadow section of the endpoint's only experiment: {variant: figures}."""
    (experiment,) = target.traffic.fetch(endpoint)["shadow"].values()
    return experiment["variants"]


def client_error(call: Callable[[], Any]) -> dict[str, Any]:
    """The error of a call that must fail with botocore's ClientError."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as info:
        call()
    return info.value.response


def test_a_shadow_gets_mirrored_traffic_while_callers_get_production_answers(
    clients: tuple[Any, Any], endpoint: str, target: Any, models: dict[str, Path]
) -> None:
    from pipelines.shadow import find_experiment, shadow_report, start_shadow, stop_shadow

    runtime, sagemaker = clients
    started = start_shadow(target, endpoint, str(models["c"]), percent=100)
    assert started["Status"] == "Running"
    assert started["ShadowModeConfig"] == {
        "SourceModelVariantName": "prod",
        "ShadowModelVariants": [{"ShadowModelVariantName": "Shadow", "SamplingPercentage": 100}],
    }
    assert find_experiment(target, endpoint)["Name"] == started["Name"]
    # The shadow takes no routed traffic: not a production variant, weights untouched, cannot be pinned.
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert [(v["VariantName"], v["CurrentWeight"]) for v in described["ProductionVariants"]] == [("prod", 1.0)]
    assert [v["VariantName"] for v in described["ShadowProductionVariants"]] == ["Shadow"]
    refused = client_error(lambda: invoke(runtime, endpoint, TargetVariant="Shadow"))
    assert refused["Error"]["Code"] == "ValidationError" and "Shadow" in refused["Error"]["Message"]

    requests = 40
    for _ in range(requests):
        variant, body = invoke(runtime, endpoint)
        assert variant == "prod" and body["model_version"] == "A"  # production's answer, never the shadow's
    figures = wait_for(lambda: (f := shadow_figures(target, endpoint)["Shadow"])["answered"] == requests and f)
    assert figures["model_version"] == "C" and figures["errors"] == 0 and figures["dropped"] == 0
    assert figures["inputs_compared"] == requests and figures["agreement"] == 1.0  # same weights, same intents
    assert figures["shadow"]["p95_ms"] > 0 and figures["production"]["p95_ms"] > 0
    metrics = target.traffic.fetch(endpoint)
    assert metrics["variants"]["prod"]["invocations"] == requests  # the refused pin reached no variant
    assert "Shadow" not in metrics["variants"]

    # 40 inputs that all agree clear 90% agreement; the latency slack is wide: this machine's timings are noise.
    report = shadow_report(target, endpoint, policy=ShadowPolicy(min_requests=requests, latency_slack_ms=1e6))
    assert report.verdict == READY, report.evidence
    assert report.variants["Shadow"]["checks"]["agreement"]["interval"][0] >= 0.9
    assert shadow_report(target, endpoint).verdict == INSUFFICIENT  # the default asks for 100 requests

    stopped = stop_shadow(target, endpoint, reason="enough seen")
    assert stopped["Status"] == "Completed" and stopped["StatusReason"] == "enough seen"
    statuses = {v["VariantName"]: v["Status"] for v in stopped["ModelVariants"]}
    assert statuses == {"prod": "InService", "Shadow": "Deleted"}
    assert find_experiment(target, endpoint) is None
    assert "ShadowProductionVariants" not in sagemaker.describe_endpoint(EndpointName=endpoint)
    invoke(runtime, endpoint)
    after = shadow_figures(target, endpoint)["Shadow"]
    # mirror() runs before the answer is sent: a mirrored request would already be pending or answered.
    assert after["requests"] + after["in_flight"] == requests and after["loaded"] is False
    # The stopped test's figures stay readable, and the endpoint takes a new one.
    assert shadow_report(target, endpoint, policy=ShadowPolicy(min_requests=requests, latency_slack_ms=1e6)).ready
    again = start_shadow(target, endpoint, str(models["c"]), variant="again", percent=50)
    assert again["Status"] == "Running" and again["Name"] != started["Name"]
    stop_shadow(target, endpoint)


def test_only_the_sampled_share_of_the_source_variants_requests_is_mirrored(
    clients: tuple[Any, Any], server: ServerProcess, target: Any, models: dict[str, Path]
) -> None:
    """On the A/B endpoint `ab` (a=90, b=10) a shadow of `b` at 50% gets about half of b's requests and none of a's."""
    from pipelines.shadow import start_shadow, stop_shadow

    runtime, _ = clients
    start_shadow(target, "ab", str(models["c"]), source_variant="b", percent=50, variant="half")
    try:
        for _ in range(10):
            assert invoke(runtime, "ab", TargetVariant="a")[0] == "a"
        for _ in range(60):
            assert invoke(runtime, "ab", TargetVariant="b")[0] == "b"
        figures = wait_for(lambda: (f := shadow_figures(target, "ab")["half"])["in_flight"] == 0 and f)
        # Binomial(60, 0.5): outside 10..50 with probability below 1e-7; and a's requests are never mirrored.
        assert 10 <= figures["requests"] <= 50
        assert figures["dropped"] == 0
    finally:
        stop_shadow(target, "ab")


def test_bad_shadow_requests_are_refused_with_the_reason(
    clients: tuple[Any, Any], endpoint: str, target: Any, models: dict[str, Path]
) -> None:
    from pipelines.shadow import start_shadow, stop_shadow

    _, sagemaker = clients
    sagemaker.create_model(ModelName=f"{endpoint}-cand", PrimaryContainer={"ModelDataUrl": str(models["c"])})

    def experiment(**changes: Any) -> dict[str, Any]:
        infra = {
            "InfrastructureType": "RealTimeInference",
            "RealTimeInferenceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        }
        request = {
            "Name": f"{endpoint}-exp",
            "Type": "ShadowMode",
            "RoleArn": ROLE,
            "EndpointName": endpoint,
            "ModelVariants": [
                {"ModelName": f"{endpoint}-prod", "VariantName": "prod", "InfrastructureConfig": infra},
                {"ModelName": f"{endpoint}-cand", "VariantName": "cand", "InfrastructureConfig": infra},
            ],
            "ShadowModeConfig": {
                "SourceModelVariantName": "prod",
                "ShadowModelVariants": [{"ShadowModelVariantName": "cand", "SamplingPercentage": 100}],
            },
        }
        request.update(changes)
        return client_error(lambda: sagemaker.create_inference_experiment(**request))["Error"]

    shadow_of = {"SourceModelVariantName": "prod", "ShadowModelVariants": [{"SamplingPercentage": 100}]}
    unknown = experiment(
        ShadowModeConfig={
            **shadow_of,
            "ShadowModelVariants": [{"ShadowModelVariantName": "ghost", "SamplingPercentage": 100}],
        }
    )
    assert unknown["Code"] == "ValidationException" and 'shadow variant "ghost" does not exist' in unknown["Message"]
    source = experiment(
        ShadowModeConfig={
            **shadow_of,
            "SourceModelVariantName": "nope",
            "ShadowModelVariants": [{"ShadowModelVariantName": "cand", "SamplingPercentage": 100}],
        }
    )
    assert "not a production variant" in source["Message"] and "prod" in source["Message"]
    over = experiment(
        ShadowModeConfig={
            "SourceModelVariantName": "prod",
            "ShadowModelVariants": [{"ShadowModelVariantName": "cand", "SamplingPercentage": 101}],
        }
    )
    assert over["Code"] == "ValidationException" and "samplingPercentage" in over["Message"]
    missing = experiment(EndpointName="no-such-endpoint")
    assert 'Could not find endpoint "no-such-endpoint"' in missing["Message"]

    for percent in (0, 101, 12.5):
        with pytest.raises(DeploymentError, match="whole percent from 1 to 100"):
            start_shadow(target, endpoint, str(models["c"]), percent=percent)
    with pytest.raises(DeploymentError, match="does not exist"):
        start_shadow(target, "no-such-endpoint", str(models["c"]))
    with pytest.raises(DeploymentError, match="'ghost' is not a production variant"):
        start_shadow(target, endpoint, str(models["c"]), source_variant="ghost")
    with pytest.raises(DeploymentError, match="like the production variant"):
        start_shadow(target, endpoint, str(models["c"]), variant="prod")
    with pytest.raises(MlopsError, match="intent-classifier") as unknown_version:  # NAME/VERSION: a registry version
        start_shadow(target, endpoint, "intent-classifier/7")
    assert not isinstance(unknown_version.value, DeploymentError)  # the registry refused it, not SageMaker
    assert sagemaker.list_inference_experiments(NameContains=endpoint)["InferenceExperiments"] == []

    start_shadow(target, endpoint, str(models["c"]))
    try:
        with pytest.raises(DeploymentError, match="already has shadow test"):
            start_shadow(target, endpoint, str(models["c"]), variant="second")
        second = experiment(Name=f"{endpoint}-second")  # straight to the API: refused there too
        assert second["Code"] == "ValidationException" and "one experiment at a time" in second["Message"]
    finally:
        stop_shadow(target, endpoint)
    with pytest.raises(DeploymentError, match="no shadow test running"):
        stop_shadow(target, endpoint)


def test_the_local_endpoint_hosts_several_shadows_of_one_variant(
    clients: tuple[Any, Any], endpoint: str, target: Any, models: dict[str, Path]
) -> None:
    """Beyond AWS's one shadow variant: up to MAX_SHADOW_VARIANTS candidates on the same mirrored traffic."""
    from inference.local.shadow import MAX_SHADOW_VARIANTS

    runtime, sagemaker = clients
    sagemaker.create_model(ModelName=f"{endpoint}-cand", PrimaryContainer={"ModelDataUrl": str(models["c"])})
    infra = {
        "InfrastructureType": "RealTimeInference",
        "RealTimeInferenceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }

    def request(shadows: list[str]) -> dict[str, Any]:
        return {
            "Name": f"{endpoint}-many",
            "Type": "ShadowMode",
            "RoleArn": ROLE,
            "EndpointName": endpoint,
            "ModelVariants": [
                {"ModelName": f"{endpoint}-prod", "VariantName": "prod", "InfrastructureConfig": infra},
                *({"ModelName": f"{endpoint}-cand", "VariantName": s, "InfrastructureConfig": infra} for s in shadows),
            ],
            "ShadowModeConfig": {
                "SourceModelVariantName": "prod",
                "ShadowModelVariants": [{"ShadowModelVariantName": s, "SamplingPercentage": 100} for s in shadows],
            },
        }

    too_many = [f"s{i}" for i in range(MAX_SHADOW_VARIANTS + 1)]
    refused = client_error(lambda: sagemaker.create_inference_experiment(**request(too_many)))["Error"]
    assert refused["Code"] == "ValidationException" and "shadowModelVariants" in refused["Message"]
    sagemaker.create_inference_experiment(**request(["one", "two"]))
    wait_for(lambda: sagemaker.describe_inference_experiment(Name=f"{endpoint}-many")["Status"] == "Running")
    for _ in range(10):
        invoke(runtime, endpoint)

    def answered_all() -> dict[str, Any] | None:
        found = shadow_figures(target, endpoint)
        return found if all(f["answered"] == 10 for f in found.values()) else None

    both = wait_for(answered_all)
    assert set(both) == {"one", "two"}
    # Straight from shadow to production is refused here: that path goes through an A/B test.
    promote = client_error(
        lambda: sagemaker.stop_inference_experiment(Name=f"{endpoint}-many", ModelVariantActions={"one": "Promote"})
    )["Error"]
    assert promote["Code"] == "ValidationException" and "A/B" in promote["Message"]
    sagemaker.stop_inference_experiment(
        Name=f"{endpoint}-many", ModelVariantActions={"prod": "Retain", "one": "Remove"}, DesiredState="Cancelled"
    )
    described = sagemaker.describe_inference_experiment(Name=f"{endpoint}-many")
    assert described["Status"] == "Cancelled"
    assert {v["VariantName"]: v["Status"] for v in described["ModelVariants"]} == {
        "prod": "InService",
        "one": "Deleted",
        "two": "Deleted",
    }


def test_the_cli_starts_reports_and_stops_a_shadow_test(
    clients: tuple[Any, Any], server: ServerProcess, endpoint: str, models: dict[str, Path]
) -> None:
    runtime, _ = clients
    local = ("--local-endpoint", server.url)
    started = run_cli(
        "endpoint", "shadow", "start", endpoint, "--model", str(models["c"]), *local, "--json", check=True
    )
    assert json.loads(started.stdout)["Status"] == "Running"
    for _ in range(5):
        invoke(runtime, endpoint)
    report = run_cli("endpoint", "shadow", "report", endpoint, *local, "--json")
    assert report.returncode == 0, report.stderr  # a report is an answer, whatever its verdict
    assert json.loads(report.stdout)["verdict"] == INSUFFICIENT  # 5 of the 100 mirrored requests a verdict needs
    gate = run_cli("endpoint", "shadow", "report", endpoint, *local, "--check")
    assert gate.returncode == 1 and "insufficient evidence, not ready" in gate.stderr
    text = run_cli("endpoint", "shadow", "report", endpoint, *local, "--min-requests", "1", "--min-agreement", "0")
    assert "agreement" in text.stdout and "verdict:" in text.stdout
    bad = run_cli("endpoint", "shadow", "start", endpoint, "--model", str(models["c"]), "--percent", "150", *local)
    assert bad.returncode == 2 and "150" in bad.stderr
    stopped = run_cli("endpoint", "shadow", "stop", endpoint, *local, "--json", check=True)
    assert json.loads(stopped.stdout)["Status"] == "Completed"
    again = run_cli("endpoint", "shadow", "stop", endpoint, *local)
    assert again.returncode != 0 and "no shadow test running" in again.stderr


# ---- in process: the caller does not wait for the shadow -------------------------------------------------------


def control(client: Any, operation: str, **params: Any) -> dict[str, Any]:
    """One control-plane call through the ASGI app; the parsed answer (asserting success)."""
    response = client.post(
        "/",
        content=json.dumps(params),
        headers={"X-Amz-Target": f"SageMaker.{operation}", "Content-Type": "application/x-amz-json-1.1"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_the_caller_gets_its_answer_while_the_shadow_is_still_working(tmp_path: Path, models: dict[str, Path]) -> None:
    """The shadow's model is held on a gate: production answers every request meanwhile; past MAX_IN_FLIGHT pending
    mirrored requests, new samples are dropped and counted; once the gate opens the shadow answers the rest."""
    from starlette.testclient import TestClient

    from inference.local.app import create_app
    from inference.local.shadow import MAX_IN_FLIGHT

    app = create_app(work_dir=tmp_path, threads=1)
    with TestClient(app) as client:
        control(client, "CreateModel", ModelName="prod", PrimaryContainer={"ModelDataUrl": str(models["a"])})
        control(client, "CreateModel", ModelName="cand", PrimaryContainer={"ModelDataUrl": str(models["c"])})
        control(
            client,
            "CreateEndpointConfig",
            EndpointConfigName="gate-config",
            ProductionVariants=[{"VariantName": "prod", "ModelName": "prod"}],
        )
        control(client, "CreateEndpoint", EndpointName="gate", EndpointConfigName="gate-config")
        wait_for(lambda: control(client, "DescribeEndpoint", EndpointName="gate")["EndpointStatus"] == "InService")
        infra = {
            "InfrastructureType": "RealTimeInference",
            "RealTimeInferenceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        }
        control(
            client,
            "CreateInferenceExperiment",
            Name="gate-shadow",
            Type="ShadowMode",
            RoleArn=ROLE,
            EndpointName="gate",
            ModelVariants=[
                {"ModelName": "prod", "VariantName": "prod", "InfrastructureConfig": infra},
                {"ModelName": "cand", "VariantName": "cand", "InfrastructureConfig": infra},
            ],
            ShadowModeConfig={
                "SourceModelVariantName": "prod",
                "ShadowModelVariants": [{"ShadowModelVariantName": "cand", "SamplingPercentage": 100}],
            },
        )
        wait_for(lambda: control(client, "DescribeInferenceExperiment", Name="gate-shadow")["Status"] == "Running")

        gate = threading.Event()
        shadow_model = app.state.sagemaker.experiments["gate-shadow"].shadows["cand"].model
        predict = shadow_model.predictor.predict

        def gated(texts: list[str]) -> list[dict[str, Any]]:
            assert gate.wait(timeout=120), "the test never opened the gate"
            return predict(texts)

        shadow_model.predictor.predict = gated

        def figures() -> dict[str, Any]:
            return client.get("/endpoints/gate/metrics").json()["shadow"]["gate-shadow"]["variants"]["cand"]

        try:
            headers = {"Content-Type": "application/json"}
            first = client.post("/endpoints/gate/invocations", content=TEXT, headers=headers)
            # Production answered while its mirrored request is still held by the shadow.
            assert first.status_code == 200 and first.json()["model_version"] == "A"
            assert figures()["in_flight"] == 1 and figures()["answered"] == 0
            extra = 3
            for _ in range(MAX_IN_FLIGHT - 1 + extra):
                assert client.post("/endpoints/gate/invocations", content=TEXT, headers=headers).status_code == 200
            held = figures()
            assert held["in_flight"] == MAX_IN_FLIGHT and held["dropped"] == extra and held["answered"] == 0
        finally:
            gate.set()
        done = wait_for(lambda: (f := figures())["in_flight"] == 0 and f)
        assert done["answered"] == MAX_IN_FLIGHT and done["agreement"] == 1.0 and done["dropped"] == extra
        assert client.get("/endpoints/gate/metrics").json()["variants"]["prod"]["invocations"] == MAX_IN_FLIGHT + extra


def test_a_scheduled_shadow_test_waits_for_its_start(
    clients: tuple[Any, Any], endpoint: str, target: Any, models: dict[str, Path]
) -> None:
    """Created (nothing mirrored) until its StartTime or StartInferenceExperiment; a bad schedule is refused."""
    from datetime import UTC, datetime, timedelta

    runtime, sagemaker = clients
    sagemaker.create_model(ModelName=f"{endpoint}-cand", PrimaryContainer={"ModelDataUrl": str(models["c"])})
    infra = {
        "InfrastructureType": "RealTimeInference",
        "RealTimeInferenceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }
    now = datetime.now(UTC)

    def create(name: str, start: datetime, end: datetime) -> Any:
        return sagemaker.create_inference_experiment(
            Name=name,
            Type="ShadowMode",
            RoleArn=ROLE,
            EndpointName=endpoint,
            Schedule={"StartTime": start, "EndTime": end},
            ModelVariants=[
                {"ModelName": f"{endpoint}-prod", "VariantName": "prod", "InfrastructureConfig": infra},
                {"ModelName": f"{endpoint}-cand", "VariantName": "cand", "InfrastructureConfig": infra},
            ],
            ShadowModeConfig={
                "SourceModelVariantName": "prod",
                "ShadowModelVariants": [{"ShadowModelVariantName": "cand", "SamplingPercentage": 100}],
            },
        )

    backwards = client_error(lambda: create(f"{endpoint}-bad", now + timedelta(hours=2), now + timedelta(hours=1)))
    assert "EndTime must be after its StartTime" in backwards["Error"]["Message"]
    too_long = client_error(lambda: create(f"{endpoint}-long", now, now + timedelta(days=31)))
    assert "at most 30 days" in too_long["Error"]["Message"]
    name = f"{endpoint}-later"
    create(name, now + timedelta(hours=1), now + timedelta(hours=2))
    assert wait_for(lambda: sagemaker.describe_inference_experiment(Name=name)["Status"] != "Creating")
    assert sagemaker.describe_inference_experiment(Name=name)["Status"] == "Created"
    invoke(runtime, endpoint)
    assert shadow_figures(target, endpoint)["cand"]["requests"] == 0  # not started: nothing mirrored
    sagemaker.start_inference_experiment(Name=name)
    assert sagemaker.describe_inference_experiment(Name=name)["Status"] == "Running"
    again = client_error(lambda: sagemaker.start_inference_experiment(Name=name))
    assert "only a Created experiment can start" in again["Error"]["Message"]
    invoke(runtime, endpoint)
    assert wait_for(lambda: shadow_figures(target, endpoint)["cand"]["answered"] == 1)
    listed = sagemaker.list_inference_experiments(NameContains=endpoint, StatusEquals="Running")
    assert [e["Name"] for e in listed["InferenceExperiments"]] == [name]
    sagemaker.stop_inference_experiment(Name=name, ModelVariantActions={"cand": "Remove"})
    missing = client_error(lambda: sagemaker.describe_inference_experiment(Name=f"{endpoint}-never"))
    assert "Could not find inference experiment" in missing["Error"]["Message"]
