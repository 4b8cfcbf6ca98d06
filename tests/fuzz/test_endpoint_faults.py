"""Faults at the local SageMaker endpoint, on a real `mlops endpoint serve-local` process with two variants of the real
onnxruntime model: property-based fuzzing of InvokeEndpoint and of the control plane (a right answer or a clear 4xx,
never a 5xx or a traceback), variant weights at SageMaker's limits, and stepwise shifts stopped by SIGTERM or Ctrl-C
(issue #20, items 2, 5 and 6)."""

from __future__ import annotations

import functools
import json
import math
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inference.local.app import INVOKED_VARIANT_HEADER, TARGET_VARIANT_HEADER
from inference.variants import FLOAT32_MAX
from tests.conftest import ROOT
from tests.fuzz.invocation_bodies import (
    ANY_BODIES,
    ANY_CONTENT_TYPES,
    JSON_VALUES,
    check_error,
    check_predictions,
    texts_of,
)
from tests.inference.conftest import (
    AB_ENDPOINT,
    AB_WEIGHTS,
    ServerProcess,
    ab_models,
    control_call,
    http,
    start_ab_endpoint,
)

# How long a test waits for the endpoint or the CLI to act before calling it stuck.
PATIENCE_S = 60.0
TEXT = {"inputs": "write a python function that reverses a string"}


@pytest.fixture(scope="module")
def endpoint(onnx_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The endpoint `ab` (variants a and b at 90/10) on its own local endpoint process, shared by the module."""
    root = tmp_path_factory.mktemp("endpoint-faults")
    server = start_ab_endpoint(ab_models(onnx_model, root / "models"), root / "server.log")
    yield server
    server.kill()


def weights(endpoint: ServerProcess) -> dict[str, float]:
    """The current weight of each variant of `ab`, as DescribeEndpoint reports them."""
    status, described = control_call(
        endpoint.url, "DescribeEndpoint", json.dumps({"EndpointName": AB_ENDPOINT}).encode()
    )
    assert status == 200, described
    return {v["VariantName"]: v["CurrentWeight"] for v in described["ProductionVariants"]}


def set_weights(endpoint: ServerProcess, new: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """UpdateEndpointWeightsAndCapacities on `ab`, sent as raw JSON (NaN, Infinity and huge integers included)."""
    desired = [{"VariantName": name, "DesiredWeight": weight} for name, weight in new.items()]
    body = json.dumps({"EndpointName": AB_ENDPOINT, "DesiredWeightsAndCapacities": desired}).encode()
    return control_call(endpoint.url, "UpdateEndpointWeightsAndCapacities", body)


def assert_no_traceback(endpoint: ServerProcess) -> None:
    """The endpoint is up and has logged no traceback: every failure so far was one it expected."""
    assert endpoint.proc.poll() is None
    assert "Traceback" not in endpoint.log_path.read_text(errors="replace")


# ------------------------------------------------------------------------------------------------ InvokeEndpoint


@given(
    body=ANY_BODIES,
    content_type=ANY_CONTENT_TYPES,
    target=st.one_of(
        st.none(),
        st.sampled_from(["a", "b"]),
        st.text(st.characters(codec="ascii", min_codepoint=32, max_codepoint=126), max_size=20),
    ),
    name=st.one_of(st.just(AB_ENDPOINT), st.text(min_size=1, max_size=20)),
)
def test_invoke_endpoint_answers_right_or_with_a_clear_4xx(
    endpoint: ServerProcess, body: bytes, content_type: str, target: str | None, name: str
) -> None:
    headers = {TARGET_VARIANT_HEADER: target} if target is not None else {}
    url = f"{endpoint.url}/endpoints/{urllib.parse.quote(name, safe='')}/invocations"
    response = http("POST", url, body, content_type=content_type or None, headers=headers)
    if response.status == 200:
        texts = texts_of(body)
        assert texts is not None, body
        check_predictions(response.json(), texts)
        invoked = response.headers[INVOKED_VARIANT_HEADER.lower()]
        assert invoked in ("a", "b") and target in (None, invoked), (invoked, target)
    else:
        # InvokeEndpoint's errors say it in "message"; a name that is no endpoint's ("a/b") finds no route: "error".
        check_error(response.status, response.body, "message", "error")
        assert response.json().get("OriginalStatusCode", 400) < 500, response.body  # the model's own answer: a 4xx
    assert_no_traceback(endpoint)


# ------------------------------------------------------------------------------------------------- control plane

# The operations fuzzed: all but those that create or delete models and endpoints (a fuzzed success would change what
# the other tests of the module serve). Members come from botocore's SageMaker model, as the control plane checks them.
FUZZED_OPERATIONS = [
    "ListModels",
    "ListEndpoints",
    "DescribeModel",
    "DescribeEndpoint",
    "DescribeEndpointConfig",
    "CreateEndpointConfig",
    "ListTags",
    "AddTags",
    "UpdateEndpointWeightsAndCapacities",
]


@functools.cache
def _members(operation: str) -> list[str]:
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    return list(model.operation_model(operation).input_shape.members)


# Values that broke the control plane (issue #20): digits of other scripts ("\u00b2"), more digits than Python turns
# into an int (a NextToken of 5,000), numbers beyond a double or a 32-bit float (1e400, 10**400).
OTHER_DIGITS = st.text(st.characters(categories=("Nd", "No")), min_size=1, max_size=8)  # "\u00b2", "\u0663"
TRICKY_SCALARS = st.one_of(
    OTHER_DIGITS,
    st.integers(1, 6000).map(lambda n: "9" * n),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(),
)
MEMBER_VALUES = st.one_of(
    JSON_VALUES,
    TRICKY_SCALARS,
    st.lists(
        st.fixed_dictionaries({"VariantName": st.sampled_from(["a", "b"]), "DesiredWeight": TRICKY_SCALARS}),
        min_size=1,
        max_size=2,
    ),
)


# NextTokens a client might make up: digits of other scripts, more digits than Python turns into an int, any text.
TOKENS = st.one_of(
    OTHER_DIGITS,
    st.integers(4000, 6000).map(lambda n: "9" * n),
    st.text(max_size=12),
)


@st.composite
def control_requests(draw: st.DrawFn) -> tuple[str, bytes]:
    """An operation and a body for it: its members with any JSON values (names too), a listing's page asked for with a
    made-up NextToken, or bytes that are not JSON."""
    operation = draw(st.sampled_from(FUZZED_OPERATIONS))
    if operation.startswith("List") and draw(st.booleans()):
        params: dict[str, Any] = {"NextToken": draw(TOKENS), "MaxResults": draw(st.integers(1, 100))}
    else:
        keys = st.one_of(st.sampled_from(_members(operation)), st.text(max_size=12))
        params = draw(st.dictionaries(keys, MEMBER_VALUES, max_size=4))
    if operation == "UpdateEndpointWeightsAndCapacities" and params.get("EndpointName") == AB_ENDPOINT:
        params["EndpointName"] = "not-" + AB_ENDPOINT  # weights of `ab` are the next test's
    if draw(st.integers(0, 4)) == 0:
        return operation, draw(st.binary(max_size=64))
    return operation, json.dumps(params).encode()


@given(request=control_requests())
def test_the_control_plane_answers_or_refuses_with_a_4xx_exception(
    endpoint: ServerProcess, request: tuple[str, bytes]
) -> None:
    """Issue #20: NextToken "²" or 5,000 digits and DesiredWeight 1e400 were answered 500."""
    status, answer = control_call(endpoint.url, *request)
    if status != 200:
        check_error(status, json.dumps(answer).encode(), "message")
        assert answer["__type"].endswith("Exception"), answer
    assert_no_traceback(endpoint)


def _sagemaker_takes(new: dict[str, Any]) -> bool:
    """Whether SageMaker takes these weights: each a number in [0, largest 32-bit float], the total positive and within
    that bound too (traffic goes by each weight's share of the total)."""
    numbers = [w for w in new.values() if isinstance(w, int | float) and not isinstance(w, bool)]
    if len(numbers) != len(new) or not all(0 <= w <= FLOAT32_MAX for w in numbers):  # NaN compares False
        return False
    return 0 < math.fsum(numbers) <= FLOAT32_MAX


WEIGHTS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=4e38),
    st.integers(min_value=-(10**3), max_value=10**400),
    st.sampled_from([0, 1e-300, FLOAT32_MAX, 1e39, 1e308]),
)


@given(new=st.fixed_dictionaries({"a": WEIGHTS, "b": WEIGHTS}))
def test_weights_are_taken_exactly_when_sagemaker_takes_them_and_routing_never_breaks(
    endpoint: ServerProcess, new: dict[str, Any]
) -> None:
    """Issue #20: a=1e308,b=1e308 was taken and then every unpinned InvokeEndpoint answered 500."""
    status, answer = set_weights(endpoint, new)
    try:
        if _sagemaker_takes(new):
            assert status == 200, answer
            assert weights(endpoint) == {name: float(weight) for name, weight in new.items()}
        else:
            assert (status, answer["__type"]) == (400, "ValidationException"), answer
            assert weights(endpoint) == AB_WEIGHTS
        invoked = http("POST", f"{endpoint.url}/endpoints/{AB_ENDPOINT}/invocations", json.dumps(TEXT).encode())
        assert invoked.status == 200, invoked.body
    finally:
        if status == 200:
            assert set_weights(endpoint, AB_WEIGHTS)[0] == 200
    assert_no_traceback(endpoint)


# ----------------------------------------------------------------------------------------------- interrupted shifts


def _ctrl_c_as_from_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(
    ("sent", "words"), [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "Ctrl-C")], ids=["SIGTERM", "Ctrl-C"]
)
def test_a_stepwise_shift_stopped_part_way_restores_the_starting_weights_and_says_so(
    endpoint: ServerProcess, sent: signal.Signals, words: str
) -> None:
    """Issue #20: SIGTERM or Ctrl-C during `shift --schedule 25,50,100` left the intermediate weights, the original
    recorded nowhere."""
    command = ["endpoint", "shift", AB_ENDPOINT, "--local-endpoint", endpoint.url, "--variant", "b"]
    command += ["--schedule", "25,50,100", "--bake-seconds", "600"]
    shift = subprocess.Popen(
        [sys.executable, "-m", "mlops_cli", *command],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
        # As from a terminal: Ctrl-C delivered, whatever this worker's own SIGINT handling (tests/conftest.py).
        preexec_fn=_ctrl_c_as_from_a_terminal,
    )
    try:
        deadline = time.monotonic() + PATIENCE_S
        while weights(endpoint) == AB_WEIGHTS:  # the first step is on: the shift is baking it
            assert shift.poll() is None, shift.communicate()
            assert time.monotonic() < deadline, "the shift never took its first step"
            time.sleep(0.1)
        assert weights(endpoint) == {"a": 75.0, "b": 25.0}
        shift.send_signal(sent)
        _, stderr = shift.communicate(timeout=PATIENCE_S)
    finally:
        if shift.poll() is None:
            shift.kill()
            shift.wait()
    assert shift.returncode == 1, stderr
    assert "Traceback" not in stderr, stderr
    assert f"stopped at 25% by {words}" in stderr, stderr
    assert "reverted to the starting weights a=90,b=10" in stderr, stderr
    assert weights(endpoint) == AB_WEIGHTS
