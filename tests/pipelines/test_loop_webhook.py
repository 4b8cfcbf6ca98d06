"""`mlops loop webhook`'s receiver: MLflow's signed deliveries accepted, forged or stale ones refused with 401, each
delivery acted on once; and a real `mlflow server` delivering `model_version_alias.created` to it."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mlflow.webhooks.delivery import _generate_hmac_signature

from ml.settings import REGISTERED_MODEL_NAME
from pipelines.loop_webhook import (
    DELIVERY_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Delivery,
    WebhookReceiver,
    sign,
)
from tests.inference.conftest import Response, http
from tests.model_registry.conftest import MlflowServer, start_mlflow_server

SECRET = "loop-webhook-secret"  # noqa: S105 - a test secret
MODEL = REGISTERED_MODEL_NAME


def alias_event(alias: str = "challenger", name: str = MODEL, version: str = "2") -> str:
    """A payload as MLflow builds it (mlflow/webhooks/delivery.py `_send_webhook_request`)."""
    return json.dumps(
        {
            "entity": "model_version_alias",
            "action": "created",
            "timestamp": "2026-12-03T06:00:00+00:00",
            "data": {"name": name, "alias": alias, "version": version},
        }
    )


def signed_headers(body: str, *, secret: str = SECRET, at: float | None = None, delivery: str | None = None) -> dict:
    """Headers as MLflow sends them, signed by MLflow's own signing function."""
    delivery = delivery or str(uuid.uuid4())
    timestamp = str(int(time.time() if at is None else at))
    return {
        DELIVERY_ID_HEADER: delivery,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: _generate_hmac_signature(secret, delivery, timestamp, body),
    }


@pytest.fixture
def receiver() -> Iterator[tuple[WebhookReceiver, list[Delivery]]]:
    handled: list[Delivery] = []
    started = WebhookReceiver(SECRET, lambda d: handled.append(d) or {"stage": "shadow"}, model_name=MODEL).start()
    yield started, handled
    started.shutdown()


def post(receiver: WebhookReceiver, body: str, headers: dict[str, str]) -> Response:
    return http("POST", receiver.url, body.encode(), headers=headers)


def test_our_signature_is_mlflows() -> None:
    assert sign(SECRET, "d-1", "1796277600", "{}") == _generate_hmac_signature(SECRET, "d-1", "1796277600", "{}")


def test_a_signed_challenger_alias_starts_the_shadow_stage_once(receiver: Any) -> None:
    rx, handled = receiver
    body = alias_event()
    headers = signed_headers(body)
    answer = post(rx, body, headers)
    assert answer.status == 202 and answer.json() == {"accepted": headers[DELIVERY_ID_HEADER], "version": "2"}
    # MLflow retries a delivery with the same id: acted on once.
    again = post(rx, body, headers)
    assert again.status == 200 and again.json() == {"duplicate": headers[DELIVERY_ID_HEADER]}
    rx.wait_idle()
    assert [d.data for d in handled] == [{"name": MODEL, "alias": "challenger", "version": "2"}]
    assert rx.results == [{"delivery_id": headers[DELIVERY_ID_HEADER], "result": {"stage": "shadow"}}]


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (
            lambda body, h: (
                body,
                {**h, SIGNATURE_HEADER: sign("guessed", h[DELIVERY_ID_HEADER], h[TIMESTAMP_HEADER], body)},
            ),
            "bad signature",
        ),
        (lambda body, h: (body.replace('"2"', '"3"'), h), "bad signature"),
        (lambda body, h: (body, {k: v for k, v in h.items() if k != SIGNATURE_HEADER}), "unsigned delivery"),
        (lambda body, h: (body, {**h, TIMESTAMP_HEADER: "yesterday"}), "is not Unix seconds"),
        (lambda body, h: (body, signed_headers(body, at=time.time() - 3600)), "stale delivery"),
        (lambda body, h: (body, signed_headers(body, at=time.time() + 3600)), "stale delivery"),
    ],
    ids=["wrong-secret", "tampered-body", "no-signature", "bad-timestamp", "an-hour-old", "an-hour-ahead"],
)
def test_forged_or_stale_deliveries_get_401_and_run_nothing(receiver: Any, tamper: Any, message: str) -> None:
    rx, handled = receiver
    body = alias_event()
    sent_body, headers = tamper(body, signed_headers(body))
    answer = post(rx, sent_body, headers)
    assert answer.status == 401 and message in answer.json()["error"], answer.json()
    rx.wait_idle()
    assert handled == []


def test_other_events_and_other_aliases_are_acknowledged_and_ignored(receiver: Any) -> None:
    rx, handled = receiver
    created = json.dumps({"entity": "model_version", "action": "created", "data": {"name": MODEL, "version": "2"}})
    for body in (created, alias_event(alias="champion"), alias_event(name="another-model")):
        answer = post(rx, body, signed_headers(body))
        assert answer.status == 200 and "ignored" in answer.json(), answer.json()
    rx.wait_idle()
    assert handled == []


def test_a_receiver_without_a_secret_is_refused() -> None:
    from ml.errors import MlopsError

    with pytest.raises(MlopsError, match="needs the webhook's secret"):
        WebhookReceiver("", lambda d: None, model_name=MODEL)


# ------------------------------------------------------------------------------------------ a real MLflow server


@pytest.fixture(scope="module")
def webhook_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """`mlflow server` allowed to deliver over plain HTTP to loopback (its defaults: https and public IPs only)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS", "true")
        patch.setenv("MLFLOW_WEBHOOK_ALLOWED_SCHEMES", "http,https")
        server = start_mlflow_server(tmp_path_factory.mktemp("mlflow-webhooks"))
    yield server
    server.stop()


@pytest.mark.slow
def test_mlflow_server_delivers_the_challenger_alias_and_a_wrong_secret_is_refused(
    webhook_server: MlflowServer, receiver: Any, tmp_path: Path
) -> None:
    from mlflow import MlflowClient

    rx, handled = receiver
    # Both URIs given: a registry URI another test set in this worker (mlflow keeps it process-wide) must not apply.
    client = MlflowClient(tracking_uri=webhook_server.url, registry_uri=webhook_server.url)
    client.create_registered_model(MODEL)
    run = client.create_run(client.create_experiment("webhook-test"))
    version = client.create_model_version(MODEL, source=f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    events = ["model_version_alias.created"]
    client.create_webhook(name="loop", url=rx.url, events=events, secret=SECRET)
    client.create_webhook(name="impostor", url=rx.url, events=events, secret="not-the-secret")  # noqa: S106 - a wrong one, on purpose

    client.set_registered_model_alias(MODEL, "challenger", version.version)
    deadline = time.monotonic() + 60
    while not handled and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)  # the impostor's delivery, refused, would have arrived by now too
    rx.wait_idle()
    assert [d.data for d in handled] == [{"name": MODEL, "alias": "challenger", "version": str(version.version)}]
    assert handled[0].event == ("model_version_alias", "created")
    # MLflow's own test deliveries (its example payload): the right secret's is acknowledged and ignored (it names
    # another model), the impostor's refused.
    hooks = {hook.name: hook.webhook_id for hook in client.list_webhooks()}
    tested = client.test_webhook(hooks["loop"])
    assert tested.response_status == 200 and "ignored" in json.loads(tested.response_body)
    assert client.test_webhook(hooks["impostor"]).response_status == 401
    rx.wait_idle()
    assert len(handled) == 1
