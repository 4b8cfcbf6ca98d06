"""Train step (SageMaker training contract): splits channel in, model directory and training metrics out."""

from __future__ import annotations

import json
import logging
import os
import sys

from ml.aws import secret_value
from ml.data import read_manifest, read_split
from ml.errors import MlopsError
from ml.progress import PlainProgress
from ml.settings import environment
from ml.train_config import TrainConfig
from ml.training import train
from pipelines.spec import SPEC, TRAINING_PARAMETERS
from pipelines.steps.contract import HF_TOKEN_SECRET_ENV, argument_parser, artifact_path, setup_logging

log = logging.getLogger("pipelines.steps.train")
STEP = SPEC.step("train")
TRAINING_REPORT = "training.json"


def main(argv: list[str] | None = None) -> int:
    """Run the train step."""
    setup_logging()
    args = vars(argument_parser(STEP).parse_args(argv))
    splits_dir = artifact_path(STEP, "splits")
    model_dir, metrics_dir = artifact_path(STEP, "model"), artifact_path(STEP, "metrics")
    try:
        if os.environ.get(HF_TOKEN_SECRET_ENV):
            os.environ["HF_TOKEN"] = secret_value(os.environ[HF_TOKEN_SECRET_ENV])
        config = TrainConfig(**{field: args[name] for field, name in TRAINING_PARAMETERS.items()})
        manifest = read_manifest(splits_dir)
        splits = read_split(splits_dir, "train"), read_split(splits_dir, "validation")
        # Its output goes to a log (the local runner's step.log, CloudWatch): progress as plain lines.
        result = train(config, *splits, model_dir, on_progress=PlainProgress(log.info))
    except MlopsError as exc:
        log.error("%s", exc)
        return 1
    if result.runtime is not None and not result.runtime.is_main:
        return 0  # under torchrun the first process writes the outputs
    metrics_dir.mkdir(parents=True, exist_ok=True)
    report = {
        "params": config.to_dict(),
        "history": result.history,
        "best_epoch": result.best_epoch,
        "best_val_macro_f1": result.best_val_macro_f1,
        "seconds": result.seconds,
        "parameters": result.parameters,
        "data_md5": manifest.get("source_md5"),
        "environment": {**environment(), **(result.runtime.describe() if result.runtime else {})},
    }
    (metrics_dir / TRAINING_REPORT).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    log.info("best epoch %d, validation macro-F1 %.4f", result.best_epoch, result.best_val_macro_f1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
