"""Served latency of trained models side by side: a model change (tokenizer, data) must not slow serving.

Each model directory (`mlops train`, then `mlops export`) is served by a real `mlops serve` process in the latency
layout (1 worker, 2 threads, int8), one request at a time, in interleaved rounds (benchmarks.compare), after a
pause that lets the previous server's threads settle. Two input sets:

- exactly `--tokens` tokens under each model's own tokenizer: the same compute for the same shape (two
  tokenizers cut the same words into different numbers of tokens, so each model gets its own cut of the same
  test prompts);
- the hand-written natural prompts as written: what a caller sees (a larger vocabulary cuts a prompt into fewer
  tokens).

Run: .venv/bin/python -m benchmarks.served_models --model before=DIR --model after=DIR [--tokens 64] [--out FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import statistics
import sys
from pathlib import Path
from typing import Any

from benchmarks.compare import compare
from benchmarks.load import LoadConfig, Target
from benchmarks.report import emit_json
from benchmarks.servers import served
from benchmarks.serving import exact_length_texts, token_counts, token_lengths
from benchmarks.targets import http_target

log = logging.getLogger("benchmarks.served_models")


def keyed_target(url: str, texts: list[str]) -> Target:
    """A served model that answers payload "i" with its own i-th text (each model gets its own cut)."""
    call = http_target(url)
    return lambda key: call(texts[int(key)])


def mean_tokens(model_dir: Path, texts: list[str]) -> float:
    """The mean token count of `texts` under the model's tokenizer (truncated at its maximum length)."""
    return round(statistics.fmean(token_lengths(model_dir, texts)), 1)


def side_by_side(
    models: dict[str, Path], *, tokens: int, natural: list[str], rounds: int, requests: int, threads: int
) -> dict[str, Any]:
    """Per input set, each model's p50/p95/p99 and its ratios to the first model's."""
    results: dict[str, Any] = {}
    config = LoadConfig(concurrency=1, requests=requests, warmup_requests=5)
    with contextlib.ExitStack() as stack:
        urls = {
            name: stack.enter_context(served(path, precision="int8", workers=1, threads=threads))
            for name, path in models.items()
        }
        sets = {
            f"{tokens} tokens": {name: exact_length_texts(path, tokens, 16) for name, path in models.items()},
            "natural prompts": dict.fromkeys(models, natural),
        }
        for label, texts in sets.items():
            count = len(next(iter(texts.values())))
            targets = {name: keyed_target(urls[name], texts[name]) for name in models}
            result = compare(
                targets, [str(i) for i in range(count)], config, rounds=rounds, settle_s=0.3, round_warmup=1
            )
            if label == "natural prompts":
                result["mean_tokens"] = {name: mean_tokens(models[name], natural) for name in models}
            else:
                result["tokens"] = {name: token_counts(models[name], texts[name]) for name in models}
            results[label] = result
            log.info("%s done", label)
    return results


def render(results: dict[str, Any]) -> str:
    """Markdown tables: one per input set."""
    lines: list[str] = []
    for label, result in results.items():
        lines += [f"**{label}**", "", "| model | p50 ms | p95 ms | p99 ms | p50 ratio | p95 ratio |"]
        lines.append("|---|---|---|---|---|---|")
        for name, summary in result["targets"].items():
            ratios = summary["ratios_vs_baseline"]
            lines.append(
                f"| {name} | {summary['p50_ms']:.2f} | {summary['p95_ms']:.2f} | {summary['p99_ms']:.2f} | "
                f"{ratios['p50_ms']:.3f} | {ratios['p95_ms']:.3f} |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Serve the models, measure them side by side, print the tables (and write the JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", action="append", required=True, metavar="NAME=DIR", help="repeatable; the first is the baseline"
    )
    parser.add_argument("--tokens", type=int, default=64, help="tokens per request in the first set (default 64)")
    parser.add_argument("--rounds", type=int, default=30, help="interleaved rounds (default 30)")
    parser.add_argument("--requests", type=int, default=10, help="measured requests per round (default 10)")
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads of each server (default 2)")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    models: dict[str, Path] = {}
    for spec in args.model:
        name, sep, path = spec.partition("=")
        if not sep or not name or not Path(path).is_dir():
            parser.error(f"--model {spec!r}: expected NAME=DIR with an existing model directory")
        models[name] = Path(path)
    from ml.data import load_examples
    from ml.settings import natural_set_path

    natural = [e.text for e in load_examples(natural_set_path())][:64]
    results = side_by_side(
        models, tokens=args.tokens, natural=natural, rounds=args.rounds, requests=args.requests, threads=args.threads
    )
    out = {"models": {name: str(path) for name, path in models.items()}, "results": results}
    emit_json(out, args.out)
    print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
