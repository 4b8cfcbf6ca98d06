"""What the export's attention rewrite (ml.export_attention) saves: the raw onnxruntime session, one text per call.

The same random-weights base-shaped model is exported twice: with the rewrite (scores only the relative positions
a sequence uses) and with transformers' attention as is (all 512). Both graphs run on the same inputs at 32, 64
and 128 tokens, fp32 and int8, in interleaved rounds; the figures include the largest difference in class
probabilities between the two graphs on those inputs.

Run: .venv/bin/python -m benchmarks.attention_export [--preset base] [--out FILE]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.compare import compare
from benchmarks.load import LoadConfig
from benchmarks.onnx_session import classifier
from benchmarks.report import emit_json
from benchmarks.serving import bench_model, exact_length_texts, raw_session_target
from ml.model import ONNX_FILES

REWRITE, AS_IS = "rewritten attention (default)", "transformers' attention"


def measure(sliced: Path, as_is: Path, lengths: list[int], rounds: int, requests: int, threads: int) -> dict[str, Any]:
    """Per length and precision: p50/p95 of both graphs, ratios against the graph as in transformers."""
    out: dict[str, Any] = {}
    for length in lengths:
        texts = exact_length_texts(sliced, length, 16)
        for precision in ONNX_FILES:
            targets = {
                REWRITE: raw_session_target(sliced, precision, threads, texts),
                AS_IS: raw_session_target(as_is, precision, threads, texts),
            }
            result = compare(
                targets,
                texts,
                LoadConfig(requests=requests, warmup_requests=3),
                rounds=rounds,
                baseline=AS_IS,
                settle_s=0.2,
                round_warmup=1,
            )
            new, old = (classifier(d, precision, threads)(texts) for d in (sliced, as_is))
            result["max_abs_probability_diff"] = float(np.abs(new - old).max())
            out[f"{length} tokens, {precision}"] = result
    return out


def main(argv: list[str] | None = None) -> int:
    """Export (once, cached) and measure both graphs; print (and optionally write) the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="base")
    parser.add_argument(
        "--cache", type=Path, default=None, help="where the benchmark models live (default <state>/bench)"
    )
    parser.add_argument("--lengths", default="32,64,128")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--requests", type=int, default=10, help="measured requests per target per round")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    from ml.settings import state_dir

    root = args.cache or state_dir() / "bench"
    sliced = bench_model(args.preset, root)
    as_is = bench_model(args.preset, root, slice_positions=False)
    out = {
        "preset": args.preset,
        "threads": args.threads,
        "results": measure(
            sliced, as_is, [int(x) for x in args.lengths.split(",")], args.rounds, args.requests, args.threads
        ),
    }
    emit_json(out, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
