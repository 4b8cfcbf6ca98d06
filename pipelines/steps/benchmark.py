"""Benchmark step: latency of the exported int8 model on real test prompts, gated on P95BudgetMs.

A model over budget (or with any failed request) fails the step, so the run stops before register and the
candidate never becomes `challenger`.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from pathlib import Path

from benchmarks.gate import latency_gate
from benchmarks.load import LoadConfig, run_load
from benchmarks.report import format_summary
from ml.data import read_split
from ml.errors import MlopsError
from pipelines.spec import SPEC
from pipelines.steps.contract import argument_parser, artifact_path, setup_logging, unpacked_input

log = logging.getLogger("pipelines.steps.benchmark")
STEP = SPEC.step("benchmark")
REPORT_FILE = "benchmark.json"
LOAD = LoadConfig(mode="closed", concurrency=1, requests=200, warmup_requests=20)


def servable_dir(model_dir: Path, onnx_dir: Path, scratch: Path) -> Path:
    """One directory with the tokenizer and label map of the model and the exported ONNX files (symlinks)."""
    scratch.mkdir(parents=True, exist_ok=True)
    for source in (*model_dir.iterdir(), *onnx_dir.iterdir()):
        target = scratch / source.name
        if not target.exists():
            target.symlink_to(source.resolve())
    return scratch


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark step."""
    from inference.predictor import OnnxPredictor

    setup_logging()
    args = vars(argument_parser(STEP).parse_args(argv))
    with tempfile.TemporaryDirectory() as scratch:
        try:
            model_dir = unpacked_input(artifact_path(STEP, "model"), Path(scratch) / "model")
            serve_dir = servable_dir(model_dir, artifact_path(STEP, "onnx"), Path(scratch) / "serve")
            predictor = OnnxPredictor(serve_dir, precision="int8")
            texts = [e.text for e in read_split(artifact_path(STEP, "splits"), "test")]

            def classify(text: str) -> None:
                predictor.predict([text])

            summary = run_load(classify, texts, LOAD).summary()
        except MlopsError as exc:
            log.error("%s", exc)
            return 1
    verdict = latency_gate(summary, args["P95BudgetMs"])
    out = artifact_path(STEP, "benchmark")
    out.mkdir(parents=True, exist_ok=True)
    report = {"target": "in-process onnxruntime int8, 1 client", "summary": summary, "gate": verdict.to_dict()}
    (out / REPORT_FILE).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    log.info("\n%s", format_summary(summary, name="int8 in-process"))
    if not verdict.passed:
        log.error("latency gate failed: %s; the model is not registered", "; ".join(verdict.reasons))
        return 1
    log.info("latency gate passed: p95 %.1f ms <= %.1f ms", summary["p95_ms"], args["P95BudgetMs"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
