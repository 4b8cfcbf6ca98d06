"""params.yaml is the one home of the pipeline's tunable defaults: the spec, TrainConfig, the SageMaker definition and
the DVC stages all take them from it; where it is absent (a SageMaker job), the steps need every value passed."""

from __future__ import annotations

import gzip
import io
import os
import shlex
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path
from typing import Any

from ml.params import load_params
from ml.train_config import TrainConfig
from pipelines.spec import PARAMS_FILE_KEYS, SPEC, TRAINING_PARAMETERS
from tests.conftest import ROOT


def dvc_stage_options(name: str) -> dict[str, Any]:
    """The options DVC's stage `name` passes to its `mlops` command, rendered from params.yaml by DVC and parsed by
    the command itself."""
    from dvc.repo import Repo

    from mlops_cli.main import cli

    with Repo(str(ROOT)) as repo:
        (stage,) = [s for s in repo.index.stages if s.name == name]
        argv = shlex.split(stage.cmd)
    assert argv[:3] == ["python", "-m", "mlops_cli"], stage.cmd
    command = cli.commands[argv[3]]  # type: ignore[attr-defined]
    with command.make_context(argv[3], argv[4:]) as ctx:
        return dict(ctx.params)


def test_every_default_comes_from_params_yaml(definition: dict[str, Any]) -> None:
    """params.yaml == the spec's defaults == the SageMaker definition's == TrainConfig's == what DVC's stages pass."""
    values = load_params().flat()
    assert set(PARAMS_FILE_KEYS.values()) <= set(values)
    definition_defaults = {p["Name"]: p["DefaultValue"] for p in definition["Parameters"]}
    config = TrainConfig()
    train_options = dvc_stage_options("train")
    for name, key in PARAMS_FILE_KEYS.items():
        assert SPEC.parameter(name).default == values[key], name
        assert definition_defaults[name] == values[key], name
    for field, name in TRAINING_PARAMETERS.items():
        assert getattr(config, field) == SPEC.parameter(name).default, field
        assert train_options[field] == SPEC.parameter(name).default, field
    # The stage splits as a pipeline run does: by the training seed.
    assert train_options["split_seed"] in (None, values["train.seed"])
    evaluate_options = dvc_stage_options("evaluate")
    assert evaluate_options["min_macro_f1"] == SPEC.parameter("MinMacroF1").default
    assert evaluate_options["split_seed"] == SPEC.parameter("Seed").default
    assert evaluate_options["split"] == "test"


def test_a_sagemaker_job_needs_no_params_file(tmp_path: Path) -> None:
    """The code bundle a job runs holds no params.yaml: the spec still imports, a step takes every value as an
    argument (the definition passes them all), and a default asked for says where it should have come from."""
    from pipelines.sagemaker_pipeline import build_code_bundle

    bundle, _ = build_code_bundle()
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(bundle))) as tar:
        tar.extractall(tmp_path, filter="data")
    assert not (tmp_path / "params.yaml").exists()
    script = textwrap.dedent(
        f"""
        import pipelines.spec as spec
        from ml.errors import MlopsError
        from ml.train_config import TrainConfig
        from pipelines.steps.contract import argument_parser

        assert spec.__file__.startswith({str(tmp_path)!r}), spec.__file__
        assert all(spec.SPEC.parameter(name).default is None for name in spec.PARAMS_FILE_KEYS)
        parser = argument_parser(spec.SPEC.step("train"))
        args = vars(parser.parse_args(
            "--model tiny --epochs 2 --learning-rate 0.01 --batch-size 8 --max-length 64 --seed 5".split()
        ))
        config = TrainConfig(**{{f: args[n] for f, n in spec.TRAINING_PARAMETERS.items()}})
        assert (config.epochs, config.seed, config.patience) == (2, 5, 3), config
        for ask in (TrainConfig, spec.SPEC.defaults):
            try:
                ask()
            except MlopsError as exc:
                assert "params.yaml not found" in str(exc), exc
            else:
                raise AssertionError(f"{{ask}} had defaults without params.yaml")
        try:
            parser.parse_args(["--epochs", "2"])
        except SystemExit as exc:
            assert exc.code == 2
        else:
            raise AssertionError("the step ran without the values params.yaml would have given")
        """
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "the following arguments are required: --model, --learning-rate" in proc.stderr
