"""Export step: ONNX fp32 + int8 of the trained model, accepted only if it matches PyTorch on the test split."""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

from ml.data import read_split
from ml.errors import MlopsError
from ml.export import export_model, format_parity
from pipelines.spec import SPEC
from pipelines.steps.contract import argument_parser, artifact_path, setup_logging, unpacked_input

log = logging.getLogger("pipelines.steps.export")
STEP = SPEC.step("export")


def main(argv: list[str] | None = None) -> int:
    """Run the export step."""
    setup_logging()
    argument_parser(STEP).parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        try:
            # SageMaker hands the training output over as model.tar.gz; the local runner as a directory.
            model_dir = unpacked_input(artifact_path(STEP, "model"), Path(scratch) / "model")
            examples = read_split(artifact_path(STEP, "splits"), "test")
            # Written straight into the declared output: export_model stages and moves files only on success,
            # so a refused export leaves the output empty and the step fails.
            report = export_model(model_dir, examples, out_dir=artifact_path(STEP, "onnx"))
        except MlopsError as exc:
            log.error("%s", exc)
            return 1
    log.info("ONNX parity on %d inputs: %s", report["inputs"]["checked"], format_parity(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
