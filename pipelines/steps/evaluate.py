"""Evaluate step: the model on the test split, written as a SageMaker evaluation report (a PropertyFile), with the
hand-written held-out set scored beside it (report["natural"]; refused if it shares a prompt with the data)."""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

from ml.data import SPLITS, file_md5, load_held_out, read_split
from ml.errors import MlopsError
from ml.evaluation import evaluate_model, format_report, write_report
from pipelines.spec import SPEC
from pipelines.steps.contract import argument_parser, artifact_path, setup_logging, single_file, unpacked_input

log = logging.getLogger("pipelines.steps.evaluate")
STEP = SPEC.step("evaluate")


def main(argv: list[str] | None = None) -> int:
    """Run the evaluate step."""
    setup_logging()
    argument_parser(STEP).parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        try:
            splits = {name: read_split(artifact_path(STEP, "splits"), name) for name in SPLITS}
            everything = [example for split in splits.values() for example in split]
            natural_file = single_file(artifact_path(STEP, "natural"), "held-out set")
            natural = load_held_out(natural_file, everything)
            model_dir = unpacked_input(artifact_path(STEP, "model"), Path(scratch))
            report = evaluate_model(model_dir, splits["test"], dataset="test")
            report["natural"] = {**evaluate_model(model_dir, natural, dataset="natural"), "md5": file_md5(natural_file)}
        except MlopsError as exc:
            log.error("%s", exc)
            return 1
    write_report(report, artifact_path(STEP, "evaluation"))
    log.info("\n%s", format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
