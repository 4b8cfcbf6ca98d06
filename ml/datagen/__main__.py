"""Command line of the DVC stage: ``python -m ml.datagen --out data/prompts.jsonl --seed 13 --per-intent 400``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ml.datagen.generator import generate, write_jsonl

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: generate the dataset and write it as JSON Lines."""
    parser = argparse.ArgumentParser(
        prog="python -m ml.datagen", description="Generate the labelled intent dataset as JSON Lines."
    )
    parser.add_argument("--out", type=Path, required=True, help="output JSONL path")
    parser.add_argument("--seed", type=int, default=13, help="random seed (default: 13)")
    parser.add_argument("--per-intent", type=int, default=400, help="examples per intent (default: 400)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        examples = generate(seed=args.seed, per_intent=args.per_intent)
    except ValueError as exc:
        logger.error("%s", exc)
        return 2
    write_jsonl(examples, args.out)
    logger.info("wrote %d examples to %s", len(examples), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
