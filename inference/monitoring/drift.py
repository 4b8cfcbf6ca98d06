"""Two-sample drift checks for text traffic, each with a statistic, a p-value and a plain verdict, and one report
whose false-alarm rate is the stated alpha.

The checks (docs/operations.md#drift says how to read them):
- `intents`: chi-square test of homogeneity between the intents predicted on the traffic and those the same model
  predicts on held-out training data. Against held-out *predictions* rather than training *labels*: the model's
  own confusions shift its predicted mix away from the label mix, and a goodness-of-fit test against the labels
  trips on that alone once traffic is large (the label mix is still shown in the plot);
- `confidence`: two-sample Kolmogorov-Smirnov test on the top-class confidence;
- `length`: two-sample Kolmogorov-Smirnov test on tokens per text (ties make it conservative);
- `unknown_tokens`: Fisher's exact test on how many texts hold at least one unknown token. Per text, not per
  token: tokens of one text are not independent draws, and a per-token test would trip on one odd prompt;
- `embedding`: maximum mean discrepancy (Gaussian kernel, median-distance bandwidth on the pooled sample) between the
  model's sentence embeddings of the two samples, its p-value from a permutation test.

Bonferroni: each check is judged at alpha / (number of checks), so the chance that any check trips on undrifted
traffic is at most alpha. The calibration (false-alarm and detection rates) is measured by
`benchmarks/drift_calibration.py`, figures in docs/benchmarks.md#drift-calibration.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

DRIFT = "drift"
NO_DRIFT = "no drift"
INSUFFICIENT = "insufficient data"
VERDICTS = (DRIFT, NO_DRIFT, INSUFFICIENT)

CHECKS = ("intents", "confidence", "length", "unknown_tokens", "embedding")
DEFAULT_ALPHA = 0.01
DEFAULT_MIN_SAMPLES = 50
# Enough permutations that the smallest p-value (1 / (permutations + 1)) is well below alpha / len(CHECKS).
DEFAULT_PERMUTATIONS = 2000
# Cochran's rule: the chi-square approximation holds when every expected count is at least this.
MIN_EXPECTED = 5.0
# Texts per side the MMD test uses (a seeded subsample above it): the kernel matrix grows with the square.
MMD_MAX_TEXTS = 1000


@dataclass(frozen=True)
class Check:
    """One test: its statistic, p-value, the threshold it is judged at, and whether it trips."""

    name: str
    test: str
    statistic: float
    p_value: float
    threshold: float
    drifted: bool
    summary: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output."""
        return asdict(self)


@dataclass(frozen=True)
class Sample:
    """What one side of the comparison holds: per-text predictions and features, aligned, except that the
    embeddings may be of a random subsample of the texts (the MMD test caps each side at MMD_MAX_TEXTS)."""

    intents: Sequence[str]
    confidences: np.ndarray
    lengths: np.ndarray
    unknown: np.ndarray
    embeddings: np.ndarray

    @property
    def size(self) -> int:
        """Number of texts."""
        return len(self.intents)

    def subset(self, index: np.ndarray) -> Sample:
        """The texts at `index` (embeddings must be aligned with the texts)."""
        return Sample(
            intents=[self.intents[i] for i in index],
            confidences=self.confidences[index],
            lengths=self.lengths[index],
            unknown=self.unknown[index],
            embeddings=self.embeddings[index],
        )


@dataclass
class DriftReport:
    """The verdict over all checks, the checks, and where the inputs came from."""

    verdict: str
    alpha: float
    min_samples: int
    checks: list[Check]
    current_size: int
    reference_size: int
    labels: list[str]
    reference: dict[str, Any] = field(default_factory=dict)
    capture: dict[str, Any] = field(default_factory=dict)
    plot_path: Path | None = None
    # The distributions the plot draws (intent shares, confidence / length histograms, unknown rates, a 2-D
    # projection of the embeddings); kept out of to_dict's top level, which stays small.
    figures: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def drifted(self) -> bool:
        """True when the verdict is drift."""
        return self.verdict == DRIFT

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output (`--json`)."""
        return {
            "verdict": self.verdict,
            "drifted": self.drifted,
            "alpha": self.alpha,
            "per_check_threshold": self.alpha / len(self.checks) if self.checks else self.alpha,
            "correction": "bonferroni",
            "min_samples": self.min_samples,
            "current_size": self.current_size,
            "reference_size": self.reference_size,
            "checks": {c.name: c.to_dict() for c in self.checks},
            "reference": self.reference,
            "capture": self.capture,
            "plot_path": str(self.plot_path) if self.plot_path else None,
        }


def compare(
    reference: Sample,
    current: Sample,
    *,
    labels: Sequence[str],
    alpha: float = DEFAULT_ALPHA,
    min_samples: int = DEFAULT_MIN_SAMPLES,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
    training_labels: Sequence[str] | None = None,
) -> DriftReport:
    """Run every check of `current` against `reference`; verdict "insufficient data" below min_samples texts."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    threshold = alpha / len(CHECKS)
    rng = np.random.default_rng(seed)
    checks = [
        intent_check(reference.intents, current.intents, labels, threshold),
        ks_check("confidence", reference.confidences, current.confidences, threshold, "top-class confidence"),
        ks_check("length", reference.lengths, current.lengths, threshold, "tokens per text"),
        unknown_check(reference.unknown, current.unknown, threshold),
        mmd_check(reference.embeddings, current.embeddings, threshold, permutations=permutations, rng=rng),
    ]
    if current.size < min_samples or reference.size < min_samples:
        verdict = INSUFFICIENT
    else:
        verdict = DRIFT if any(c.drifted for c in checks) else NO_DRIFT
    return DriftReport(
        verdict=verdict,
        alpha=alpha,
        min_samples=min_samples,
        checks=checks,
        current_size=current.size,
        reference_size=reference.size,
        labels=list(labels),
        figures=_figures(reference, current, labels, training_labels),
    )


def intent_check(reference: Sequence[str], current: Sequence[str], labels: Sequence[str], threshold: float) -> Check:
    """Chi-square test of homogeneity of predicted intents; intents expected fewer than MIN_EXPECTED times in the
    traffic are pooled into one bin (with sparser cells the chi-square approximation trips too often)."""
    from scipy.stats import chi2_contingency

    ref_counts, cur_counts = Counter(reference), Counter(current)
    names = [label for label in labels if ref_counts[label] or cur_counts[label]]
    names += sorted((set(ref_counts) | set(cur_counts)) - set(names))
    table = np.array([[ref_counts[n] for n in names], [cur_counts[n] for n in names]], dtype=float)
    if len(names) < 2 or table.sum(axis=1).min() == 0:
        return _untestable("intents", "chi-square homogeneity", threshold, "fewer than two intents or an empty side")
    shares = table / table.sum(axis=1, keepdims=True)
    moved = sorted(zip(names, shares[1] - shares[0], strict=True), key=lambda x: -abs(x[1]))[:3]
    expected = table.sum(axis=1).min() * table.sum(axis=0) / table.sum()
    rare = expected < MIN_EXPECTED
    pooled = table[:, ~rare]
    if rare.any():
        pooled = np.column_stack([pooled, table[:, rare].sum(axis=1)])
    if pooled.shape[1] < 2:
        return _untestable("intents", "chi-square homogeneity", threshold, "too few texts per intent")
    result = chi2_contingency(pooled, correction=False)
    p_value = float(result.pvalue)
    return Check(
        name="intents",
        test="chi-square homogeneity",
        statistic=float(result.statistic),
        p_value=p_value,
        threshold=threshold,
        drifted=p_value < threshold,
        summary="predicted-intent mix moved most: " + ", ".join(f"{n} {d:+.1%}" for n, d in moved),
        detail={
            "dof": int(result.dof),
            "pooled_intents": [n for n, r in zip(names, rare, strict=True) if r],
            "reference_shares": dict(zip(names, shares[0].tolist(), strict=True)),
            "current_shares": dict(zip(names, shares[1].tolist(), strict=True)),
        },
    )


def ks_check(name: str, reference: np.ndarray, current: np.ndarray, threshold: float, what: str) -> Check:
    """Two-sample Kolmogorov-Smirnov test of a per-text number."""
    from scipy.stats import ks_2samp

    if len(reference) == 0 or len(current) == 0:
        return _untestable(name, "two-sample Kolmogorov-Smirnov", threshold, "an empty side")
    result = ks_2samp(np.asarray(reference, dtype=float), np.asarray(current, dtype=float))
    p_value = float(result.pvalue)
    ref_median, cur_median = float(np.median(reference)), float(np.median(current))
    return Check(
        name=name,
        test="two-sample Kolmogorov-Smirnov",
        statistic=float(result.statistic),
        p_value=p_value,
        threshold=threshold,
        drifted=p_value < threshold,
        summary=f"median {what} {ref_median:.3g} -> {cur_median:.3g}",
        detail={"reference_median": ref_median, "current_median": cur_median},
    )


def unknown_check(reference: np.ndarray, current: np.ndarray, threshold: float) -> Check:
    """Fisher's exact test on the share of texts holding an unknown token."""
    from scipy.stats import fisher_exact

    if len(reference) == 0 or len(current) == 0:
        return _untestable("unknown_tokens", "Fisher exact", threshold, "an empty side")
    ref_hits, cur_hits = int(np.sum(reference)), int(np.sum(current))
    table = [[ref_hits, len(reference) - ref_hits], [cur_hits, len(current) - cur_hits]]
    odds, p_value = fisher_exact(table)
    ref_rate, cur_rate = ref_hits / len(reference), cur_hits / len(current)
    return Check(
        name="unknown_tokens",
        test="Fisher exact",
        statistic=float(odds),
        p_value=float(p_value),
        threshold=threshold,
        drifted=float(p_value) < threshold,
        summary=f"texts with an unknown token {ref_rate:.1%} -> {cur_rate:.1%}",
        detail={"reference_rate": ref_rate, "current_rate": cur_rate},
    )


def mmd_check(
    reference: np.ndarray,
    current: np.ndarray,
    threshold: float,
    *,
    permutations: int = DEFAULT_PERMUTATIONS,
    rng: np.random.Generator | None = None,
    max_texts: int = MMD_MAX_TEXTS,
) -> Check:
    """Maximum mean discrepancy between embeddings, with a permutation p-value."""
    rng = rng or np.random.default_rng(0)
    if len(reference) < 2 or len(current) < 2:
        return _untestable("embedding", "MMD permutation", threshold, "fewer than two texts on a side")
    x = _cap(np.asarray(reference, dtype=np.float64), max_texts, rng)
    y = _cap(np.asarray(current, dtype=np.float64), max_texts, rng)
    statistic, p_value, bandwidth = mmd_permutation_test(x, y, permutations=permutations, rng=rng)
    return Check(
        name="embedding",
        test="MMD permutation",
        statistic=statistic,
        p_value=p_value,
        threshold=threshold,
        drifted=p_value < threshold,
        summary=f"MMD^2 {statistic:.3g} over {permutations} permutations",
        detail={"bandwidth": bandwidth, "permutations": permutations, "texts_used": [len(x), len(y)]},
    )


def mmd_permutation_test(
    x: np.ndarray, y: np.ndarray, *, permutations: int, rng: np.random.Generator
) -> tuple[float, float, float]:
    """(biased MMD^2, permutation p-value, kernel bandwidth) for samples x (n, d) and y (m, d).

    All permutations are scored at once: with s the 0/1 membership vector of x, the sum of the kernel over x-x
    pairs is s'Ks, so one matrix product scores every permutation.
    """
    pooled = np.concatenate([x, y])
    n, total = len(x), len(pooled)
    squared = np.sum(pooled**2, axis=1)
    distances = np.maximum(squared[:, None] + squared[None, :] - 2.0 * pooled @ pooled.T, 0.0)
    upper = distances[np.triu_indices(total, k=1)]
    median = float(np.median(upper[upper > 0])) if np.any(upper > 0) else 1.0
    kernel = np.exp(-distances / median)
    members = np.zeros((permutations + 1, total))
    members[0, :n] = 1.0
    for row in range(1, permutations + 1):
        members[row, rng.permutation(total)[:n]] = 1.0
    m = total - n
    k_members = kernel @ members.T  # (total, P): row i, column p = sum of k(i, j) over j in x under permutation p
    xx = np.einsum("ip,pi->p", k_members, members)
    row_sums = kernel.sum(axis=1)
    xy = members @ row_sums - xx  # sum over i in x, j in y
    yy = kernel.sum() - xx - 2.0 * xy
    stats = xx / n**2 + yy / m**2 - 2.0 * xy / (n * m)
    observed = float(stats[0])
    p_value = float((np.sum(stats[1:] >= observed) + 1) / (permutations + 1))
    return observed, p_value, float(np.sqrt(median))


def _cap(values: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    if len(values) <= limit:
        return values
    return values[np.sort(rng.choice(len(values), size=limit, replace=False))]


def _untestable(name: str, test: str, threshold: float, why: str) -> Check:
    return Check(name, test, float("nan"), 1.0, threshold, False, f"not testable: {why}")


def _figures(
    reference: Sample, current: Sample, labels: Sequence[str], training_labels: Sequence[str] | None
) -> dict[str, Any]:
    def shares(values: Sequence[str]) -> list[float]:
        counts = Counter(values)
        total = max(1, len(values))
        return [counts[label] / total for label in labels]

    figures: dict[str, Any] = {
        "labels": list(labels),
        "reference_intents": shares(reference.intents),
        "current_intents": shares(current.intents),
        "reference_confidences": reference.confidences.tolist(),
        "current_confidences": current.confidences.tolist(),
        "reference_lengths": reference.lengths.tolist(),
        "current_lengths": current.lengths.tolist(),
        "unknown_rates": [
            float(np.mean(reference.unknown)) if reference.size else 0.0,
            float(np.mean(current.unknown)) if current.size else 0.0,
        ],
    }
    if training_labels is not None:
        figures["training_labels"] = shares(training_labels)
    if reference.size >= 2 and current.size >= 1:
        # The first two principal axes of the reference embeddings, both samples projected on them.
        centre = reference.embeddings.mean(axis=0)
        _, _, axes = np.linalg.svd(reference.embeddings - centre, full_matrices=False)
        figures["reference_projection"] = ((reference.embeddings - centre) @ axes[:2].T).tolist()
        figures["current_projection"] = ((current.embeddings - centre) @ axes[:2].T).tolist()
    return figures


_SHORT_TEST = {
    "chi-square homogeneity": "chi-square",
    "two-sample Kolmogorov-Smirnov": "KS",
    "Fisher exact": "Fisher",
    "MMD permutation": "MMD",
}


def plot(report: DriftReport, path: Path) -> Path:
    """One PNG with a panel per check (reference in grey, traffic in colour) and the verdict in its title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = report.figures
    checks = {c.name: c for c in report.checks}
    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    colour = "tab:red" if report.drifted else "tab:blue"
    ref_style = {"color": "0.6", "label": f"reference (n={report.reference_size})"}
    cur_style = {"color": colour, "label": f"traffic (n={report.current_size})"}

    def title(ax: Any, name: str, what: str) -> None:
        check = checks[name]
        mark = "DRIFT" if check.drifted else "ok"
        ax.set_title(
            f"{what}: {mark}  (p={check.p_value:.2g}, threshold {check.threshold:.2g})",
            fontsize=10,
            color="tab:red" if check.drifted else "black",
        )

    ax = axes[0][0]
    labels = figures["labels"]
    positions = np.arange(len(labels))
    ax.bar(positions - 0.2, figures["reference_intents"], width=0.4, **ref_style)
    ax.bar(positions + 0.2, figures["current_intents"], width=0.4, **cur_style)
    if "training_labels" in figures:
        ax.scatter(positions, figures["training_labels"], marker="_", s=200, color="black", label="training labels")
    ax.set_xticks(positions, labels, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("share of texts")
    ax.legend(fontsize=8)
    title(ax, "intents", "Predicted intents")

    ax = axes[0][1]
    # Cumulative distributions: the KS statistic is their largest vertical gap.
    for values, style in ((figures["reference_confidences"], ref_style), (figures["current_confidences"], cur_style)):
        ordered = np.sort(np.asarray(values, dtype=float))
        if len(ordered):
            ax.step(ordered, np.arange(1, len(ordered) + 1) / len(ordered), where="post", **style)
    ax.set_xlabel("top-class confidence")
    ax.set_ylabel("share of texts at or below")
    ax.legend(fontsize=8)
    title(ax, "confidence", "Confidence")

    ax = axes[0][2]
    longest = max([1, *figures["reference_lengths"], *figures["current_lengths"]])
    bins = np.arange(0, longest + 2) if longest <= 60 else np.linspace(0, longest + 1, 41)
    ax.hist(figures["reference_lengths"], bins=bins, density=True, alpha=0.6, **ref_style)
    ax.hist(figures["current_lengths"], bins=bins, density=True, alpha=0.6, **cur_style)
    ax.set_xlabel("tokens per text")
    ax.legend(fontsize=8)
    title(ax, "length", "Input length")

    ax = axes[1][0]
    ax.bar([0, 1], figures["unknown_rates"], color=["0.6", colour])
    ax.set_xticks([0, 1], ["reference", "traffic"])
    ax.set_ylabel("share of texts with an unknown token")
    title(ax, "unknown_tokens", "Unknown tokens")

    ax = axes[1][1]
    if "reference_projection" in figures:
        ref_points = np.asarray(figures["reference_projection"])
        cur_points = np.asarray(figures["current_projection"])
        ax.scatter(ref_points[:, 0], ref_points[:, 1], s=6, alpha=0.5, **ref_style)
        ax.scatter(cur_points[:, 0], cur_points[:, 1], s=6, alpha=0.5, **cur_style)
        ax.set_xlabel("reference PC 1")
        ax.set_ylabel("reference PC 2")
        ax.legend(fontsize=8)
    title(ax, "embedding", "Sentence embeddings")

    ax = axes[1][2]
    ax.axis("off")
    rows = [
        [
            c.name,
            _SHORT_TEST.get(c.test, c.test),
            f"{c.statistic:.3g}",
            f"{c.p_value:.2g}",
            "DRIFT" if c.drifted else "ok",
        ]
        for c in report.checks
    ]
    table = ax.table(
        cellText=rows,
        colLabels=["check", "test", "statistic", "p-value", "verdict"],
        colWidths=[0.3, 0.16, 0.18, 0.18, 0.18],
        loc="center",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1.0, 1.6)
    ax.set_title(
        f"Bonferroni: each check at alpha/{len(report.checks)} = {report.alpha / len(report.checks):.2g}", fontsize=10
    )

    fig.suptitle(
        f"Drift report: {report.verdict.upper()}  (alpha {report.alpha}, {report.current_size} texts of traffic vs "
        f"{report.reference_size} reference)",
        fontsize=14,
        color=colour,
    )
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial.png")
    fig.savefig(partial, dpi=100)
    plt.close(fig)
    partial.replace(path)
    return path
