"""The promotion gates: what a candidate version must show before it may become champion.

Every gate reads the evidence recorded at registration (`model_registry.evidence`), never the version tags, which
are copies anyone with registry write access can edit. All gates are evaluated, so a refusal lists every problem:

- evidence: the candidate's and the champion's evidence verify against their runs' digests, and every copy (tags,
  run metrics) agrees with it;
- metrics: the candidate's macro_f1 and accuracy are not below the champion's by more than `tolerance` (passes
  with a note when there is no champion yet, or the champion has no recorded evidence to compare with);
- onnx_parity: the version was registered with an accepted ONNX export;
- benchmark: p95 <= the p95 budget, zero errors and the benchmark's own verdict true;
- labels: the same labels, in the same id order, as the champion.

A figure that is missing, not a number, NaN, infinite or out of range fails its gate (every comparison with NaN
is false, so each check is written as "passes only when the value is valid and within the limit").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from model_registry.evidence import Verified, number, verify

log = logging.getLogger(__name__)

GATED_METRICS = ("macro_f1", "accuracy")
# Scores are registered at full precision and shown to 6 digits: a candidate equal to the limit passes.
_EPSILON = 1e-9
_UNVERIFIED = "no verified evidence (see the evidence gate)"


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
) -> list[Gate]:
    """All gates for a candidate ModelVersion against the champion's (None: no champion yet)."""
    mine = verify(mlflow_client, candidate)
    theirs = verify(mlflow_client, champion) if champion is not None else None
    champ_version = str(champion.version) if champion is not None else None
    baseline = "no champion yet"
    if theirs is not None and not theirs.digest:
        # A champion registered before evidence was recorded (or made by hand) has nothing verified to compare with:
        # the candidate is judged on its own evidence, as with no champion (docs/promotion.md#what-the-gates-trust).
        baseline = f"champion v{champ_version} has no recorded evidence"
        theirs, champ_version = None, None
    cand_evidence = mine.evidence
    champ_evidence = theirs.evidence if theirs is not None else None
    return [
        _evidence_gate(str(candidate.version), mine, champ_version, theirs, baseline),
        _metrics_gate(cand_evidence, champ_evidence, tolerance, champ_version, baseline),
        _parity_gate(cand_evidence),
        _bench_gate(cand_evidence, p95_budget_ms),
        _labels_gate(cand_evidence, champ_evidence, champ_version, baseline),
    ]


def _evidence_gate(
    cand_version: str, mine: Verified, champ_version: str | None, theirs: Verified | None, baseline: str
) -> Gate:
    problems = [f"candidate v{cand_version}: {p}" for p in mine.problems]
    if theirs is not None:
        problems += [f"champion v{champ_version}: {p}" for p in theirs.problems]
    values = {"candidate": mine.digest or None, "champion": theirs.digest or None if theirs is not None else None}
    if problems:
        return Gate("evidence", False, "; ".join(problems), values)
    who = "candidate's" + (" and champion's" if theirs is not None else "")
    detail = f"{who} evidence matches the digest recorded at registration"
    if champ_version is None and baseline != "no champion yet":
        detail += f"; {baseline}: the candidate is judged on its own"
    return Gate("evidence", True, detail, values)


def _metrics_gate(
    cand: dict[str, Any] | None,
    champ: dict[str, Any] | None,
    tolerance: float,
    champ_version: str | None,
    baseline: str,
) -> Gate:
    values: dict[str, Any] = {"tolerance": tolerance}
    if cand is None:
        return Gate("metrics", False, f"candidate has {_UNVERIFIED}", values)
    if champ_version is not None and champ is None:
        return Gate("metrics", False, f"champion v{champ_version} has {_UNVERIFIED}: nothing to compare with", values)
    problems: list[str] = []
    notes: list[str] = []
    for metric in GATED_METRICS:
        raw = (cand.get("scores") or {}).get(metric)
        mine = number(raw, 0.0, 1.0)
        values[metric] = {"candidate": mine}
        if mine is None:
            problems.append(f"candidate's {metric} {raw!r} is not a score in [0, 1]")
            continue
        if champ is None:
            notes.append(f"{metric} {mine:.4f}")
            continue
        raw_theirs = (champ.get("scores") or {}).get(metric)
        theirs = number(raw_theirs, 0.0, 1.0)
        if theirs is None:
            problems.append(f"champion v{champ_version}'s {metric} {raw_theirs!r} is not a score in [0, 1]")
            continue
        minimum = theirs - tolerance
        values[metric] = {"candidate": mine, "champion": theirs, "minimum": round(minimum, 6)}
        text = (
            f"{metric} {mine:.4f} vs champion v{champ_version} {theirs:.4f} - tolerance {tolerance:g} "
            f"(minimum {minimum:.4f})"
        )
        (notes if mine + _EPSILON >= minimum else problems).append(text)
    if champ is None:
        notes.insert(0, f"{baseline}: nothing to compare with")
    return Gate("metrics", not problems, "; ".join(problems if problems else notes), values)


def _parity_gate(cand: dict[str, Any] | None) -> Gate:
    if cand is None:
        return Gate("onnx_parity", False, f"candidate has {_UNVERIFIED}", {"onnx_parity": None})
    value = cand.get("onnx_parity")
    if value == "passed":
        return Gate("onnx_parity", True, "onnx_parity=passed", {"onnx_parity": value})
    detail = "no accepted ONNX export was registered with this version (onnx_parity missing)"
    return Gate("onnx_parity", False, detail, {"onnx_parity": value})


def _bench_gate(cand: dict[str, Any] | None, budget: float) -> Gate:
    if cand is None:
        return Gate("benchmark", False, f"candidate has {_UNVERIFIED}", {"budget_ms": budget})
    bench = cand.get("benchmark")
    if not isinstance(bench, dict):
        detail = "no benchmark evidence: the version was registered without a benchmark report"
        return Gate("benchmark", False, detail, {"budget_ms": budget})
    p95 = number(bench.get("p95_ms"), 0.0)
    errors = number(bench.get("errors"), 0.0)
    verdict = bench.get("passed")
    recorded_budget = number(bench.get("budget_ms"), 0.0)
    values = {
        "p95_ms": p95,
        "budget_ms": budget,
        "errors": errors,
        "bench_passed": verdict,
        "bench_budget_ms": recorded_budget,
    }
    problems: list[str] = []
    if p95 is None:
        problems.append(f"p95 {bench.get('p95_ms')!r} is not a latency (a finite number of ms >= 0)")
    elif not p95 <= budget:
        problems.append(f"p95 {p95:.1f} ms > budget {budget:.1f} ms")
    if errors is None or not errors.is_integer():
        problems.append(f"bench.errors {bench.get('errors')!r} is not a count")
    elif errors != 0:
        problems.append(f"bench.errors {errors:g} > 0")
    if verdict is not True:
        shown = "false" if verdict is False else repr(verdict)
        own = f" (benchmark's own budget {recorded_budget:g} ms)" if recorded_budget is not None else ""
        problems.append(f"bench.passed={shown}{own}")
    if problems:
        return Gate("benchmark", False, "; ".join(problems), values)
    extra = ", ".join(
        f"{label} {bench[key]}"
        for label, key in (("p50", "p50_ms"), ("p99", "p99_ms"), ("rps", "throughput_rps"))
        if number(bench.get(key), 0.0) is not None
    )
    detail = f"p95 {p95:.1f} ms <= budget {budget:.1f} ms, 0 errors, bench.passed=true" + (
        f" ({extra})" if extra else ""
    )
    return Gate("benchmark", True, detail, values)


def _labels_gate(
    cand: dict[str, Any] | None, champ: dict[str, Any] | None, champ_version: str | None, baseline: str
) -> Gate:
    mine = _labels(cand)
    theirs = _labels(champ)
    values = {"candidate": mine, "champion": theirs}
    if mine is None:
        return Gate("labels", False, f"candidate's label set unknown ({_UNVERIFIED})", values)
    if champ_version is None:
        return Gate("labels", True, f"{baseline}: candidate has {len(mine)} labels", values)
    if theirs is None:
        return Gate("labels", False, f"champion v{champ_version}'s label set unknown ({_UNVERIFIED})", values)
    if mine == theirs:
        return Gate("labels", True, f"same {len(mine)} labels as the champion", values)
    added = [x for x in mine if x not in theirs]
    dropped = [x for x in theirs if x not in mine]
    if not added and not dropped:
        detail = f"same {len(mine)} labels in a different id order: candidate {mine} vs champion {theirs}"
    else:
        detail = f"candidate {len(mine)} labels vs champion {len(theirs)}: "
        detail += f"adds {added or '[]'}, drops {dropped or '[]'}"
    return Gate("labels", False, detail, values)


def _labels(evidence: dict[str, Any] | None) -> list[str] | None:
    labels = evidence.get("labels") if evidence is not None else None
    if isinstance(labels, list) and labels and all(isinstance(x, str) and x for x in labels):
        return list(labels)
    return None


def summary(gates: list[Gate]) -> str:
    """One line: each gate, whether it passed, and why."""
    return "; ".join(f"{g.name}: {'passed' if g.passed else 'FAILED'} ({g.detail})" for g in gates)
