"""Multi-text requests: texts grouped into model calls of similar length against one call padded to the longest.

Both targets run the same onnxruntime session (int8) on the same batches of real test prompts (mixed lengths),
tokenised and softmaxed as the predictor does, in interleaved rounds. "padded to the longest" is what the
predictor did before `ml.predict.length_chunks`: one call per 64 texts in request order.

Run: .venv/bin/python -m benchmarks.predictor_chunking --model-dir DIR [--batch 64] [--out FILE]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Any

from benchmarks.compare import compare
from benchmarks.load import LoadConfig
from benchmarks.onnx_session import classifier, classify_in_chunks
from benchmarks.payloads import load_payloads
from benchmarks.report import emit_json

MAX_BATCH = 64  # the predictor's default


def measure(model_dir: Path, batch: int, rounds: int, requests: int, threads: int) -> dict[str, Any]:
    """p50/p95 of one `batch`-text request, length-sorted chunks vs padded to the longest."""
    classify = classifier(model_dir, "int8", threads)

    rng = random.Random(0)
    texts = load_payloads()
    batches = {f"batch{i}": rng.sample(texts, min(batch, len(texts))) for i in range(8)}

    def sorted_chunks(key: str) -> None:
        classify_in_chunks(classify, batches[key], MAX_BATCH)

    def padded(key: str) -> None:
        chosen = batches[key]
        for start in range(0, len(chosen), MAX_BATCH):
            classify(chosen[start : start + MAX_BATCH])

    result = compare(
        {"padded to the longest": padded, "length-sorted chunks": sorted_chunks},
        list(batches),
        LoadConfig(concurrency=1, requests=requests, warmup_requests=2),
        rounds=rounds,
        baseline="padded to the longest",
    )
    return {"model_dir": str(model_dir), "batch": batch, "threads": threads, **result}


def main(argv: list[str] | None = None) -> int:
    """Print (and optionally write) the comparison as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, required=True, help="a model directory with model.int8.onnx")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=10, help="per target per round")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    out = {
        batch: measure(args.model_dir, batch, args.rounds, args.requests, args.threads)
        for batch in sorted({8, args.batch})
    }
    emit_json(out, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
