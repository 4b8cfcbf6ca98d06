"""The SageMaker script contract shared by all step entry points: where inputs and outputs live.

In a container the paths are the spec's container paths (or SageMaker's SM_* variables for training);
the local runner points them elsewhere with `MLOPS_PATH_<NAME>` variables. An entry point reads only its
declared inputs and writes only its declared outputs.
"""

from __future__ import annotations

import argparse
import logging
import os
import tarfile
from pathlib import Path

from pipelines.spec import SPEC, Step, cli_flag

# Set in every step of the SageMaker pipeline: there a local registry store would vanish with the job.
REMOTE_REGISTRY_ENV = "MLOPS_REQUIRE_REMOTE_REGISTRY"
# The Secrets Manager secret holding a Hugging Face token, for gated or private hub models (HfTokenSecret).
HF_TOKEN_SECRET_ENV = "MLOPS_HF_TOKEN_SECRET"  # noqa: S105 - the name of a variable, not a secret
# Where a container's paths (/opt/ml/...) are: "/" in a job; a temporary directory where tests run the jobs the way
# SageMaker does, without root (tests/pipelines/sagemaker_emulator.py).
CONTAINER_ROOT_ENV = "MLOPS_CONTAINER_ROOT"
# SageMaker's training toolkit exposes channels and outputs through these variables.
_TRAINING_ENV = {"model": "SM_MODEL_DIR", "metrics": "SM_OUTPUT_DATA_DIR"}


def env_var(name: str) -> str:
    """The variable the local runner sets to relocate artifact `name`."""
    return f"MLOPS_PATH_{name.upper()}"


def artifact_path(step: Step, name: str) -> Path:
    """Resolve the directory of one of `step`'s inputs or outputs."""
    for artifact in (*step.inputs, *step.outputs):
        if artifact.name != name:
            continue
        if step.kind == "training":
            is_input = artifact in step.inputs
            sm_var = f"SM_CHANNEL_{name.upper()}" if is_input else _TRAINING_ENV.get(name, "")
            if sm_var and os.environ.get(sm_var):
                return Path(os.environ[sm_var])
        relocated = Path(os.environ.get(CONTAINER_ROOT_ENV, "/")) / artifact.container_path.lstrip("/")
        return Path(os.environ.get(env_var(name)) or relocated)
    raise KeyError(f"step {step.name!r} declares no artifact {name!r}")


def argument_parser(step: Step) -> argparse.ArgumentParser:
    """An argparse parser taking the step's parameters as --kebab-case flags with the spec's types and defaults."""
    casts = {"String": str, "Integer": int, "Float": float}
    parser = argparse.ArgumentParser(prog=f"python -m {step.entry_point}", description=step.description)
    for name in step.arguments:
        param = SPEC.parameter(name)
        parser.add_argument(
            cli_flag(name),
            dest=name,
            type=casts[param.type],
            default=param.default,
            required=param.default is None,  # no params.yaml here: the caller passes every value
            help=param.description,
        )
    return parser


def setup_logging() -> None:
    """Log to stderr the way CloudWatch and the local runner both show it.

    The Hugging Face hub stays reachable unless the caller says otherwise (`mlops` sets HF_HUB_OFFLINE=1 for the
    local runner's steps; a SageMaker job downloads `-p Model=microsoft/deberta-v3-base`).
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def single_file(input_dir: Path, what: str) -> Path:
    """An external input's one file: on SageMaker the S3 object (a DVC object is named by its md5, no extension),
    locally the runner's copy; DataError naming what is wrong otherwise."""
    from ml.errors import DataError

    files = sorted(p for p in input_dir.iterdir() if p.is_file()) if input_dir.is_dir() else []
    if len(files) != 1:
        raise DataError(f"expected exactly one {what} file in {input_dir}, found {len(files)}")
    return files[0]


def unpacked_input(input_dir: Path, scratch: Path) -> Path:
    """The input's files as a directory: SageMaker hands training outputs over as a .tar.gz, the local runner not."""
    archives = sorted(input_dir.glob("*.tar.gz")) if input_dir.is_dir() else []
    if len(archives) != 1:
        return input_dir
    scratch.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archives[0]) as tar:
        tar.extractall(scratch, filter="data")
    return scratch
