"""The A/B report: how each production variant serves live traffic, how its predictions compare on the same
inputs, and a verdict on the candidate with the evidence behind it.

Live traffic gives each variant's share, error rate and latency percentiles (and, on the local endpoint, the
distribution of its predictions). A sample of inputs sent to every variant (pinned with TargetVariant) gives the
agreement between variants and, when the inputs carry labels, each variant's accuracy on them.

Verdicts: `promote` (the candidate is healthy and not less accurate than the baseline within the tolerance),
`rollback` (it crosses the error-rate or p95 guard, or is less accurate), `inconclusive` (too little traffic, or
no sample to compare).
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inference.deploy.traffic import LocalEndpointTraffic, stats_from_document
from inference.variants import DeploymentError, Guard, VariantStats

if TYPE_CHECKING:
    from inference.deploy.target import DeployTarget

log = logging.getLogger(__name__)

PROMOTE, ROLLBACK, INCONCLUSIVE = "promote", "rollback", "inconclusive"


@dataclass(frozen=True)
class ReportPolicy:
    """Thresholds of the verdict."""

    guard: Guard = field(default_factory=Guard)
    min_invocations: int = 100
    accuracy_tolerance: float = 0.01


def pinned_predictions(
    runtime_client: Any, endpoint: str, variant: str, texts: Sequence[str], batch_size: int = 32
) -> list[str]:
    """The intent each text gets from one variant (InvokeEndpoint with TargetVariant), in order."""
    intents: list[str] = []
    for start in range(0, len(texts), batch_size):
        body = json.dumps({"inputs": list(texts[start : start + batch_size])})
        try:
            response = runtime_client.invoke_endpoint(
                EndpointName=endpoint,
                TargetVariant=variant,
                ContentType="application/json",
                Accept="application/json",
                Body=body,
            )
        except Exception as exc:
            error = getattr(exc, "response", {}).get("Error", {})
            raise DeploymentError(
                f"variant {variant!r} of {endpoint!r} failed on the report sample: "
                f"{error.get('Code', type(exc).__name__)}: {error.get('Message', exc)}",
                hint="check `mlops endpoint status`; the sample must be texts the model server accepts",
            ) from exc
        answered = response.get("InvokedProductionVariant")
        if answered and answered != variant:
            raise DeploymentError(
                f"asked for variant {variant!r} but {answered!r} answered: the endpoint ignores TargetVariant"
            )
        payload = json.loads(response["Body"].read())
        intents += [p["intent"] for p in payload["predictions"]]
    return intents


def _distribution(intents: Sequence[str] | Mapping[str, int]) -> dict[str, float]:
    counts = Counter(intents)  # counts a sequence of intents; takes a mapping of counts as it is
    total = sum(counts.values())
    return {k: round(v / total, 4) for k, v in sorted(counts.items())} if total else {}


def build_report(
    endpoint: str,
    traffic: Mapping[str, VariantStats],
    *,
    candidate: str,
    baseline: str,
    policy: ReportPolicy = ReportPolicy(),
    weights: Mapping[str, float] | None = None,
    live_predictions: Mapping[str, Mapping[str, int]] | None = None,
    sample: Mapping[str, Sequence[str]] | None = None,
    labels: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Per-variant evidence, agreement with the baseline, and the verdict on the candidate."""
    for role, name in (("candidate", candidate), ("baseline", baseline)):
        if name not in traffic:
            raise DeploymentError(
                f"{role} variant {name!r} is not on {endpoint!r}", hint=f"variants: {', '.join(traffic)}"
            )
    if candidate == baseline:
        raise DeploymentError(
            f"the candidate and the baseline are the same variant ({candidate!r})",
            hint="name two different variants with --candidate and --baseline",
        )
    total = sum(s.invocations for s in traffic.values())
    variants: dict[str, dict[str, Any]] = {}
    for name, stats in traffic.items():
        entry = stats.to_dict()
        entry["observed_share"] = round(stats.invocations / total, 4) if total else 0.0
        if weights is not None:
            entry["current_weight"] = weights.get(name)
        if live_predictions and name in live_predictions:
            entry["prediction_distribution"] = _distribution(live_predictions[name])
        elif sample and name in sample:
            entry["prediction_distribution"] = _distribution(sample[name])
        if sample and labels is not None and name in sample:
            hits = sum(p == y for p, y in zip(sample[name], labels, strict=True))
            entry["sample_accuracy"] = round(hits / len(labels), 4) if labels else None
        variants[name] = entry
    agreement = None
    if sample and candidate in sample and baseline in sample and sample[baseline]:
        same = sum(a == b for a, b in zip(sample[candidate], sample[baseline], strict=True))
        agreement = round(same / len(sample[baseline]), 4)
    verdict, evidence = _verdict(traffic, variants, candidate, baseline, policy, agreement)
    return {
        "endpoint": endpoint,
        "candidate": candidate,
        "baseline": baseline,
        "variants": variants,
        "sample_size": len(next(iter(sample.values()))) if sample else 0,
        "labelled_sample": labels is not None,
        "agreement": agreement,
        "verdict": verdict,
        "evidence": evidence,
        "policy": {
            "max_error_rate": policy.guard.max_error_rate,
            "max_p95_ms": policy.guard.max_p95_ms,
            "min_invocations": policy.min_invocations,
            "accuracy_tolerance": policy.accuracy_tolerance,
        },
    }


def _verdict(
    traffic: Mapping[str, VariantStats],
    variants: Mapping[str, dict[str, Any]],
    candidate: str,
    baseline: str,
    policy: ReportPolicy,
    agreement: float | None,
) -> tuple[str, list[str]]:
    cand = traffic[candidate]
    evidence = [
        f"{n}: {s.invocations} invocations ({variants[n]['observed_share']:.1%} of traffic), "
        f"error rate {s.error_rate:.2%}, p95 {_ms(s.p95_ms)}"
        for n, s in traffic.items()
    ]
    if agreement is not None:
        evidence.append(f"{candidate} agrees with {baseline} on {agreement:.1%} of the sample")
    problems = cand.violations(Guard(policy.guard.max_error_rate, policy.guard.max_p95_ms, 1))
    cand_acc, base_acc = variants[candidate].get("sample_accuracy"), variants[baseline].get("sample_accuracy")
    if cand_acc is not None and base_acc is not None:
        evidence.append(f"accuracy on the labelled sample: {candidate} {cand_acc:.2%}, {baseline} {base_acc:.2%}")
        if cand_acc < base_acc - policy.accuracy_tolerance:
            problems.append(
                f"{candidate} is less accurate than {baseline} by more than {policy.accuracy_tolerance:.2%}"
            )
    if problems:
        return ROLLBACK, problems + evidence
    if cand.invocations < policy.min_invocations:
        return INCONCLUSIVE, [
            f"{candidate} has served {cand.invocations} requests, fewer than the "
            f"{policy.min_invocations} needed to judge it",
            *evidence,
        ]
    if agreement is None:
        return INCONCLUSIVE, ["no sample was compared across variants (give --inputs)", *evidence]
    return PROMOTE, [
        f"{candidate} is within the error-rate and p95 guards"
        + (" and at least as accurate as the baseline" if cand_acc is not None else ""),
        *evidence,
    ]


def endpoint_report(
    target: DeployTarget,
    endpoint: str,
    *,
    candidate: str | None = None,
    baseline: str | None = None,
    since_seconds: float | None = None,
    inputs: Path | None = None,
    sample_size: int = 200,
    policy: ReportPolicy = ReportPolicy(),
) -> dict[str, Any]:
    """The report on an endpoint's live traffic and on a labelled sample sent to every variant.

    The candidate defaults to the variant with the smallest weight, the baseline to the largest; the sample to
    this project's data/natural_prompts.jsonl, when there is one.
    """
    weights = target.manager.current_weights(endpoint)
    candidate = candidate or min(weights, key=lambda n: (weights[n], n != "challenger"))
    baseline = baseline or max((n for n in weights if n != candidate), key=lambda n: weights[n], default=candidate)
    now = time.time()
    live: dict[str, dict[str, int]] | None = None
    if isinstance(target.traffic, LocalEndpointTraffic):  # read the live traffic before the sample below adds to it
        document = target.traffic.fetch(endpoint, now - since_seconds if since_seconds else None)
        traffic = stats_from_document(document, list(weights))
        live = {n: document.get("variants", {}).get(n, {}).get("predictions", {}) for n in weights}
    else:
        traffic = target.traffic.variant_stats(endpoint, list(weights), now - (since_seconds or 3600), now)
    texts, labels = report_inputs(inputs, sample_size)
    sample = {n: pinned_predictions(target.runtime, endpoint, n, texts) for n in weights} if texts else None
    return build_report(
        endpoint,
        traffic,
        candidate=candidate,
        baseline=baseline,
        policy=policy,
        weights=weights,
        live_predictions=live,
        sample=sample,
        labels=labels if texts else None,
    )


def report_inputs(path: Path | None, limit: int) -> tuple[list[str], list[str]]:
    """Up to `limit` labelled texts from a JSONL file (default: the project's natural prompts, if any)."""
    from ml.data import load_examples
    from ml.settings import project_root

    if path is None:
        path = project_root() / "data" / "natural_prompts.jsonl"
        if not path.is_file():
            return [], []
    examples = load_examples(path, allow_duplicates=True)[:limit]
    return [e.text for e in examples], [e.intent for e in examples]


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def render_table(report: Mapping[str, Any]) -> str:
    """The report as a human-readable table with the verdict and its evidence."""
    head = (
        f"{'variant':<16} {'weight':>7} {'share':>7} {'requests':>9} {'err rate':>8} {'p50':>9} {'p95':>9} {'p99':>9} "
        f"{'accuracy':>8}"
    )
    lines = [
        f"A/B report for {report['endpoint']}: candidate {report['candidate']} vs baseline {report['baseline']}",
        head,
    ]
    for name, v in report["variants"].items():
        weight = "-" if v.get("current_weight") is None else f"{v['current_weight']:g}"
        accuracy = "-" if v.get("sample_accuracy") is None else f"{v['sample_accuracy']:.2%}"
        lines.append(
            f"{name:<16} {weight:>7} {v['observed_share']:>7.1%} {v['invocations']:>9} {v['error_rate']:>8.2%} "
            f"{_ms(v['p50_ms']):>9} {_ms(v['p95_ms']):>9} {_ms(v['p99_ms']):>9} {accuracy:>8}"
        )
    for name, v in report["variants"].items():
        dist = v.get("prediction_distribution")
        if dist:
            top = ", ".join(f"{k} {p:.0%}" for k, p in sorted(dist.items(), key=lambda kv: -kv[1])[:5])
            lines.append(f"  {name} predicts: {top}")
    if report["agreement"] is not None:
        lines.append(f"agreement on {report['sample_size']} sampled inputs: {report['agreement']:.1%}")
    lines.append(f"verdict: {report['verdict'].upper()}")
    lines += [f"  - {e}" for e in report["evidence"]]
    return "\n".join(lines)
