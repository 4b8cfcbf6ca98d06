"""Tampered and NaN promotion evidence: whatever a version's evidence tags say, and whatever figures an evidence
record holds, the gates never pass on anything but the evidence recorded at registration, and never on NaN,
infinite or out-of-range figures."""

from __future__ import annotations

import math
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model_registry import evidence as gate_evidence
from model_registry.gates import evaluate_gates
from tests.model_registry.standins import GOOD_BENCH, GOOD_METRICS, NAME, benchmark_report, client, register_standin

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

MANAGED = [
    "metric.macro_f1",
    "metric.accuracy",
    "bench.p95_ms",
    "bench.errors",
    "bench.passed",
    "bench.budget_ms",
    "onnx_parity",
    "labels",
    "model_digest",
    "evidence_sha256",
]
NUMBERS = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**6), 10**6)
TAG_VALUES = (
    NUMBERS.map(str)
    | st.sampled_from(["nan", "NaN", "-nan", "inf", "-inf", "0.999", "1e9", "-5", "true", "TRUE", "passed", ""])
    | st.text(max_size=12)
)


@pytest.fixture(scope="module")
def candidate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """A real registry with a candidate whose evidence passes every gate; yields (client, its ModelVersion)."""
    root = tmp_path_factory.mktemp("fuzz-evidence")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLOPS_STATE_DIR", str(root))
        version = register_standin(root, "candidate", tracking_uri=uri)
        mlflow_client = client(uri)
        yield mlflow_client, mlflow_client.get_model_version(NAME, version)


def _gates(mlflow_client: Any, version: Any, tags: dict[str, str]) -> list[Any]:
    forged = SimpleNamespace(version=version.version, run_id=version.run_id, source=version.source, tags=tags)
    return evaluate_gates(mlflow_client, forged, None, tolerance=0.01, p95_budget_ms=500.0)


def test_the_untampered_candidate_passes(candidate: tuple[Any, Any]) -> None:
    mlflow_client, version = candidate
    assert all(g.passed for g in _gates(mlflow_client, version, dict(version.tags)))


# Each example reads the run and its evidence artifact from a real store: a fifth of the profile's examples.
@settings(max_examples=max(20, settings.default.max_examples // 5))
@given(forgeries=st.dictionaries(st.sampled_from(MANAGED), TAG_VALUES, min_size=1, max_size=3))
def test_forged_evidence_tags_never_pass(candidate: tuple[Any, Any], forgeries: dict[str, str]) -> None:
    mlflow_client, version = candidate
    tags = {**version.tags, **forgeries}
    gates = _gates(mlflow_client, version, tags)
    if tags == version.tags:
        assert all(g.passed for g in gates)
    else:
        assert not all(g.passed for g in gates)
        assert not next(g for g in gates if g.name == "evidence").passed


FIGURES = (
    st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(-5, 10**4)
    | st.sampled_from([None, True, False, "0.9", "nan"])
)


@given(
    score=FIGURES,
    p95=FIGURES,
    errors=FIGURES,
    passed=st.sampled_from([True, False, None, "true", 1]),
)
def test_registration_refuses_figures_no_gate_could_trust(score: Any, p95: Any, errors: Any, passed: Any) -> None:
    record = gate_evidence.build(
        model_digest="d" * 64,
        labels=["a", "b"],
        scores={**GOOD_METRICS, "macro_f1": score},
        parity_passed=True,
        benchmark=benchmark_report({**GOOD_BENCH, "p95_ms": p95, "errors": errors, "passed": passed}),
    )
    if gate_evidence.invalid_values(record):
        return
    # Accepted only as real, finite, in-range figures, which the canonical encoding also accepts.
    assert isinstance(score, int | float) and not isinstance(score, bool) and 0 <= score <= 1
    assert isinstance(p95, int | float) and not isinstance(p95, bool) and math.isfinite(p95) and p95 >= 0
    assert isinstance(errors, int | float) and float(errors).is_integer() and errors >= 0
    assert passed is True or passed is False
    gate_evidence.encode(record)
