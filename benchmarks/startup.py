"""Start-up time of the CLI: `mlops --help` against a bare `python -c pass`, timed as whole processes.

Run: .venv/bin/python -m benchmarks.startup --runs 20
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path


def time_command(cmd: list[str], runs: int) -> list[float]:
    """Wall seconds of `runs` executions of cmd (after one unrecorded warm-up)."""
    subprocess.run(cmd, capture_output=True, check=True)
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        samples.append(time.perf_counter() - began)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    """min / median / max in milliseconds."""
    return {
        k: round(v * 1000, 1)
        for k, v in (("min", min(samples)), ("median", statistics.median(samples)), ("max", max(samples)))
    }


def main(argv: list[str] | None = None) -> int:
    """Time `mlops --help` and `mlops pipeline --help` against the interpreter's own start-up, interleaved."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    mlops = str(Path(sys.executable).with_name("mlops"))
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "mlops --help": [mlops, "--help"],
        "mlops pipeline run --help": [mlops, "pipeline", "run", "--help"],
    }
    results = {name: summary(time_command(cmd, args.runs)) for name, cmd in commands.items()}
    base = results["python -c pass"]["median"]
    for row in results.values():
        row["x_python"] = round(row["median"] / base, 2)
    print(json.dumps({"runs": args.runs, "results_ms": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
