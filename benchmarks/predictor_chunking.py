"""Multi-text requests: texts grouped into model calls of similar length against one call padded to the longest.

Both targets run the same onnxruntime session on the same batches of real test prompts (mixed lengths), in
interleaved rounds. "padded to the longest" is what the predictor did before `length_chunks`: one call per
`max_batch` texts in request order.

Run: .venv/bin/python -m benchmarks.predictor_chunking --model-dir DIR [--batch 64] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

from benchmarks.compare import compare
from benchmarks.load import LoadConfig
from benchmarks.payloads import load_payloads


def measure(model_dir: Path, batch: int, rounds: int, requests: int, threads: int) -> dict[str, Any]:
    """p50/p95 of one `batch`-text request, length-sorted chunks vs padded to the longest."""
    from inference.predictor import OnnxPredictor
    from ml.predict import softmax

    predictor = OnnxPredictor(model_dir, variant="int8", intra_op_threads=threads)
    predictor.warmup()
    texts = load_payloads()
    rng = random.Random(0)
    batches = {f"batch{i}": rng.sample(texts, min(batch, len(texts))) for i in range(8)}

    def sorted_chunks(key: str) -> None:
        predictor.predict(batches[key])

    def padded(key: str) -> None:
        chosen = batches[key]
        for start in range(0, len(chosen), predictor.max_batch):
            softmax(predictor._logits(chosen[start : start + predictor.max_batch]))

    result = compare({"padded to the longest": padded, "length-sorted chunks": sorted_chunks}, list(batches),
                     LoadConfig(concurrency=1, requests=requests, warmup_requests=2), rounds=rounds,
                     baseline="padded to the longest")
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
    out = {batch: measure(args.model_dir, batch, args.rounds, args.requests, args.threads)
           for batch in sorted({8, args.batch})}
    text = json.dumps(out, indent=2, sort_keys=True)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
