"""Command line of the DVC stage: ``python -m ml.datagen --out data/prompts.jsonl --seed 13 --per-intent 400
--feedback data/feedback.jsonl``: the generated rows, then the added ones (docs/architecture.md, "Feedback and data
versions")."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from ml.datagen.generator import generate, merge_feedback, write_jsonl

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: generate the dataset and write it as JSON Lines."""
    parser = argparse.ArgumentParser(
        prog="python -m ml.datagen", description="Generate the labelled intent dataset as JSON Lines."
    )
    parser.add_argument("--out", type=Path, required=True, help="output JSONL path")
    parser.add_argument("--seed", type=int, default=13, help="random seed (default: 13)")
    parser.add_argument("--per-intent", type=int, default=400, help="examples per intent (default: 400)")
    parser.add_argument(
        "--feedback", type=Path, default=None, help="JSONL of added rows (text, intent, source) to append after them"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        examples = generate(seed=args.seed, per_intent=args.per_intent)
        if args.feedback is not None:
            examples = merge_feedback(examples, _read_rows(args.feedback))
    except (OSError, ValueError) as exc:
        logger.error("%s", exc)
        return 2
    write_jsonl(examples, args.out)
    logger.info("wrote %d examples to %s", len(examples), args.out)
    return 0


def _read_rows(path: Path) -> list[dict]:
    """The JSON objects of a JSON Lines file, blank lines skipped; ValueError naming the first bad line."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)  # json.JSONDecodeError is a ValueError
        if not isinstance(row, dict):
            raise ValueError(f"{path}:{number}: expected a JSON object")
        rows.append(row)
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
