"""How often the drift report trips: on undrifted traffic (the false-alarm rate, which must stay at most alpha) and on
shifted traffic (the detection rate), at a few traffic sizes.

Run: .venv/bin/python -m benchmarks.drift_calibration --model MODEL_DIR --data DATA.jsonl
         [--draws 200] [--sizes 50,100,200] [--alpha 0.01] [--permutations 1000] [--out FILE.json]

Every draw splits the held-out part of DATA (validation + test, never trained on) at random into a reference of
REFERENCE_SIZE texts and the rest, and compares a sample of "traffic" with the reference by
`inference.monitoring.drift.compare`, the function `mlops monitor drift` calls. The traffic scenarios:
- `undrifted`: held-out texts the reference left out (the same distribution);
- `intent mix`: such texts with two intents (INTENT_SHIFT) making half of the traffic instead of a fifth;
- `truncated`: such texts cut to their first half of words (clients that clip prompts);
- `natural`: the hand-written prompts of data/natural_prompts.jsonl (people, not the generator, wrote them).
Each draw takes `size` texts without replacement. Figures and the command: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inference.monitoring.drift import CHECKS, DEFAULT_ALPHA, Sample, compare
from inference.monitoring.features import Featurizer
from ml.data import SplitConfig, load_examples, split_examples

ROOT = Path(__file__).resolve().parents[1]
NATURAL = ROOT / "data" / "natural_prompts.jsonl"
SCENARIOS = ("undrifted", "intent mix", "truncated", "natural")
# The intent-mix shift: these two intents make SHIFT_SHARE of the traffic (a fifth in the balanced data).
INTENT_SHIFT = ("code_generation", "translation")
SHIFT_SHARE = 0.5
# Reference texts per draw: the held-out part of the data is 800 texts; half is the reference, the rest is traffic.
REFERENCE_SIZE = 400


@dataclass
class Pools:
    """The held-out texts (validation + test) with their captured predictions and features, the same texts cut
    short, the natural prompts, and which held-out texts belong to the shifted intents."""

    held_out: Sample
    truncated: Sample
    natural: Sample
    shifted: np.ndarray
    labels: list[str]


def featurize(featurizer: Featurizer, texts: list[str]) -> Sample:
    """What capture plus `drift_report` would hold for these texts: the served predictions and the features."""
    predictions = featurizer.predict(texts)
    features = featurizer.features(texts)
    return Sample(
        intents=[p["intent"] for p in predictions],
        confidences=np.array([p["confidence"] for p in predictions], dtype=float),
        lengths=features.lengths,
        unknown=features.unknown,
        embeddings=features.embeddings,
    )


def truncate(text: str) -> str:
    """The first half of a text's words (at least two)."""
    words = text.split()
    return " ".join(words[: max(2, len(words) // 2)])


def build_pools(model_dir: Path, data: Path, *, seed: int = 13, natural: Path = NATURAL) -> Pools:
    """Featurize a model's held-out data, its truncated copy and the natural prompts once; draws index them."""
    featurizer = Featurizer(model_dir)
    splits = split_examples(load_examples(data), SplitConfig(seed=seed))
    held_out = [e for name in ("validation", "test") for e in splits[name]]
    return Pools(
        held_out=featurize(featurizer, [e.text for e in held_out]),
        truncated=featurize(featurizer, [truncate(e.text) for e in held_out]),
        natural=featurize(featurizer, [e.text for e in load_examples(natural, allow_duplicates=True)]),
        shifted=np.array([e.intent in INTENT_SHIFT for e in held_out], dtype=bool),
        labels=list(featurizer.predictor.labels),
    )


def draw(
    pools: Pools, scenario: str, *, size: int, reference_size: int, rng: np.random.Generator
) -> tuple[Sample, Sample]:
    """(reference, traffic) for one draw: a fresh random reference from the held-out texts each time, traffic from
    the held-out texts it left out (undrifted, intent mix, truncated) or from the natural prompts.

    A fresh partition per draw measures the procedure's false-alarm rate over the reference's randomness too, which
    is what alpha promises: one fixed reference compared again and again would measure that reference's luck."""
    order = rng.permutation(pools.held_out.size)
    reference, rest = order[:reference_size], order[reference_size:]
    if scenario == "natural":
        return pools.held_out.subset(reference), pools.natural.subset(
            rng.choice(pools.natural.size, size=size, replace=False)
        )
    weights = None
    if scenario == "intent mix":
        shifted = pools.shifted[rest]
        weights = np.where(shifted, SHIFT_SHARE / max(1, shifted.sum()), (1 - SHIFT_SHARE) / max(1, (~shifted).sum()))
        weights = weights / weights.sum()
    traffic = rest[rng.choice(len(rest), size=size, replace=False, p=weights)]
    source = pools.truncated if scenario == "truncated" else pools.held_out
    return pools.held_out.subset(reference), source.subset(traffic)


def trip_rates(
    pools: Pools,
    scenario: str,
    *,
    size: int,
    draws: int,
    alpha: float = DEFAULT_ALPHA,
    permutations: int = 1000,
    reference_size: int = REFERENCE_SIZE,
    seed: int = 0,
) -> dict[str, Any]:
    """Draw `draws` (reference, traffic) pairs; count the reports that say drift, and each check's trips."""
    rng = np.random.default_rng(seed)
    tripped = 0
    per_check = dict.fromkeys(CHECKS, 0)
    for index in range(draws):
        reference, traffic = draw(pools, scenario, size=size, reference_size=reference_size, rng=rng)
        report = compare(
            reference,
            traffic,
            labels=pools.labels,
            alpha=alpha,
            min_samples=min(size, 2),
            permutations=permutations,
            seed=seed * 100_003 + index,
        )
        tripped += report.drifted
        for check in report.checks:
            per_check[check.name] += check.drifted
    return {"size": size, "draws": draws, "tripped": tripped, "rate": tripped / draws, "per_check": per_check}


def upper_bound(tripped: int, draws: int, confidence: float = 0.95) -> float:
    """One-sided Clopper-Pearson upper bound on a rate seen as tripped/draws."""
    from scipy.stats import beta

    return 1.0 if tripped >= draws else float(beta.ppf(confidence, tripped + 1, draws - tripped))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Measure every scenario at every size; print a Markdown table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="Model directory (with its ONNX export).")
    parser.add_argument("--data", type=Path, required=True, help="The model's training data (JSONL).")
    parser.add_argument("--seed", type=int, default=13, help="The split seed the model was trained with.")
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--sizes", default="50,100,200")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="Comma-separated subset of the scenarios.")
    parser.add_argument("--alpha", type=float, default=DEFAULT_ALPHA)
    parser.add_argument("--permutations", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    pools = build_pools(args.model, args.data, seed=args.seed)
    rows = []
    for scenario in args.scenarios.split(","):
        if scenario not in SCENARIOS:
            parser.error(f"unknown scenario {scenario!r}: choose from {', '.join(SCENARIOS)}")
        for size in (int(s) for s in args.sizes.split(",")):
            row = trip_rates(
                pools,
                scenario,
                size=size,
                draws=args.draws,
                alpha=args.alpha,
                permutations=args.permutations,
            )
            row.update({"scenario": scenario, "upper_95": upper_bound(row["tripped"], row["draws"])})
            rows.append(row)
            print(
                f"{scenario:<10} n={size:<4} tripped {row['tripped']}/{row['draws']} ({row['rate']:.1%}; "
                f"95% upper {row['upper_95']:.1%}) per check {row['per_check']}",
                flush=True,
            )
    result = {
        "alpha": args.alpha,
        "permutations": args.permutations,
        "reference_size": REFERENCE_SIZE,
        "pool_sizes": {"held_out": pools.held_out.size, "natural": pools.natural.size},
        "seconds": round(time.perf_counter() - began, 1),
        "rows": rows,
    }
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
