"""Promotion evidence: read from the registering run, checked against the digest recorded at registration.

A forged version tag, run metric or evidence artifact, and any NaN, infinite or negative figure, fails closed.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from model_registry.promotion import promote
from model_registry.tracking import RegistryError
from tests.model_registry.standins import NAME, champion, client, register_standin

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Champion v1 and a candidate v2 whose evidence passes every gate; yields uri, candidate and run id."""
    root = tmp_path_factory.mktemp("evidence")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLOPS_STATE_DIR", str(root))
        assert register_standin(root, "champion", tracking_uri=uri) == "1"
        assert promote("1", tracking_uri=uri).moved
        candidate = register_standin(root, "candidate", tracking_uri=uri)
        run_id = client(uri).get_model_version(NAME, candidate).run_id
        yield {"uri": uri, "candidate": candidate, "run_id": run_id, "root": str(root)}


def _refused(registry: dict[str, str], *, gate: str = "evidence", **kwargs: Any) -> str:
    result = promote(registry["candidate"], tracking_uri=registry["uri"], **kwargs)
    assert not result.ok and not result.moved, result.message
    assert gate in [g.name for g in result.failed_gates], result.message
    assert champion(registry["uri"]) == "1"
    return next(g.detail for g in result.gates if g.name == gate)


@contextlib.contextmanager
def _forged_tag(registry: dict[str, str], tag: str, value: str) -> Iterator[None]:
    mlflow_client = client(registry["uri"])
    original = mlflow_client.get_model_version(NAME, registry["candidate"]).tags.get(tag)
    mlflow_client.set_model_version_tag(NAME, registry["candidate"], tag, value)
    try:
        yield
    finally:
        if original is None:
            mlflow_client.delete_model_version_tag(NAME, registry["candidate"], tag)
        else:
            mlflow_client.set_model_version_tag(NAME, registry["candidate"], tag, original)


def test_untampered_evidence_passes(registry: dict[str, str]) -> None:
    result = promote(registry["candidate"], tracking_uri=registry["uri"], dry_run=True)
    assert result.ok, result.message
    assert [g.name for g in result.gates] == ["evidence", "metrics", "onnx_parity", "benchmark", "labels"]


def test_nan_metric_tags_fail_closed_in_the_cli(registry: dict[str, str]) -> None:
    from click.testing import CliRunner

    from mlops_cli.main import cli

    with _forged_tag(registry, "metric.macro_f1", "nan"), _forged_tag(registry, "metric.accuracy", "nan"):
        out = CliRunner().invoke(
            cli,
            ["registry", "promote", "--candidate", registry["candidate"]],
            env={"MLFLOW_TRACKING_URI": registry["uri"]},
        )
    assert out.exit_code == 1, out.output
    assert "FAIL evidence" in out.output and "metric.macro_f1='nan'" in out.output
    assert "metric.accuracy='nan'" in out.output and champion(registry["uri"]) == "1"


@pytest.mark.parametrize(
    ("tag", "value"),
    [
        ("bench.p95_ms", "nan"),
        ("bench.p95_ms", "-5"),
        ("bench.p95_ms", "inf"),
        ("bench.errors", "-1"),
        ("bench.passed", "TRUE"),
        ("metric.macro_f1", "0.999"),
        ("onnx_parity", "passed "),
        ("labels", "a,b"),
    ],
)
def test_a_forged_tag_is_refused_by_name(registry: dict[str, str], tag: str, value: str) -> None:
    with _forged_tag(registry, tag, value):
        detail = _refused(registry)
    assert f"tag {tag}={value!r}" in detail


def test_a_deleted_evidence_tag_is_refused(registry: dict[str, str]) -> None:
    mlflow_client = client(registry["uri"])
    original = mlflow_client.get_model_version(NAME, registry["candidate"]).tags["bench.p95_ms"]
    mlflow_client.delete_model_version_tag(NAME, registry["candidate"], "bench.p95_ms")
    try:
        assert "tag bench.p95_ms missing" in _refused(registry)
    finally:
        mlflow_client.set_model_version_tag(NAME, registry["candidate"], "bench.p95_ms", original)


def test_a_forged_run_metric_is_refused_by_name(registry: dict[str, str]) -> None:
    mlflow_client = client(registry["uri"])
    original = mlflow_client.get_run(registry["run_id"]).data.metrics["test_macro_f1"]
    now = int(time.time() * 1000)
    mlflow_client.log_metric(registry["run_id"], "test_macro_f1", 0.999, timestamp=now)
    try:
        assert "run metric test_macro_f1=0.999" in _refused(registry)
    finally:
        mlflow_client.log_metric(registry["run_id"], "test_macro_f1", original, timestamp=now + 1)


def test_a_forged_evidence_artifact_is_refused(registry: dict[str, str]) -> None:
    mlflow_client = client(registry["uri"])
    artifact_root = mlflow_client.get_run(registry["run_id"]).info.artifact_uri.removeprefix("file://")
    path = Path(artifact_root) / "evidence" / "evidence.json"
    original = path.read_bytes()
    forged = json.loads(original)
    forged["benchmark"]["p95_ms"] = 1.0
    path.write_text(json.dumps(forged))
    try:
        detail = _refused(registry)
        # Unverified evidence is no evidence: the data gates fail too instead of judging forged figures.
        assert _refused(registry, gate="benchmark")
    finally:
        path.write_bytes(original)
    assert "artifact evidence/evidence.json" in detail and "recorded at registration" in detail


@pytest.mark.parametrize(("tolerance", "budget"), [(float("nan"), 500.0), (0.01, float("nan")), (float("inf"), 500.0)])
def test_non_finite_thresholds_are_refused(registry: dict[str, str], tolerance: float, budget: float) -> None:
    with pytest.raises(RegistryError, match="invalid thresholds"):
        promote(registry["candidate"], tracking_uri=registry["uri"], tolerance=tolerance, p95_budget_ms=budget)


def _plain_source(mlflow_client: Any, version: Any) -> str:
    """A directory of the version's files that is no MLflow Model (a version made from one inherits its run)."""
    return f"{mlflow_client.get_run(version.run_id).info.artifact_uri}/model"


def test_a_version_without_registered_evidence_is_refused(registry: dict[str, str]) -> None:
    # Tags alone, as anyone with registry write access can write them: no run, no artifact, no digest.
    mlflow_client = client(registry["uri"])
    good = mlflow_client.get_model_version(NAME, registry["candidate"])
    bare = mlflow_client.create_model_version(NAME, _plain_source(mlflow_client, good), tags=dict(good.tags))
    result = promote(str(bare.version), tracking_uri=registry["uri"])
    assert not result.ok and champion(registry["uri"]) == "1"
    assert "no registering run" in next(g.detail for g in result.gates if g.name == "evidence")
    mlflow_client.delete_model_version(NAME, bare.version)


def test_a_champion_registered_before_evidence_was_recorded_does_not_block_promotion(
    registry: dict[str, str],
) -> None:
    # A champion with no evidence record at all (registered before this change, or by hand): the candidate is
    # judged on its own verified evidence, with a note, instead of every promotion being refused.
    mlflow_client = client(registry["uri"])
    good = mlflow_client.get_model_version(NAME, registry["candidate"])
    legacy = mlflow_client.create_model_version(
        NAME, _plain_source(mlflow_client, good), tags={"metric.macro_f1": "0.999"}
    )
    mlflow_client.set_registered_model_alias(NAME, "champion", legacy.version)
    try:
        result = promote(registry["candidate"], tracking_uri=registry["uri"], dry_run=True)
    finally:
        mlflow_client.set_registered_model_alias(NAME, "champion", "1")
        mlflow_client.delete_model_version(NAME, legacy.version)
    assert result.ok, result.message
    assert f"champion v{legacy.version} has no recorded evidence" in result.gates[0].detail
    assert f"champion v{legacy.version} has no recorded evidence: nothing to compare with" in result.gates[1].detail


@pytest.mark.parametrize(
    ("metrics", "bench"),
    [({"macro_f1": float("nan"), "accuracy": 0.95}, {}), (None, {"p95_ms": float("nan")}), (None, {"p95_ms": -5.0})],
)
def test_registration_refuses_untrustworthy_figures_and_registers_nothing(
    registry: dict[str, str], tmp_path: Path, metrics: dict[str, float] | None, bench: dict[str, Any]
) -> None:
    mlflow_client = client(registry["uri"])
    before = len(mlflow_client.search_model_versions(f"name = '{NAME}'"))
    runs = len(mlflow_client.search_runs([r.experiment_id for r in mlflow_client.search_experiments()]))
    with pytest.raises(RegistryError, match="refusing to register evidence no promotion gate could trust"):
        register_standin(tmp_path, "untrusted", metrics=metrics, bench=bench, tracking_uri=registry["uri"])
    assert len(mlflow_client.search_model_versions(f"name = '{NAME}'")) == before
    assert len(mlflow_client.search_runs([r.experiment_id for r in mlflow_client.search_experiments()])) == runs
