"""The statistics behind an A/B verdict: confidence intervals, significance tests, and the sample sizes a decision
needs (power analysis). Standard library only, plus numpy for the bootstrap.

Conventions: every interval is two-sided at `confidence`; a decision that a bound clears a threshold is then a
one-sided test at level (1 - confidence) / 2. Sample sizes are the n at which such a bound clears the threshold with
probability `power` when the truth is the assumed value. References:
- Wilson score interval for one proportion (Brown, Cai & DasGupta 2001, "Interval Estimation for a Binomial
  Proportion", Statistical Science 16(2)): sound even with zero errors, where the textbook Wald interval is [0, 0].
- Paired difference of two accuracies on the same inputs: the Wald interval with 0.5 added to each cell of the 2x2
  table (Agresti & Min 2005, "Simple improved confidence intervals for comparing matched proportions", Statistics
  in Medicine 24(5)); McNemar's exact test on the discordant pairs; the sample size of a paired non-inferiority
  test from the discordant proportion (Connor 1987, Biometrics 43(1), with a true difference of 0).
- Fisher's exact test (one-sided) for two independent error rates.
- A distribution-free interval for a quantile from order statistics (normal approximation of the binomial ranks),
  and a percentile bootstrap for the difference of two quantiles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

_NORMAL = NormalDist()
# Resamples of the bootstrap, and the most sample values one batch of resamples may hold (memory bound).
BOOTSTRAP_RESAMPLES = 2000
_BOOTSTRAP_BATCH_VALUES = 4_000_000


@dataclass(frozen=True)
class Interval:
    """A two-sided confidence interval."""

    low: float
    high: float

    def to_list(self, digits: int = 6) -> list[float]:
        """[low, high], rounded, for JSON."""
        return [round(self.low, digits), round(self.high, digits)]


def z_value(confidence: float) -> float:
    """The normal quantile of a two-sided interval at `confidence` (1.96 at 0.95)."""
    return _NORMAL.inv_cdf(0.5 + confidence / 2)


def z_power(power: float) -> float:
    """The normal quantile of the power (0.84 at 0.8)."""
    return _NORMAL.inv_cdf(power)


def wilson(successes: int, n: int, confidence: float) -> Interval:
    """Wilson score interval of a proportion ([0, 1] with no observations)."""
    if n <= 0:
        return Interval(0.0, 1.0)
    z, p = z_value(confidence), successes / n
    denominator = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return Interval(max(0.0, center - half), min(1.0, center + half))


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_greater(errors_a: int, n_a: int, errors_b: int, n_b: int) -> float:
    """One-sided Fisher exact p-value that A's error rate is higher than B's (1.0 when either has no requests)."""
    if n_a <= 0 or n_b <= 0:
        return 1.0
    total, errors = n_a + n_b, errors_a + errors_b
    log_all = _log_comb(total, n_a)
    upper = min(n_a, errors)
    terms = (
        _log_comb(errors, x) + _log_comb(total - errors, n_a - x) - log_all
        for x in range(errors_a, upper + 1)
        if n_a - x <= total - errors
    )
    return min(1.0, sum(math.exp(t) for t in terms))


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pairs (1.0 when there are none)."""
    discordant = only_a + only_b
    if discordant == 0:
        return 1.0
    tail = sum(math.exp(_log_comb(discordant, x) - discordant * math.log(2)) for x in range(min(only_a, only_b) + 1))
    return min(1.0, 2 * tail)


def paired_difference(only_a: int, only_b: int, n: int, confidence: float) -> Interval:
    """Interval of accuracy(A) - accuracy(B) on the same n inputs, from the inputs only A (only B) got right."""
    z = z_value(confidence)
    a, b, m = only_a + 0.5, only_b + 0.5, n + 2.0  # Agresti-Min: 0.5 added to each of the four cells
    diff = (a - b) / m
    variance = max(((a + b) - (a - b) ** 2 / m) / (m * m), 0.0)
    half = z * math.sqrt(variance)
    return Interval(max(-1.0, diff - half), min(1.0, diff + half))


def discordance(only_a: int, only_b: int, n: int) -> float:
    """The share of inputs on which two classifiers differ in correctness, with the same 0.5-per-cell adjustment."""
    return (only_a + only_b + 1.0) / (n + 2.0)


def paired_sample_size(discordant_share: float, margin: float, confidence: float, power: float) -> int:
    """Inputs a paired test needs to show A at most `margin` less accurate than B when they are equally accurate."""
    return math.ceil((z_value(confidence) + z_power(power)) ** 2 * discordant_share / (margin * margin))


def detectable_margin(discordant_share: float, n: int, confidence: float, power: float) -> float:
    """The smallest accuracy margin a paired test on n inputs can show with the given power."""
    return (z_value(confidence) + z_power(power)) * math.sqrt(discordant_share / max(n, 1))


def rate_sample_size(limit: float, rate: float, confidence: float, power: float) -> int | None:
    """Requests needed to show an error rate below `limit` (the Wilson bound under it) with probability `power` when it
    truly is `rate` (None when rate >= limit): the normal approximation, then the exact binomial power from there."""
    if rate >= limit:
        return None
    numerator = z_value(confidence) * math.sqrt(limit * (1 - limit)) + z_power(power) * math.sqrt(rate * (1 - rate))
    approx = math.ceil((numerator / (limit - rate)) ** 2)
    # The exact power of a discrete test saw-tooths around the approximation: take the first n that reaches it.
    for n in range(max(1, int(approx * 0.8)), 3 * approx + 10):
        if _rate_power(n, rate, limit, confidence) >= power:
            return n
    return 3 * approx + 10


def _rate_power(n: int, rate: float, limit: float, confidence: float) -> float:
    """P(the Wilson bound of Binomial(n, rate) errors is at most `limit`)."""
    low, high = -1, n  # the most errors that still pass lies in (low, high]
    while high - low > 1:
        mid = (low + high) // 2
        if wilson(mid, n, confidence).high <= limit:
            low = mid
        else:
            high = mid
    if low < 0:
        return 0.0
    if rate == 0:
        return 1.0
    log_p, log_q = math.log(rate), math.log1p(-rate)
    return min(1.0, sum(math.exp(_log_comb(n, k) + k * log_p + (n - k) * log_q) for k in range(low + 1)))


def _quantile_ranks(n: int, q: float, confidence: float) -> tuple[int, int]:
    """1-based order statistics bounding the q-quantile of n samples (the upper one may exceed n)."""
    z = z_value(confidence)
    spread = z * math.sqrt(n * q * (1 - q))
    return max(1, math.floor(n * q - spread)), math.ceil(n * q + spread) + 1


def quantile_interval(samples: Sequence[float], q: float, confidence: float) -> Interval | None:
    """Distribution-free interval of the q-quantile (None when too few samples to bound it from above)."""
    n = len(samples)
    if n == 0:
        return None
    low, high = _quantile_ranks(n, q, confidence)
    if high > n:
        return None
    ordered = sorted(samples)
    return Interval(ordered[low - 1], ordered[high - 1])


def quantile_sample_size(q: float, confidence: float) -> int:
    """The fewest samples whose order statistics bound the q-quantile from above."""
    n = 1
    while _quantile_ranks(n, q, confidence)[1] > n:
        n += 1
    return n


def bootstrap_quantile_difference(
    a: Sequence[float], b: Sequence[float], q: float, confidence: float, *, resamples: int = BOOTSTRAP_RESAMPLES
) -> Interval | None:
    """Percentile-bootstrap interval of quantile_q(A) - quantile_q(B) (seeded: the same samples, the same interval)."""
    import numpy as np

    if not len(a) or not len(b):
        return None
    rng = np.random.default_rng(0)
    diffs = np.concatenate(
        [
            _bootstrap_quantiles(np.asarray(a, dtype=np.float64), q, count, rng)
            - _bootstrap_quantiles(np.asarray(b, dtype=np.float64), q, count, rng)
            for count in _batches(resamples, max(len(a), len(b)))
        ]
    )
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(diffs, [tail, 100 - tail])
    return Interval(float(low), float(high))


def _batches(resamples: int, n: int) -> list[int]:
    size = max(1, _BOOTSTRAP_BATCH_VALUES // max(n, 1))
    return [min(size, resamples - start) for start in range(0, resamples, size)]


def _bootstrap_quantiles(data: Any, q: float, count: int, rng: Any) -> Any:
    import numpy as np

    picks = rng.integers(0, data.size, size=(count, data.size))
    return np.quantile(data[picks], q, axis=1, method="inverted_cdf")
