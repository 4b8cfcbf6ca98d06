"""The A/B report: how each production variant serves live traffic, how its predictions compare on the same
inputs, and a verdict on the candidate backed by statistics.

Live traffic (by default since the endpoint's current config and weights took effect) gives each variant's share,
error rate and latency percentiles (and, on the local endpoint, the distribution of its predictions and the raw
latencies). A labelled sample sent to every variant (pinned with TargetVariant) gives the agreement between
variants and each one's accuracy on the same inputs.

The verdict weighs three questions, each with a confidence interval (`inference.deploy.significance`):
- errors: is the candidate's error rate below the guard, and no higher than the baseline's (Fisher's exact test)?
- latency: is its p95 below the guard (an order-statistic interval from raw samples; CloudWatch's per-minute p95
  on AWS, which has no interval)? The p95 difference with the baseline has a bootstrap interval.
- accuracy: is it at most the tolerance less accurate than the baseline on the labelled sample (a paired
  interval; McNemar's exact test)?
Each question needs a minimum sample (power analysis), printed before the verdict. `rollback` as soon as one
interval shows harm; `promote` only when every question is answered within its minimum sample; otherwise
`inconclusive`, saying how many more requests or labelled inputs a decision needs.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inference.deploy import significance as sig
from inference.variants import DeploymentError, Guard, VariantStats

if TYPE_CHECKING:
    from inference.deploy.target import DeployTarget

log = logging.getLogger(__name__)

PROMOTE, ROLLBACK, INCONCLUSIVE = "promote", "rollback", "inconclusive"
PASS, FAIL, UNDECIDED = "pass", "fail", "undecided"
# The labelled inputs a report sends to every variant unless told otherwise: the hand-written prompts, then the
# held-out test split of the workspace's dataset.
DEFAULT_SAMPLE_SIZE = 500


@dataclass(frozen=True)
class ReportPolicy:
    """Thresholds of the verdict, and the confidence and power of its statistics."""

    guard: Guard = field(default_factory=Guard)
    min_invocations: int = 100  # a floor on the candidate's live requests, whatever the power analysis asks
    accuracy_tolerance: float = 0.02
    confidence: float = 0.95
    power: float = 0.8

    def __post_init__(self) -> None:
        for name in ("confidence", "power"):
            value = getattr(self, name)
            if not 0 < value < 1:
                raise DeploymentError(
                    f"the {name} level must be strictly between 0 and 1, got {value:g}",
                    hint="e.g. 0.95 for 95%" if name == "confidence" else "e.g. 0.8 for 80%",
                )
        if not 0 < self.accuracy_tolerance < 1:
            raise DeploymentError(
                f"the accuracy tolerance must be strictly between 0 and 1, got {self.accuracy_tolerance:g}",
                hint="e.g. 0.02: the candidate may be at most 2 points less accurate (0 could never be shown)",
            )
        if self.min_invocations < 0:
            raise DeploymentError(f"min invocations must be >= 0, got {self.min_invocations}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "max_error_rate": self.guard.max_error_rate,
            "max_p95_ms": self.guard.max_p95_ms,
            "min_invocations": self.min_invocations,
            "accuracy_tolerance": self.accuracy_tolerance,
            "confidence": self.confidence,
            "power": self.power,
        }


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
    latencies: Mapping[str, Sequence[float]] | None = None,
    sample: Mapping[str, Sequence[str]] | None = None,
    labels: Sequence[str] | None = None,
    window: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Per-variant evidence with intervals, the tests and sample sizes behind the verdict, and the verdict."""
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
        entry["error_rate_ci"] = sig.wilson(stats.errors, stats.invocations, policy.confidence).to_list()
        entry["observed_share"] = round(stats.invocations / total, 4) if total else 0.0
        if weights is not None:
            entry["current_weight"] = weights.get(name)
        if live_predictions and name in live_predictions:
            entry["prediction_distribution"] = _distribution(live_predictions[name])
        elif sample and name in sample:
            entry["prediction_distribution"] = _distribution(sample[name])
        if sample and labels and name in sample:
            hits = sum(p == y for p, y in zip(sample[name], labels, strict=True))
            entry["sample_accuracy"] = round(hits / len(labels), 4)
            entry["sample_accuracy_ci"] = sig.wilson(hits, len(labels), policy.confidence).to_list()
        variants[name] = entry
    agreement = None
    if sample and candidate in sample and baseline in sample and sample[baseline]:
        same = sum(a == b for a, b in zip(sample[candidate], sample[baseline], strict=True))
        agreement = round(same / len(sample[baseline]), 4)
    tests = {
        "errors": _errors_test(traffic[candidate], traffic[baseline], policy),
        "latency": _latency_test(traffic[candidate], latencies or {}, candidate, baseline, policy),
        "accuracy": _accuracy_test(sample, labels, candidate, baseline, policy),
    }
    verdict, evidence = _verdict(tests, traffic, variants, candidate, baseline, agreement)
    return {
        "endpoint": endpoint,
        "candidate": candidate,
        "baseline": baseline,
        "window": dict(window) if window else None,
        "variants": variants,
        "sample_size": len(labels) if labels and sample else 0,
        "labelled_sample": bool(labels),
        "agreement": agreement,
        "tests": tests,
        "required": {
            "live_requests": tests["errors"]["required"],
            "labelled_inputs": tests["accuracy"]["required"],
        },
        "verdict": verdict,
        "evidence": evidence,
        "policy": policy.to_dict(),
    }


def _errors_test(cand: VariantStats, base: VariantStats, policy: ReportPolicy) -> dict[str, Any]:
    """Is the candidate's error rate below the guard, and no higher than the baseline's?"""
    limit, conf = policy.guard.max_error_rate, policy.confidence
    interval = sig.wilson(cand.errors, cand.invocations, conf)
    # Planned for a candidate as reliable as the baseline has been (and a guard it can be shown to respect).
    expected = min(base.error_rate, limit / 2)
    required = max(policy.min_invocations, sig.rate_sample_size(limit, expected, conf, policy.power) or 0)
    p_worse = sig.fisher_greater(cand.errors, cand.invocations, base.errors, base.invocations)
    alpha = (1 - conf) / 2
    line = (
        f"errors: {cand.variant} {cand.error_rate:.2%} ({cand.errors}/{cand.invocations}, {conf:.0%} CI "
        f"{_pct(interval)}) against a guard of {limit:.2%}; vs {base.variant} {base.error_rate:.2%} "
        f"({base.errors}/{base.invocations}), Fisher's exact p = {p_worse:.3g} that it errs more"
    )
    result: dict[str, Any] = {
        "rate": round(cand.error_rate, 6),
        "interval": interval.to_list(),
        "limit": limit,
        "baseline_rate": round(base.error_rate, 6),
        "p_value_worse_than_baseline": round(p_worse, 6),
        "requests": cand.invocations,
        "required": required,
        "summary": line,
    }
    if interval.low > limit:
        return {**result, "status": FAIL, "finding": f"{cand.variant}'s error rate is above the {limit:.2%} guard"}
    if p_worse < alpha:
        return {
            **result,
            "status": FAIL,
            "finding": f"{cand.variant} errs significantly more than {base.variant} (p = {p_worse:.3g})",
        }
    if interval.high <= limit and cand.invocations >= required:
        return {**result, "status": PASS}
    return {
        **result,
        "status": UNDECIDED,
        "need": max(required - cand.invocations, 1),
        "finding": f"errors: need {max(required - cand.invocations, 1)} more live requests on {cand.variant} "
        f"({cand.invocations} of the {required} it takes to show an error rate under {limit:.2%})",
    }


def _latency_test(
    cand: VariantStats,
    latencies: Mapping[str, Sequence[float]],
    candidate: str,
    baseline: str,
    policy: ReportPolicy,
) -> dict[str, Any]:
    """Is the candidate's p95 below the guard? With raw samples, an interval; and the p95 difference with the
    baseline."""
    limit, conf = policy.guard.max_p95_ms, policy.confidence
    required = sig.quantile_sample_size(0.95, conf)
    samples = latencies.get(candidate)
    result: dict[str, Any] = {"p95_ms": cand.p95_ms, "limit_ms": limit, "required": required}
    if samples is None:  # CloudWatch: per-minute percentiles, no samples
        result["interval_ms"] = None
        result["summary"] = (
            f"latency: {candidate} p95 {_ms(cand.p95_ms)} (the worst CloudWatch minute: percentiles without samples "
            f"have no interval) against a guard of {limit:g} ms"
        )
        if cand.p95_ms is not None and cand.p95_ms > limit and cand.invocations >= policy.min_invocations:
            return {**result, "status": FAIL, "finding": f"{candidate}'s p95 {cand.p95_ms:.1f} ms is over {limit:g} ms"}
        if cand.p95_ms is not None and cand.p95_ms <= limit and cand.invocations >= required:
            return {**result, "status": PASS}
        return {**result, "status": UNDECIDED, "need": max(required - cand.invocations, 1)}
    interval = sig.quantile_interval(samples, 0.95, conf)
    difference = sig.bootstrap_quantile_difference(samples, latencies.get(baseline) or [], 0.95, conf)
    result["interval_ms"] = interval.to_list(3) if interval else None
    result["difference_interval_ms"] = difference.to_list(3) if difference else None
    result["summary"] = (
        f"latency: {candidate} p95 {_ms(cand.p95_ms)} ({conf:.0%} CI "
        f"{'n/a' if interval is None else f'{interval.low:.1f}-{interval.high:.1f} ms'}) against a guard of "
        f"{limit:g} ms"
        + (
            f"; {difference.low:+.1f} to {difference.high:+.1f} ms vs {baseline} (bootstrap)"
            if difference is not None
            else ""
        )
    )
    if interval is not None and interval.low > limit:
        return {**result, "status": FAIL, "finding": f"{candidate}'s p95 is over the {limit:g} ms guard"}
    if interval is not None and interval.high <= limit:
        return {**result, "status": PASS}
    need = max(required - len(samples), 1)
    return {
        **result,
        "status": UNDECIDED,
        "need": need,
        "finding": f"latency: {candidate}'s p95 is not yet bounded under {limit:g} ms "
        f"({len(samples)} answered requests; at least {required} are needed)",
    }


def _accuracy_test(
    sample: Mapping[str, Sequence[str]] | None,
    labels: Sequence[str] | None,
    candidate: str,
    baseline: str,
    policy: ReportPolicy,
) -> dict[str, Any]:
    """Is the candidate at most the tolerance less accurate than the baseline on the same labelled inputs?"""
    tolerance, conf, power = policy.accuracy_tolerance, policy.confidence, policy.power
    if not sample or not labels or candidate not in sample or baseline not in sample:
        required = sig.paired_sample_size(sig.discordance(0, 0, 0), tolerance, conf, power)
        return {
            "status": UNDECIDED,
            "required": required,
            "need": required,
            "summary": "accuracy: no labelled sample was compared across variants",
            "finding": "accuracy: no labelled sample was sent to the variants (give --inputs)",
        }
    n = len(labels)
    cand_right = [p == y for p, y in zip(sample[candidate], labels, strict=True)]
    base_right = [p == y for p, y in zip(sample[baseline], labels, strict=True)]
    only_cand = sum(c and not b for c, b in zip(cand_right, base_right, strict=True))
    only_base = sum(b and not c for c, b in zip(cand_right, base_right, strict=True))
    interval = sig.paired_difference(only_cand, only_base, n, conf)
    share = sig.discordance(only_cand, only_base, n)
    required = sig.paired_sample_size(share, tolerance, conf, power)
    detectable = sig.detectable_margin(share, n, conf, power)
    p_value = sig.mcnemar_exact(only_cand, only_base)
    difference = (only_cand - only_base) / n
    result: dict[str, Any] = {
        "inputs": n,
        "candidate_only_right": only_cand,
        "baseline_only_right": only_base,
        "difference": round(difference, 6),
        "interval": interval.to_list(),
        "tolerance": tolerance,
        "mcnemar_p": round(p_value, 6),
        "required": required,
        "detectable_margin": round(detectable, 6),
        "summary": (
            f"accuracy: {candidate} minus {baseline} {difference:+.2%} on {n} labelled inputs ({conf:.0%} CI "
            f"{interval.low:+.2%} to {interval.high:+.2%}; right only on {candidate} {only_cand}, only on {baseline} "
            f"{only_base}; McNemar p = {p_value:.3g}); a tolerance of {tolerance:.2%} needs {required} inputs, "
            f"these {n} can show {detectable:.2%}"
        ),
    }
    if interval.high < -tolerance:
        return {
            **result,
            "status": FAIL,
            "finding": f"{candidate} is less accurate than {baseline} by more than {tolerance:.2%}",
        }
    if interval.low >= -tolerance and n >= required:
        return {**result, "status": PASS}
    # More inputs narrow the interval; at the observed difference, this many would exclude the tolerance.
    gap = difference + tolerance
    at_observed = math.ceil(sig.z_value(conf) ** 2 * max(share - difference**2, 0.0) / gap**2) if gap > 0 else math.inf
    wanted = max(required, at_observed)
    need = max(int(wanted) - n, 1) if math.isfinite(wanted) else None
    return {
        **result,
        "status": UNDECIDED,
        "need": need,
        "finding": (
            f"accuracy: need {need} more labelled inputs to show {candidate} within {tolerance:.2%} of {baseline}"
            if need is not None
            else f"accuracy: {candidate} looks less accurate than {baseline} by about the tolerance; more inputs "
            "will not settle it at this tolerance"
        )
        + f" (these {n} can show a margin of {detectable:.2%}: give --inputs with more labelled prompts, "
        "or a larger --accuracy-tolerance)",
    }


def _verdict(
    tests: Mapping[str, Mapping[str, Any]],
    traffic: Mapping[str, VariantStats],
    variants: Mapping[str, dict[str, Any]],
    candidate: str,
    baseline: str,
    agreement: float | None,
) -> tuple[str, list[str]]:
    evidence = [
        f"{n}: {s.invocations} invocations ({variants[n]['observed_share']:.1%} of traffic), "
        f"error rate {s.error_rate:.2%}, p95 {_ms(s.p95_ms)}"
        for n, s in traffic.items()
    ]
    evidence += [t["summary"] for t in tests.values()]
    if agreement is not None:
        evidence.append(f"{candidate} agrees with {baseline} on {agreement:.1%} of the sample")
    failed = [t["finding"] for t in tests.values() if t["status"] == FAIL]
    if failed:
        return ROLLBACK, failed + evidence
    open_questions = [t.get("finding", t["summary"]) for t in tests.values() if t["status"] == UNDECIDED]
    if open_questions:
        return INCONCLUSIVE, open_questions + evidence
    return PROMOTE, [
        f"{candidate} is within the error-rate and p95 guards and at most {tests['accuracy']['tolerance']:.2%} "
        f"less accurate than {baseline}, each at the report's confidence",
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
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    policy: ReportPolicy = ReportPolicy(),
) -> dict[str, Any]:
    """The report on an endpoint's live traffic and on a labelled sample sent to every variant.

    The candidate defaults to the variant with the smallest weight, the baseline to the largest; the window to the
    time the endpoint's current config and weights took effect; the sample to `report_inputs`.
    """
    from inference.deploy.traffic import LocalEndpointTraffic, stats_from_document

    described = target.manager.describe(endpoint)
    weights = target.manager.current_weights(endpoint)
    candidate = candidate or min(weights, key=lambda n: (weights[n], n != "challenger"))
    baseline = baseline or max((n for n in weights if n != candidate), key=lambda n: weights[n], default=candidate)
    now = time.time()
    if since_seconds is None:
        since, origin = _epoch(described["LastModifiedTime"]), "the current config and weights"
    else:
        since, origin = now - since_seconds, f"the last {since_seconds:g} s"
    window = {"since": round(since, 3), "until": round(now, 3), "from": origin}
    live: dict[str, dict[str, int]] | None = None
    latencies: dict[str, list[float]] | None = None
    if isinstance(target.traffic, LocalEndpointTraffic):  # read the live traffic before the sample below adds to it
        document = target.traffic.fetch(endpoint, since, latencies=True)
        traffic = stats_from_document(document, list(weights))
        variants = document.get("variants", {})
        live = {n: variants.get(n, {}).get("predictions", {}) for n in weights}
        latencies = {n: variants.get(n, {}).get("latencies_ms", []) for n in weights}
    else:
        traffic = target.traffic.variant_stats(endpoint, list(weights), since, now)
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
        latencies=latencies,
        sample=sample,
        labels=labels if texts else None,
        window=window,
    )


def _epoch(value: datetime | float) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def report_inputs(path: Path | None, limit: int) -> tuple[list[str], list[str]]:
    """Up to `limit` labelled texts from a JSONL file; by default the project's hand-written prompts, then the held-out
    test split of its dataset (at the default split seed: a model trained with another `Seed` saw some of it)."""
    from ml.data import load_examples, split_examples
    from ml.settings import default_data_path, natural_set_path

    if path is not None:
        examples = load_examples(path, allow_duplicates=True)
    else:
        natural, data = natural_set_path(), default_data_path()
        examples = load_examples(natural, allow_duplicates=True) if natural.is_file() else []
        if data.is_file():
            examples += split_examples(load_examples(data))["test"]
    examples = examples[:limit]
    return [e.text for e in examples], [e.intent for e in examples]


def _pct(interval: sig.Interval) -> str:
    return f"{interval.low:.2%}-{interval.high:.2%}"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def render_table(report: Mapping[str, Any]) -> str:
    """The report as a human-readable table: the evidence, the sample sizes a decision needs, then the verdict."""
    policy, window = report["policy"], report.get("window")
    conf = f"{policy['confidence']:.0%} CI"
    head = (
        f"{'variant':<16} {'weight':>7} {'share':>7} {'requests':>9} {'err rate':>8} {f'({conf})':>15} {'p50':>9} "
        f"{'p95':>9} {'p99':>9} {'accuracy':>8} {f'({conf})':>15}"
    )
    title = f"A/B report for {report['endpoint']}: candidate {report['candidate']} vs baseline {report['baseline']}"
    if window:
        title += f", traffic since {window['from']} ({window['until'] - window['since']:.0f} s)"
    lines = [title, head]
    for name, v in report["variants"].items():
        weight = "-" if v.get("current_weight") is None else f"{v['current_weight']:g}"
        accuracy = "-" if v.get("sample_accuracy") is None else f"{v['sample_accuracy']:.2%}"
        acc_ci = "-" if v.get("sample_accuracy_ci") is None else _span(v["sample_accuracy_ci"])
        lines.append(
            f"{name:<16} {weight:>7} {v['observed_share']:>7.1%} {v['invocations']:>9} {v['error_rate']:>8.2%} "
            f"{_span(v['error_rate_ci']):>15} {_ms(v['p50_ms']):>9} {_ms(v['p95_ms']):>9} {_ms(v['p99_ms']):>9} "
            f"{accuracy:>8} {acc_ci:>15}"
        )
    for name, v in report["variants"].items():
        dist = v.get("prediction_distribution")
        if dist:
            top = ", ".join(f"{k} {p:.0%}" for k, p in sorted(dist.items(), key=lambda kv: -kv[1])[:5])
            lines.append(f"  {name} predicts: {top}")
    if report["agreement"] is not None:
        lines.append(f"agreement on {report['sample_size']} sampled inputs: {report['agreement']:.1%}")
    tests, required = report["tests"], report["required"]
    lines.append(
        f"a decision needs ({policy['confidence']:.0%} confidence, {policy['power']:.0%} power): "
        f"{required['live_requests']} live requests on {report['candidate']} (has {tests['errors']['requests']}), "
        f"{required['labelled_inputs']} labelled inputs for a {policy['accuracy_tolerance']:.2%} accuracy tolerance "
        f"(has {report['sample_size']})"
    )
    lines.append(f"verdict: {report['verdict'].upper()}")
    lines += [f"  - {e}" for e in report["evidence"]]
    return "\n".join(lines)


def _span(bounds: Sequence[float]) -> str:
    return f"{bounds[0]:.2%}-{bounds[1]:.2%}"
