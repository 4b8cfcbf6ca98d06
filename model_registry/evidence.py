"""Promotion evidence: what the gates decide on, recorded once at registration and verified before each promotion.

Registration writes the gates' inputs (evaluation scores, the ONNX parity verdict, the benchmark figures and
verdict, the labels in id order, the model digest) as one canonical JSON artifact of the registering run,
`evidence/evidence.json`, and logs its sha256 as the run parameter `evidence_sha256` (MLflow refuses to change a
logged parameter) and as a version tag. The version tags `metric.*`, `bench.*`, `onnx_parity`, `labels` and
`model_digest` and the run metrics `test_*` / `bench_*` are copies for people and the MLflow UI.

`verify` reads a version's evidence back from its run and checks, naming every mismatch: the artifact's sha256
against the run parameter, the version's source against the run's model artifacts, every copy (tags and run
metrics) against the evidence. What this can and cannot protect against: docs/promotion.md#what-the-gates-trust.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = 1
EVIDENCE_ARTIFACT = "evidence/evidence.json"
EVIDENCE_DIGEST = "evidence_sha256"  # run parameter and version tag
PACKAGE_DIGEST = "package_sha256"  # run parameter and version tag: the sha256 of the SageMaker model.tar.gz
DIGEST_TAG = "model_digest"
PARITY_TAG = "onnx_parity"
LABELS_TAG = "labels"
BENCH_FIGURES = ("p50_ms", "p95_ms", "p99_ms", "throughput_rps", "errors")
# Run metrics the register step logs from the benchmark summary (bench_errors is a tag only).
BENCH_METRICS = ("p50_ms", "p95_ms", "p99_ms", "throughput_rps")
# Version tags that only registration writes, from the evidence: any other value is a forgery.
_MANAGED_PREFIXES = ("metric.", "bench.")
_MANAGED_TAGS = (DIGEST_TAG, PARITY_TAG, LABELS_TAG, EVIDENCE_DIGEST)
_SHOWN = 60  # characters of a forged value quoted in a message


@dataclass(frozen=True)
class Verified:
    """A version's evidence as its run recorded it (None when it cannot be trusted at all), and every mismatch."""

    evidence: dict[str, Any] | None
    problems: list[str] = field(default_factory=list)
    digest: str = ""


def build(
    *,
    model_digest: str,
    labels: list[str],
    scores: dict[str, float],
    parity_passed: bool,
    benchmark: dict[str, Any] | None,
) -> dict[str, Any]:
    """The evidence record of a registration (benchmark: the benchmark step's report, with summary and gate)."""
    bench = None
    if benchmark is not None:
        summary, gate = benchmark["summary"], benchmark["gate"]
        bench = {k: summary.get(k) for k in BENCH_FIGURES}
        bench.update({"budget_ms": gate.get("budget_ms"), "passed": gate.get("passed")})
    return {
        "schema": SCHEMA,
        "model_digest": model_digest,
        "labels": list(labels),
        "scores": dict(sorted(scores.items())),
        "onnx_parity": "passed" if parity_passed else None,
        "benchmark": bench,
    }


def encode(evidence: dict[str, Any]) -> bytes:
    """Canonical bytes of an evidence record (its digest is their sha256); ValueError for NaN or infinity."""
    return (json.dumps(evidence, sort_keys=True, separators=(",", ":"), allow_nan=False) + "\n").encode()


def digest(data: bytes) -> str:
    """sha256 of the evidence bytes."""
    return hashlib.sha256(data).hexdigest()


def invalid_values(evidence: dict[str, Any]) -> list[str]:
    """Figures that no gate could trust: scores outside [0, 1], negative or non-finite latencies, error counts
    that are not whole numbers >= 0, a verdict that is not a boolean, labels that are not names."""
    problems = []
    for name, value in sorted((evidence.get("scores") or {}).items()):
        if number(value, 0.0, 1.0) is None:
            problems.append(f"score {name}={value!r} is not a number in [0, 1]")
    bench = evidence.get("benchmark")
    if bench is not None:
        for name in (*BENCH_FIGURES, "budget_ms"):
            value = bench.get(name)
            if number(value, 0.0) is None or (name == "errors" and not float(value).is_integer()):
                problems.append(f"benchmark {name}={value!r} is not a finite number >= 0")
        if not isinstance(bench.get("passed"), bool):
            problems.append(f"benchmark passed={bench.get('passed')!r} is not true or false")
    labels = evidence.get("labels")
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) and x for x in labels):
        problems.append(f"labels {labels!r} are not a list of names")
    return problems


def number(value: Any, low: float, high: float = math.inf) -> float | None:
    """`value` as a float when it is a real number (not a bool, not NaN, not infinite) in [low, high], else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    result = float(value)
    return result if math.isfinite(result) and low <= result <= high else None


def version_tags(evidence: dict[str, Any]) -> dict[str, str]:
    """The version tags that copy the evidence: metric.*, bench.*, onnx_parity, labels, model_digest."""
    tags = {DIGEST_TAG: str(evidence["model_digest"]), LABELS_TAG: ",".join(evidence["labels"])}
    tags.update({f"metric.{k}": f"{v:.6f}" for k, v in sorted(evidence["scores"].items())})
    if evidence.get("onnx_parity") == "passed":
        tags[PARITY_TAG] = "passed"
    bench = evidence.get("benchmark")
    if bench is not None:
        tags.update({f"bench.{k}": str(bench[k]) for k in BENCH_FIGURES})
        tags.update(
            {"bench.budget_ms": str(bench["budget_ms"]), "bench.passed": "true" if bench["passed"] else "false"}
        )
    return tags


def run_metrics(evidence: dict[str, Any]) -> dict[str, float]:
    """The run metrics that copy the evidence: test_<score> and bench_<figure>."""
    metrics = {f"test_{k}": float(v) for k, v in evidence["scores"].items()}
    bench = evidence.get("benchmark")
    if bench is not None:
        metrics.update({f"bench_{k}": float(bench[k]) for k in BENCH_METRICS})
    return metrics


def verify(mlflow_client: Any, version: Any) -> Verified:
    """Read a ModelVersion's evidence from its registering run and check it and every copy of it (see module doc)."""
    from mlflow.exceptions import MlflowException

    run_id = getattr(version, "run_id", None)
    if not run_id:
        problem = "no registering run: the version has no evidence record (it was not registered by mlops)"
        return Verified(None, [problem])
    try:
        run = mlflow_client.get_run(run_id)
    except MlflowException as exc:
        if getattr(exc, "error_code", "") != "RESOURCE_DOES_NOT_EXIST":
            raise
        return Verified(None, [f"its registering run {run_id} no longer exists"])
    recorded = run.data.params.get(EVIDENCE_DIGEST)
    if not recorded:
        return Verified(
            None, [f"its registering run {run_id} has no {EVIDENCE_DIGEST} parameter (registered without evidence)"]
        )
    data, unreadable = _download(mlflow_client, run_id)
    if data is None:
        return Verified(None, [f"artifact {EVIDENCE_ARTIFACT} of run {run_id} cannot be read: {unreadable}"], recorded)
    actual = digest(data)
    if actual != recorded:
        return Verified(
            None,
            [
                f"artifact {EVIDENCE_ARTIFACT} has sha256 {actual[:12]}..., not the {recorded[:12]}... recorded at "
                f"registration (run parameter {EVIDENCE_DIGEST})"
            ],
            recorded,
        )
    try:
        evidence = json.loads(data, parse_constant=_refuse_constant)
        if not isinstance(evidence, dict) or evidence.get("schema") != SCHEMA:
            raise ValueError(f"not an evidence record of schema {SCHEMA}")
        expected_tags = {**version_tags(evidence), EVIDENCE_DIGEST: recorded}
        expected_metrics = run_metrics(evidence)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return Verified(None, [f"artifact {EVIDENCE_ARTIFACT} is unreadable: {type(exc).__name__}: {exc}"], recorded)
    problems = [f"evidence: {p}" for p in invalid_values(evidence)]
    # The source must be an MLflow Model its registering run logged (models:/<model_id>), not any other model.
    logged_models = sorted({f"models:/{o.model_id}" for o in getattr(run.outputs, "model_outputs", None) or []})
    if version.source not in logged_models:
        shown = ", ".join(logged_models) or "none"
        problems.append(f"source {_show(version.source)} is not an MLflow Model its registering run logged ({shown})")
    tags = dict(version.tags or {})
    for key, value in sorted(expected_tags.items()):
        if key not in tags:
            problems.append(f"tag {key} missing (registered {value!r})")
        elif tags[key] != value:
            problems.append(f"tag {key}={_show(tags[key])} does not match the registered {value!r}")
    for key in sorted(tags):
        if (key.startswith(_MANAGED_PREFIXES) or key in _MANAGED_TAGS) and key not in expected_tags:
            problems.append(f"tag {key}={_show(tags[key])} is not in the registered evidence")
    logged = run.data.metrics
    for key, expected in sorted(expected_metrics.items()):
        if key not in logged:
            problems.append(f"run metric {key} missing (registered {expected!r})")
        elif logged[key] != expected:  # a NaN never equals, so it is always reported
            problems.append(f"run metric {key}={logged[key]!r} does not match the registered {expected!r}")
    return Verified(evidence, problems, recorded)


def _download(mlflow_client: Any, run_id: str) -> tuple[bytes | None, str]:
    """The artifact's bytes, or None and why not (a busy store is raised: that is no verdict on the evidence)."""
    from model_registry.store import is_busy
    from model_registry.tracking import first_line

    with tempfile.TemporaryDirectory(prefix="evidence-") as scratch:
        try:
            file = Path(mlflow_client.download_artifacts(run_id, EVIDENCE_ARTIFACT, scratch))
            return file.read_bytes(), ""
        except Exception as exc:  # unreadable evidence fails the gate; it does not crash it
            if is_busy(exc):
                raise
            return None, f"{type(exc).__name__}: {first_line(exc)}"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _show(value: str) -> str:
    return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "...")
