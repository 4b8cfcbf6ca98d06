"""The promotion gates: what a candidate version must show before it may become champion.

All gates are evaluated, so a refusal lists every problem at once:

- metrics: the candidate's `metric.macro_f1` and `metric.accuracy` tags are not below the champion's by more than
  `tolerance` (passes with a note when there is no champion yet);
- onnx_parity: the version tag `onnx_parity` is `passed`;
- benchmark: `bench.p95_ms` <= the p95 budget, `bench.errors` == 0 and `bench.passed` == `true`; a missing tag is
  a failed gate naming the tag;
- labels: the same labels, in the same id order, as the champion (tag `labels`, else the model's
  intent_model.json).
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model_registry.registration import LABELS_TAG, PARITY_TAG

log = logging.getLogger(__name__)

GATED_METRICS = ("macro_f1", "accuracy")
BENCH_P95 = "bench.p95_ms"
BENCH_ERRORS = "bench.errors"
BENCH_PASSED = "bench.passed"
BENCH_BUDGET = "bench.budget_ms"
# Tags hold metrics as "%.6f": a candidate equal to the limit must not fail on the last rounded digit.
_EPSILON = 1e-9


@dataclass(frozen=True)
class Gate:
    """One gate's verdict, with the numbers it was decided on."""

    name: str
    passed: bool
    detail: str
    values: dict[str, Any] = field(default_factory=dict)


def evaluate_gates(
    mlflow_client: Any,
    candidate: Any,
    champion: Any | None,
    *,
    tolerance: float,
    p95_budget_ms: float,
    tracking_uri: str | None = None,
) -> list[Gate]:
    """All four gates for a candidate ModelVersion against the champion's (None: no champion yet)."""
    cand_tags = dict(candidate.tags or {})
    champ_tags = dict(champion.tags or {}) if champion is not None else None
    cand_labels = _labels(candidate, tracking_uri)
    champ_labels = _labels(champion, tracking_uri) if champion is not None else None
    return [
        _metrics_gate(cand_tags, champ_tags, tolerance, champion.version if champion is not None else None),
        _parity_gate(cand_tags),
        _bench_gate(cand_tags, p95_budget_ms),
        _labels_gate(cand_labels, champ_labels, champion is not None),
    ]


def _metrics_gate(cand: dict[str, str], champ: dict[str, str] | None, tolerance: float, champ_version: Any) -> Gate:
    values: dict[str, Any] = {"tolerance": tolerance}
    problems: list[str] = []
    notes: list[str] = []
    for metric in GATED_METRICS:
        mine = _float(cand.get(f"metric.{metric}"))
        if mine is None:
            problems.append(f"candidate has no metric.{metric} tag")
            values[metric] = {"candidate": None}
            continue
        theirs = _float(champ.get(f"metric.{metric}")) if champ is not None else None
        if theirs is None:
            values[metric] = {"candidate": mine, "champion": None}
            notes.append(f"{metric} {mine:.4f}" + ("" if champ is None else " (champion has no value)"))
            continue
        minimum = theirs - tolerance
        values[metric] = {"candidate": mine, "champion": theirs, "minimum": round(minimum, 6)}
        text = (
            f"{metric} {mine:.4f} vs champion v{champ_version} {theirs:.4f} - tolerance {tolerance:g} "
            f"(minimum {minimum:.4f})"
        )
        (problems if mine + _EPSILON < minimum else notes).append(text)
    if champ is None:
        notes.insert(0, "no champion yet: nothing to compare with")
    passed = not problems
    return Gate("metrics", passed, "; ".join(problems if problems else notes), values)


def _parity_gate(cand: dict[str, str]) -> Gate:
    value = cand.get(PARITY_TAG)
    if value == "passed":
        return Gate("onnx_parity", True, "onnx_parity=passed", {"onnx_parity": value})
    if value is None:
        detail = f"tag {PARITY_TAG} missing: the version was registered without an accepted ONNX export"
    else:
        detail = f"{PARITY_TAG}={value}, expected passed"
    return Gate("onnx_parity", False, detail, {"onnx_parity": value})


def _bench_gate(cand: dict[str, str], budget: float) -> Gate:
    problems: list[str] = []
    p95 = _float(cand.get(BENCH_P95))
    errors = _float(cand.get(BENCH_ERRORS))
    verdict = cand.get(BENCH_PASSED)
    values = {
        "p95_ms": p95,
        "budget_ms": budget,
        "errors": errors,
        "bench_passed": verdict,
        "bench_budget_ms": _float(cand.get(BENCH_BUDGET)),
    }
    for tag, parsed in ((BENCH_P95, p95), (BENCH_ERRORS, errors)):
        if tag not in cand:
            problems.append(f"tag {tag} missing (no benchmark evidence)")
        elif parsed is None:
            problems.append(f"{tag}={cand[tag]!r} is not a number")
    if p95 is not None and p95 > budget:
        problems.append(f"p95 {p95:.1f} ms > budget {budget:.1f} ms")
    if errors is not None and errors != 0:
        problems.append(f"{BENCH_ERRORS} {errors:g} > 0")
    if verdict is None:
        problems.append(f"tag {BENCH_PASSED} missing (no benchmark verdict)")
    elif verdict.strip().lower() != "true":
        recorded = cand.get(BENCH_BUDGET)
        problems.append(f"{BENCH_PASSED}={verdict}" + (f" (benchmark's own budget {recorded} ms)" if recorded else ""))
    if problems:
        return Gate("benchmark", False, "; ".join(problems), values)
    extra = ", ".join(
        f"{label} {cand[tag]}"
        for label, tag in (("p50", "bench.p50_ms"), ("p99", "bench.p99_ms"), ("rps", "bench.throughput_rps"))
        if tag in cand
    )
    detail = f"p95 {p95:.1f} ms <= budget {budget:.1f} ms, 0 errors, {BENCH_PASSED}=true" + (
        f" ({extra})" if extra else ""
    )
    return Gate("benchmark", True, detail, values)


def _labels_gate(cand: list[str] | None, champ: list[str] | None, has_champion: bool) -> Gate:
    values = {"candidate": cand, "champion": champ}
    if cand is None:
        return Gate(
            "labels",
            False,
            f"candidate's label set unknown (no {LABELS_TAG} tag, no readable intent_model.json)",
            values,
        )
    if not has_champion:
        return Gate("labels", True, f"no champion yet: candidate has {len(cand)} labels", values)
    if champ is None:
        return Gate(
            "labels",
            False,
            f"champion's label set unknown (no {LABELS_TAG} tag, no readable intent_model.json)",
            values,
        )
    if cand == champ:
        return Gate("labels", True, f"same {len(cand)} labels as the champion", values)
    added = [x for x in cand if x not in champ]
    dropped = [x for x in champ if x not in cand]
    if not added and not dropped:
        detail = f"same {len(cand)} labels in a different id order: candidate {cand} vs champion {champ}"
    else:
        detail = f"candidate {len(cand)} labels vs champion {len(champ)}: adds {added or '[]'}, drops {dropped or '[]'}"
    return Gate("labels", False, detail, values)


def _labels(version: Any, tracking_uri: str | None) -> list[str] | None:
    """The version's labels in id order: the `labels` tag, else (versions registered before it) intent_model.json."""
    tag = (version.tags or {}).get(LABELS_TAG)
    if tag:
        return tag.split(",")
    import mlflow

    from ml.model import MODEL_INFO_FILE

    try:
        with tempfile.TemporaryDirectory(prefix="labels-") as scratch:
            path = mlflow.artifacts.download_artifacts(
                artifact_uri=f"{version.source}/{MODEL_INFO_FILE}", dst_path=scratch, tracking_uri=tracking_uri
            )
            return list(json.loads(Path(path).read_text())["labels"])
    except Exception as exc:  # noqa: BLE001 - an unreadable label map fails the gate, it does not crash it
        log.warning("could not read the labels of v%s: %s: %s", version.version, type(exc).__name__, exc)
        return None


def summary(gates: list[Gate]) -> str:
    """One line: each gate, whether it passed, and why."""
    return "; ".join(f"{g.name}: {'passed' if g.passed else 'FAILED'} ({g.detail})" for g in gates)


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
