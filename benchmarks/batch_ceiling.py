"""What micro-batching can save at the model: the cost per text of one model call of 1 text against 8.

Micro-batching turns 8 one-text model calls into one 8-text call; everything else a request costs (HTTP,
JSON, the event loop) is still paid per request. So the model's cost per text at batch 8 against batch 1 is
the ceiling on batching's throughput gain. Measured on the model alone (tokenise, run, softmax, as the
predictor does), in interleaved rounds, for real test prompts drawn at random (mixed lengths: padded to the
longest, and in length-sorted chunks as the predictor runs them) and for texts of one length.

Run: .venv/bin/python -m benchmarks.batch_ceiling --model-dir DIR [--threads 1,2] [--out FILE]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Any

from benchmarks.compare import compare
from benchmarks.load import LoadConfig, Target
from benchmarks.onnx_session import classifier, classify_in_chunks
from benchmarks.payloads import load_payloads
from benchmarks.report import emit_json

BATCH = 8
DRAWS = 16  # distinct random draws of texts per case


def measure(
    model_dir: Path, threads: int, lengths: list[int], rounds: int, requests: int, prompts: list[str]
) -> dict[str, Any]:
    """Per case: p50 ms per call and per text, 1 text per call against BATCH texts per call."""
    from benchmarks.serving import exact_length_texts

    classify = classifier(model_dir, "int8", threads)
    rng = random.Random(0)
    cases = {"real prompts (mixed lengths)": [rng.sample(prompts, BATCH) for _ in range(DRAWS)]}
    for length in lengths:
        same = exact_length_texts(model_dir, length, DRAWS * BATCH, prompts)
        cases[f"{length} tokens each"] = [same[i * BATCH : (i + 1) * BATCH] for i in range(DRAWS)]
    out: dict[str, Any] = {}
    for case, draws in cases.items():

        def one_per_call(key: str, draws: list[list[str]] = draws) -> None:
            for text in draws[int(key)]:
                classify([text])

        def padded(key: str, draws: list[list[str]] = draws) -> None:
            classify(draws[int(key)])

        def chunked(key: str, draws: list[list[str]] = draws) -> None:
            classify_in_chunks(classify, draws[int(key)], BATCH)

        targets: dict[str, Target] = {
            "1 text per call": one_per_call,
            f"{BATCH} texts per call, padded to the longest": padded,
        }
        if case.startswith("real"):
            targets[f"{BATCH} texts, length-sorted calls (the predictor)"] = chunked
        # Each sample is BATCH texts: one by one, or in one batched call.
        result = compare(
            targets,
            [str(i) for i in range(DRAWS)],
            LoadConfig(requests=requests, warmup_requests=2),
            rounds=rounds,
            baseline="1 text per call",
        )
        base_ms = result["targets"]["1 text per call"]["p50_ms"]
        rows = {
            name: {
                "p50_ms_for_8_texts": summary["p50_ms"],
                "p50_ms_per_text": round(summary["p50_ms"] / BATCH, 4),
                "gain_vs_one_text_per_call": round(base_ms / summary["p50_ms"], 3),
            }
            for name, summary in result["targets"].items()
        }
        out[case] = rows
    return out


def main(argv: list[str] | None = None) -> int:
    """Print (and optionally write) the per-text costs as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, required=True, help="a model directory with model.int8.onnx")
    parser.add_argument("--threads", default="1,2", help="intra-op thread counts to measure")
    parser.add_argument("--lengths", default="16,32,64", help="token counts for the one-length cases")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=20, help="per target per round")
    parser.add_argument(
        "--payloads",
        type=Path,
        default=None,
        help="prompts: JSONL with a 'text' field, or one per line (default: the test split)",
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    lengths = [int(x) for x in args.lengths.split(",")]
    prompts = load_payloads(args.payloads)
    out = {
        f"{threads} threads": measure(args.model_dir, threads, lengths, args.rounds, args.requests, prompts)
        for threads in (int(x) for x in args.threads.split(","))
    }
    emit_json(out, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
