"""The client's last-resort fallback: how long the keyword heuristic takes on one text, by the text's length.

Texts: a test prompt, the same prompt followed by filler up to 10 kB, 100 kB and 1 MB, and 1 MB of the first half
of an `A.*B` rule repeated ("if if if ...", what made the rules' regexes backtrack). Each is classified `--repeat`
times; the median and the maximum are reported.

Run: .venv/bin/python -m benchmarks.heuristic_cost [--repeat 20] [--out FILE]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.report import emit_json
from inference.client import heuristic

PROMPT = "Write a Python function that parses a CSV file and returns the average of each column"
FILLER = "lorem ipsum dolor sit amet "


def texts() -> dict[str, str]:
    """The measured texts by name."""
    out = {"prompt": PROMPT}
    for size, name in ((10_000, "10 kB"), (100_000, "100 kB"), (1_000_000, "1 MB")):
        out[name] = (PROMPT + " " + FILLER * (size // len(FILLER)))[:size]
    out["1 MB of 'if '"] = ("if " * 400_000)[:1_000_000]
    return out


def measure(repeat: int) -> dict[str, Any]:
    """Median and max milliseconds of heuristic.classify per text."""
    rows = []
    for name, text in texts().items():
        seconds = []
        for _ in range(repeat):
            start = time.perf_counter()
            heuristic.classify(text)
            seconds.append(time.perf_counter() - start)
        rows.append(
            {
                "text": name,
                "chars": len(text),
                "median_ms": round(statistics.median(seconds) * 1000, 3),
                "max_ms": round(max(seconds) * 1000, 3),
            }
        )
    return {"max_chars": heuristic.MAX_CHARS, "repeat": repeat, "rows": rows}


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    emit_json(measure(args.repeat), args.out)


if __name__ == "__main__":
    main()
