"""End-to-end time and quality of the local pipeline on the embedded default, plus the hand-written natural set.

Run: .venv/bin/python -m benchmarks.pipeline_e2e
Each run uses a fresh state directory (new MLflow store, new run directory); the data is the DVC-pinned version.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_pipeline(state: Path) -> tuple[float, dict]:
    """Run `mlops pipeline run --json` in a fresh state dir; return (wall seconds, summary)."""
    env = {**os.environ, "MLOPS_STATE_DIR": str(state)}
    began = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mlops_cli", "pipeline", "run", "--json"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        check=True,
    )
    return time.perf_counter() - began, json.loads(proc.stdout)


def natural_set_report(model_dir: Path) -> dict:
    """Evaluate a model on data/natural_prompts.jsonl (never used for training)."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlops_cli",
            "evaluate",
            "--model",
            str(model_dir),
            "--data",
            str(ROOT / "data" / "natural_prompts.jsonl"),
            "--split",
            "all",
            "--json",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout)


def main(argv: list[str] | None = None) -> int:
    """Run the pipeline `--runs` times and print wall time, step times, test and natural-set metrics."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args(argv)
    rows = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as state:
            wall, summary = run_pipeline(Path(state))
            natural = natural_set_report(Path(summary["run_dir"]) / "train" / "model")
        rows.append(
            {
                "wall_seconds": round(wall, 1),
                "step_seconds": {k: round(v["seconds"] or 0, 1) for k, v in summary["steps"].items()},
                "test_macro_f1": round(summary["metrics"]["macro_f1"], 4),
                "test_accuracy": round(summary["metrics"]["accuracy"], 4),
                "natural_macro_f1": round(natural["metrics"]["macro_f1"]["value"], 4),
                "natural_accuracy": round(natural["metrics"]["accuracy"]["value"], 4),
                "natural_per_intent_f1": {k: round(v["f1"], 2) for k, v in natural["per_class"].items()},
                "data_md5": summary["data_md5"],
            }
        )
    print(json.dumps({"runs": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
