"""Exact statistics over raw samples, shared by the benchmarks and the A/B endpoints."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

PERCENTILES = (50, 95, 99)


def nearest_rank(samples: Sequence[float], percentiles: Iterable[float] = PERCENTILES) -> dict[float, float]:
    """Nearest-rank percentiles (each one an observed sample, no interpolation) of a non-empty sample."""
    import numpy as np

    values = np.asarray(samples, dtype=np.float64)
    if values.size == 0:
        raise ValueError("percentiles of an empty sample")
    return {p: float(np.percentile(values, p, method="inverted_cdf")) for p in percentiles}
