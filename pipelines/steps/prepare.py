"""Prepare step: validate the dataset, check it is the DVC version asked for, split it."""

from __future__ import annotations

import logging
import sys

from ml.data import SplitConfig, file_md5, load_examples, split_examples, write_splits
from ml.errors import DataError, MlopsError
from pipelines.spec import SPEC
from pipelines.steps.contract import argument_parser, artifact_path, setup_logging, single_file

log = logging.getLogger("pipelines.steps.prepare")
STEP = SPEC.step("prepare")


def main(argv: list[str] | None = None) -> int:
    """Run the prepare step."""
    setup_logging()
    args = vars(argument_parser(STEP).parse_args(argv))
    data_dir, out_dir = artifact_path(STEP, "data"), artifact_path(STEP, "splits")
    try:
        dataset = single_file(data_dir, "dataset")
        md5 = file_md5(dataset)
        if args["DataMd5"] and md5 != args["DataMd5"]:
            raise DataError(f"dataset md5 is {md5}, but the run asked for DVC version {args['DataMd5']}")
        splits = split_examples(load_examples(dataset), SplitConfig(seed=args["Seed"]))
        manifest = write_splits(splits, out_dir, source_md5=md5)
    except MlopsError as exc:
        log.error("%s", exc)
        return 1
    log.info("split %s (md5 %s): %s", dataset.name, md5, {k: v["rows"] for k, v in manifest["splits"].items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
