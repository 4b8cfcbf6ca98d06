"""The boto3 sagemaker-runtime transport against a moto server and botocore's stubber: answers, malformed answers,
an unreachable endpoint, and which AWS errors are the caller's."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from inference.client import IntentClient, IntentRequestError
from inference.client.circuit import CircuitBreaker, State
from inference.client.transports import EndpointError, SageMakerTransport
from tests.conftest import free_port


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there: connection refused


def _queue_moto_result(moto_url: str, body: str) -> None:
    payload = {"results": [{"Body": body, "ContentType": "application/json", "InvokedProductionVariant": "blue"}]}
    request = urllib.request.Request(
        f"{moto_url}/moto-api/static/sagemaker/endpoint-results",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 201)


def test_boto3_transport_calls_invoke_endpoint(moto_server: str, onnx_model: Path) -> None:
    from inference.predictor import OnnxPredictor

    canned = {"predictions": OnnxPredictor(onnx_model, intra_op_threads=1).predict(["hello"]), "model_version": "42"}
    _queue_moto_result(moto_server, json.dumps(canned))
    client = IntentClient.for_sagemaker(
        "intent-endpoint-a", endpoint_url=moto_server, region_name="us-east-1", local_model_dir=onnx_model
    )
    prediction = client.classify_one("hello")
    assert prediction.source == "endpoint" and prediction.model_version == "42"
    assert prediction.intent == canned["predictions"][0]["intent"]


def test_boto3_transport_malformed_or_unreachable_endpoint_falls_back(moto_server: str, onnx_model: Path) -> None:
    # moto's default canned answer is the string "body": not our response shape.
    client = IntentClient.for_sagemaker(
        "intent-endpoint-b",
        endpoint_url=moto_server,
        region_name="us-east-1",
        local_model_dir=onnx_model,
        breaker=CircuitBreaker(failure_threshold=1),
    )
    assert client.classify_one("unqueued request").source == "local_onnx"
    assert client.breaker.state is State.OPEN
    transport = SageMakerTransport(
        "intent-endpoint-c", endpoint_url=dead_url(), region_name="us-east-1", connect_timeout=0.5, max_attempts=1
    )
    with pytest.raises(EndpointError, match="intent-endpoint-c"):
        transport.invoke(["hi"])
    assert IntentClient(transport).classify_one("Translate this into German").source == "heuristic"


def _stubbed_transport(error_code: str, status: int, fields: dict) -> SageMakerTransport:
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("sagemaker-runtime", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_client_error(
        "invoke_endpoint",
        service_error_code=error_code,
        service_message="from the stub",
        http_status_code=status,
        modeled_fields=fields,
    )
    stubber.activate()
    return SageMakerTransport("stubbed", client=client)


def test_boto3_error_mapping() -> None:
    # The container refused the input (ModelError carrying its 413): the caller's error, no fallback.
    rejected = _stubbed_transport(
        "ModelError", 424, {"OriginalStatusCode": 413, "OriginalMessage": '{"error": "too big"}'}
    )
    client = IntentClient(rejected)
    with pytest.raises(IntentRequestError, match="too big"):
        client.classify_one("hi")
    assert client.breaker.state is State.CLOSED
    # The container crashed (ModelError with 500), or the endpoint does not exist (ValidationError): fall back.
    for transport in (
        _stubbed_transport("ModelError", 424, {"OriginalStatusCode": 500, "OriginalMessage": "boom"}),
        _stubbed_transport("ValidationError", 400, {}),
    ):
        assert IntentClient(transport).classify_one("hello there").source == "heuristic"
