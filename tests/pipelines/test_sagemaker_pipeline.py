"""The SageMaker Pipeline built from the spec: deterministic, valid, wired as the spec says, and usable on moto.

Golden file: tests/pipelines/golden/pipeline_definition.json holds the definition with the code hash masked.
After an intended change to the spec or the builder, regenerate it with
    UPDATE_GOLDEN=1 .venv/bin/pytest tests/pipelines/test_sagemaker_pipeline.py -k golden
and review the diff.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ml.errors import MlopsError
from pipelines.spec import SPEC
from tests.conftest import ROOT, run_cli
from tests.pipelines.conftest import BUCKET, REGION, ROLE

GOLDEN = Path(__file__).parent / "golden" / "pipeline_definition.json"


def all_steps(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Steps by name, condition branches included."""
    found: dict[str, dict[str, Any]] = {}

    def walk(steps: list[dict[str, Any]]) -> None:
        for step in steps:
            found[step["Name"]] = step
            if step["Type"] == "Condition":
                walk(step["Arguments"]["IfSteps"])
                walk(step["Arguments"]["ElseSteps"])

    walk(definition["Steps"])
    return found


def processing_input(step: dict[str, Any], name: str) -> Any:
    """The S3Uri of a processing step's named input."""
    return next(i for i in step["Arguments"]["ProcessingInputs"] if i["InputName"] == name)["S3Input"]


def masked(text: str) -> str:
    """The definition with the content hashes of our code, image and held-out set masked: the golden file must not
    change with every edit of the code, refresh of a lock or new hand-written prompt."""
    text = re.sub(r"/code/[0-9a-f]{16}/", "/code/<CODE_SHA>/", text)
    text = re.sub(r"/natural/[0-9a-f]{16}/", "/natural/<NATURAL_MD5>/", text)
    text = re.sub(r"intent-mlops-train:[0-9a-f]{12}-", "intent-mlops-train:<IMAGE_SHA>-", text)
    return re.sub(r"/train-[0-9a-f]{12}/", "/train-<CODE_TAG>/", text)


# ------------------------------------------------------------------------------------------ definition


def test_definition_is_deterministic(settings: Any, definition_text: str) -> None:
    from pipelines.sagemaker_pipeline import definition_json

    again = definition_json(settings, offline=True)
    assert again == definition_text  # byte-identical: no timestamps in code paths or names
    # The SDK's name_from_base / _get_unique_name formats, not inside a hex hash.
    timestamp = r"(?<![0-9a-f])20\d{12}(?![0-9a-f])|20\d\d-\d\d-\d\d-\d\d-\d\d-\d\d"
    assert not re.search(timestamp, definition_text), "a timestamp leaked into the definition"


def test_definition_passes_the_offline_checks(definition_text: str) -> None:
    from pipelines.definition_check import check_definition, check_references, check_steps, check_top_level

    data = json.loads(definition_text)
    assert check_top_level(data) == []
    assert check_steps(data) == []
    assert check_references(data) == []
    assert check_definition(definition_text) == []


def test_golden_definition(definition_text: str) -> None:
    actual = masked(definition_text)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(actual)
    assert GOLDEN.exists(), "no golden file: run with UPDATE_GOLDEN=1 once and commit it"
    assert actual == GOLDEN.read_text(), (
        "definition changed: if intended, regenerate with UPDATE_GOLDEN=1 (see module doc)"
    )


def test_parameters_are_typed_from_the_spec(definition: dict[str, Any]) -> None:
    params = {p["Name"]: p for p in definition["Parameters"]}
    assert list(params) == [p.name for p in SPEC.parameters]
    for spec_param in SPEC.parameters:
        assert params[spec_param.name]["Type"] == spec_param.type
        if spec_param.name not in ("InputDataUri", "NaturalDataUri", "TrainingImage"):
            assert params[spec_param.name]["DefaultValue"] == spec_param.default
    # The spec's default is a local path; on SageMaker the input is an S3 URI.
    assert params["InputDataUri"]["DefaultValue"] == f"s3://{BUCKET}/intent-mlops/data/prompts.jsonl"
    # The training image is the image policy's CPU image (the project's own, by default).
    assert re.fullmatch(
        r"123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com/intent-mlops-train:[0-9a-f]{12}-cpu",
        params["TrainingImage"]["DefaultValue"],
    )


def test_steps_are_wired_to_each_other(definition: dict[str, Any]) -> None:
    steps = all_steps(definition)
    assert [s["Name"] for s in definition["Steps"]] == ["prepare", "train", "evaluate", "gate"]
    assert {n: s["Type"] for n, s in steps.items()} == {
        "prepare": "Processing",
        "train": "Training",
        "evaluate": "Processing",
        "gate": "Condition",
        "export": "Processing",
        "benchmark": "Processing",
        "register": "Processing",
        "gate-failed": "Fail",
    }
    splits = {"Get": "Steps.prepare.ProcessingOutputConfig.Outputs['splits'].S3Output.S3Uri"}
    model = {"Get": "Steps.train.ModelArtifacts.S3ModelArtifacts"}

    assert processing_input(steps["prepare"], "data")["S3Uri"] == {"Get": "Parameters.InputDataUri"}
    channels = {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"]
        for c in steps["train"]["Arguments"]["InputDataConfig"]
    }
    assert channels["splits"] == splits

    evaluate = steps["evaluate"]
    assert processing_input(evaluate, "model") == {
        **processing_input(evaluate, "model"),
        "S3Uri": model,
        "LocalPath": "/opt/ml/processing/model",
    }
    assert processing_input(evaluate, "splits")["S3Uri"] == splits
    assert evaluate["PropertyFiles"] == [
        {"PropertyFileName": "evaluation-report", "OutputName": "evaluation", "FilePath": "evaluation.json"}
    ]

    gate = steps["gate"]["Arguments"]
    assert gate["Conditions"] == [
        {
            "Type": "GreaterThanOrEqualTo",
            "LeftValue": {
                "Std:JsonGet": {
                    "PropertyFile": {"Get": "Steps.evaluate.PropertyFiles.evaluation-report"},
                    "Path": "metrics.macro_f1.value",
                }
            },
            "RightValue": {"Get": "Parameters.MinMacroF1"},
        }
    ]
    assert [s["Name"] for s in gate["IfSteps"]] == ["export", "benchmark", "register"]
    assert [s["Type"] for s in gate["ElseSteps"]] == ["Fail"]
    assert "MinMacroF1" in json.dumps(gate["ElseSteps"][0]["Arguments"]["ErrorMessage"])

    export = steps["export"]
    assert processing_input(export, "model")["S3Uri"] == model
    assert processing_input(export, "splits")["S3Uri"] == splits
    onnx = {"Get": "Steps.export.ProcessingOutputConfig.Outputs['onnx'].S3Output.S3Uri"}

    benchmark = steps["benchmark"]
    assert processing_input(benchmark, "onnx")["S3Uri"] == onnx
    assert processing_input(benchmark, "model")["S3Uri"] == model
    assert "--p95-budget-ms" in benchmark["Arguments"]["AppSpecification"]["ContainerArguments"]

    register = steps["register"]
    assert processing_input(register, "model")["S3Uri"] == model
    assert processing_input(register, "onnx")["S3Uri"] == onnx
    assert processing_input(register, "benchmark")["S3Uri"] == {
        "Get": "Steps.benchmark.ProcessingOutputConfig.Outputs['benchmark'].S3Output.S3Uri"
    }
    assert processing_input(register, "evaluation")["S3Uri"] == {
        "Get": "Steps.evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"
    }
    assert processing_input(register, "splits")["S3Uri"] == splits
    # /opt/ml/output/data of the training job: <S3OutputPath>/<job name>/output/output.tar.gz
    assert processing_input(register, "metrics")["S3Uri"] == {
        "Std:Join": {
            "On": "/",
            "Values": [
                {"Get": "Steps.train.OutputDataConfig.S3OutputPath"},
                {"Get": "Steps.train.TrainingJobName"},
                "output",
                "output.tar.gz",
            ],
        }
    }


def test_every_spec_input_lands_at_its_container_path(definition: dict[str, Any]) -> None:
    steps = all_steps(definition)
    for spec_step in SPEC.steps:
        step = steps[spec_step.name]
        if spec_step.kind == "processing":
            local = {i["InputName"]: i["S3Input"]["LocalPath"] for i in step["Arguments"]["ProcessingInputs"]}
            assert {a.name: a.container_path for a in spec_step.inputs}.items() <= local.items()
            outputs = {
                o["OutputName"]: o["S3Output"]["LocalPath"]
                for o in step["Arguments"]["ProcessingOutputConfig"]["Outputs"]
            }
            assert outputs == {a.name: a.container_path for a in spec_step.outputs}
        elif spec_step.kind == "training":
            channels = {c["ChannelName"] for c in step["Arguments"]["InputDataConfig"]}
            assert {a.container_path.rsplit("/", 1)[1] for a in spec_step.inputs} <= channels


def test_arguments_and_hyperparameters_follow_the_spec(definition: dict[str, Any]) -> None:
    steps = all_steps(definition)
    prepare_args = steps["prepare"]["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert prepare_args == [
        "--data-md5",
        {"Get": "Parameters.DataMd5"},
        "--seed",
        {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.Seed"}]}},
    ]
    # No arguments: no ContainerArguments at all (CreateProcessingJob rejects an empty list).
    assert "ContainerArguments" not in steps["evaluate"]["Arguments"]["AppSpecification"]
    hps = steps["train"]["Arguments"]["HyperParameters"]
    assert set(hps) == {"model", "epochs", "learning-rate", "batch-size", "max-length", "seed"}
    assert hps["model"] == {"Get": "Parameters.Model"}
    assert hps["learning-rate"] == {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.LearningRate"}]}}
    for name in ("prepare", "evaluate", "export", "register"):
        cluster = steps[name]["Arguments"]["ProcessingResources"]["ClusterConfig"]
        assert cluster["InstanceType"] == {"Get": "Parameters.ProcessingInstanceType"}
        assert steps[name]["CacheConfig"] == {"Enabled": True, "ExpireAfter": "P30D"}
    assert steps["train"]["Arguments"]["ResourceConfig"]["InstanceType"] == {"Get": "Parameters.TrainingInstanceType"}
    assert steps["train"]["Arguments"]["RoleArn"] == ROLE


def test_code_comes_from_one_content_addressed_bundle(definition: dict[str, Any]) -> None:
    from pipelines.sagemaker_pipeline import build_code_bundle

    _, digest = build_code_bundle()
    code = f"s3://{BUCKET}/intent-mlops/intent-classifier/code/{digest[:16]}"
    steps = all_steps(definition)
    channels = {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"]
        for c in steps["train"]["Arguments"]["InputDataConfig"]
    }
    assert channels["code"] == f"{code}/sourcedir.tar.gz"
    image = {p["Name"]: p["DefaultValue"] for p in definition["Parameters"]}["TrainingImage"]
    for name in ("prepare", "evaluate", "export", "register"):
        assert processing_input(steps[name], "code")["S3Uri"] == f"{code}/"
        assert steps[name]["Arguments"]["AppSpecification"]["ImageUri"] == image


def test_settings_change_the_definition(settings: Any) -> None:
    from pipelines.sagemaker_pipeline import definition_json

    custom = dataclasses.replace(
        settings,
        enable_caching=False,
        s3_prefix="other",
        training_image_uri="123.dkr.ecr.us-east-1.amazonaws.com/train:1",
        pipeline_name="intent-dev",
    )
    data = json.loads(definition_json(custom, offline=True))
    steps = all_steps(data)
    assert all("CacheConfig" not in s for s in steps.values())
    assert steps["train"]["Arguments"]["AlgorithmSpecification"]["TrainingImage"] == {"Get": "Parameters.TrainingImage"}
    params = {p["Name"]: p["DefaultValue"] for p in data["Parameters"]}
    assert params["TrainingImage"] == "123.dkr.ecr.us-east-1.amazonaws.com/train:1"
    assert steps["train"]["Arguments"]["OutputDataConfig"]["S3OutputPath"] == f"s3://{BUCKET}/other/intent-dev/training"


# ------------------------------------------------------------------------------------------ code bundle


def test_code_bundle_is_reproducible_and_complete() -> None:
    from pipelines.sagemaker_pipeline import build_code_bundle

    body, digest = build_code_bundle()
    assert build_code_bundle() == (body, digest)
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(body))) as tar:
        names = tar.getnames()
        assert all(m.mtime == 0 for m in tar.getmembers())
        launcher = tar.extractfile("_sm_entry_train.py").read().decode()
    assert "pipelines/steps/train.py" in names and "ml/data.py" in names
    # The container requirements travel under their own name: SageMaker's processing driver would pip-install a
    # requirements.txt at the bundle's root even in the project's image, which needs nothing installed.
    assert "pipelines/container_requirements.txt" in names and "requirements.txt" not in names
    assert not any("__pycache__" in n or n.startswith(("tests/", "mlops_cli/")) for n in names)
    assert {f"_sm_entry_{s.name}.py" for s in SPEC.steps if s.entry_point} <= set(names)
    assert 'runpy.run_module("pipelines.steps.train", run_name="__main__"' in launcher


def test_container_requirements_match_the_project_pins() -> None:
    from pipelines.sagemaker_pipeline import CONTAINER_REQUIREMENTS

    pins = {
        re.split(r"[<>=!~\[ ]", d, maxsplit=1)[0]: d
        for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    # The jobs take MLflow's client alone, at the version of the project's MLflow.
    pins["mlflow-skinny"] = pins["mlflow"].replace("mlflow", "mlflow-skinny", 1)
    lines = [
        ln.strip()
        for ln in (ROOT / CONTAINER_REQUIREMENTS).read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    assert lines
    for line in lines:
        name = re.split(r"[<>=!~\[ ]", line, maxsplit=1)[0]
        assert pins.get(name) == line, f"{line!r} differs from pyproject.toml's {pins.get(name)!r}"
    # The image brings torch; listing it would make pip pull a multi-GB CUDA build.
    assert not any(re.split(r"[<>=!~\[ ]", ln, maxsplit=1)[0] == "torch" for ln in lines)


# ------------------------------------------------------------------------------------------ inputs


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"role_arn": "arn:aws:iam::123:role/x"}, "not an IAM role ARN"),
        ({"role_arn": "arn:aws:iam::123456789012:user/alice"}, "not an IAM role ARN"),
        ({"default_bucket": "B"}, "not a valid S3 bucket name"),
        ({"cache_expire_after": "30 days"}, "not an ISO 8601 duration"),
        ({"region": "mars"}, "region"),
        ({"input_data_uri": "data/prompts.jsonl"}, "s3://"),
    ],
)
def test_settings_reject_bad_values(values: dict[str, str], message: str) -> None:
    from pipelines.sagemaker_pipeline import SageMakerSettings

    with pytest.raises(MlopsError, match=message):
        SageMakerSettings.create(**values)


def test_parameter_overrides_are_checked_against_the_spec() -> None:
    from pipelines.spec import parse_parameter_overrides

    assert parse_parameter_overrides(["Epochs=5", "LearningRate=0.01", "Model=small"]) == {
        "Epochs": 5,
        "LearningRate": 0.01,
        "Model": "small",
    }
    with pytest.raises(MlopsError, match="unknown pipeline parameter 'Epoch'"):
        parse_parameter_overrides(["Epoch=5"])
    with pytest.raises(MlopsError, match="Epochs must be integer"):
        parse_parameter_overrides(["Epochs=five"])
    with pytest.raises(MlopsError, match="expected Name=Value"):
        parse_parameter_overrides(["Epochs"])


def test_resolve_data_uri_from_the_dvc_s3_remote(dvc_repo: Path) -> None:
    from ml.data import file_md5
    from pipelines.sagemaker_pipeline import resolve_data, resolve_data_uri

    md5 = file_md5(dvc_repo / "data" / "prompts.jsonl")
    uri = resolve_data_uri(dvc_repo, None)
    assert uri == f"s3://dvc-tests/store/files/md5/{md5[:2]}/{md5[2:]}"
    assert resolve_data(dvc_repo, "s3store") == {"InputDataUri": uri, "DataMd5": md5}
    with pytest.raises(MlopsError, match="not on S3"):
        resolve_data_uri(dvc_repo, "localstore")
    with pytest.raises(MlopsError, match="cannot resolve"):
        resolve_data_uri(dvc_repo, "no-such-remote")


# ------------------------------------------------------------------------------------------ CLI and moto


def test_cli_definition_prints_the_offline_definition(definition_text: str) -> None:
    proc = run_cli("pipeline", "definition", "--role", ROLE, "--bucket", BUCKET, "--region", REGION)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == definition_text


def test_upsert_and_start_on_moto(aws_endpoint: str, settings: Any, definition_text: str, dvc_repo: Path) -> None:
    import boto3

    from mlops_cli.main import cli
    from pipelines.sagemaker_pipeline import definition_json

    # Built online against the server (STS, S3 and all), the definition is the offline one.
    assert definition_json(settings) == definition_text

    # As a user would: a subprocess, AWS reached through AWS_ENDPOINT_URL.
    proc = run_cli("pipeline", "upsert", "--role", ROLE, "--bucket", BUCKET, "--json")
    assert proc.returncode == 0, proc.stderr
    upserted = json.loads(proc.stdout)

    s3 = boto3.client("s3", region_name=REGION)
    s3.head_bucket(Bucket=BUCKET)  # created by the build
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert any(k.endswith("/sourcedir.tar.gz") for k in keys)
    # The hand-written held-out set the evaluate step scores: uploaded under its md5, NaturalDataUri's default.
    parameters = {p["Name"]: p for p in json.loads(definition_text)["Parameters"]}
    natural_key = parameters["NaturalDataUri"]["DefaultValue"].removeprefix(f"s3://{BUCKET}/")
    body = s3.get_object(Bucket=BUCKET, Key=natural_key)["Body"].read()
    assert body == (ROOT / "data" / "natural_prompts.jsonl").read_bytes()
    assert hashlib.md5(body).hexdigest()[:16] in natural_key  # noqa: S324 - a content address, not a secret

    sm = boto3.client("sagemaker", region_name=REGION)
    described = sm.describe_pipeline(PipelineName=settings.pipeline_name)
    assert described["PipelineArn"] == upserted["pipeline_arn"]
    assert described["RoleArn"] == ROLE
    # What upsert sent is exactly what the offline build prints.
    assert json.loads(described["PipelineDefinition"]) == json.loads(definition_text)

    # A local registry store is refused: the jobs could not reach it.
    local = ["pipeline", "start", "--repo", str(dvc_repo), "--tracking-uri", "sqlite:///tmp/mlflow.db"]
    refused = CliRunner().invoke(cli, local)
    assert refused.exit_code == 1 and "outlives the SageMaker job" in refused.output
    assert not sm.list_pipeline_executions(PipelineName=settings.pipeline_name)["PipelineExecutionSummaries"]

    tracking = "https://mlflow.example.com"
    start = ["pipeline", "start", "--repo", str(dvc_repo), "--tracking-uri", tracking, "-p", "Epochs=3", "--json"]
    result = CliRunner().invoke(cli, start)
    assert result.exit_code == 0, result.output
    started = json.loads(result.output)
    executions = sm.list_pipeline_executions(PipelineName=settings.pipeline_name)["PipelineExecutionSummaries"]
    assert started["execution_arn"] in [e["PipelineExecutionArn"] for e in executions]
    sent = {
        p["Name"]: p["Value"]
        for p in sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=started["execution_arn"])[
            "PipelineParameters"
        ]
    }
    assert sent["Epochs"] == "3"
    assert sent["InputDataUri"].startswith("s3://dvc-tests/store/files/md5/")  # resolved from the DVC remote
    assert len(sent["DataMd5"]) == 32
    assert sent["MlflowTrackingUri"] == tracking and "TrainingImage" not in sent  # a CPU instance: the default image

    # A GPU instance type gets the GPU image of the same policy; a CPU image on it is refused.
    gpu = CliRunner().invoke(cli, [*start, "-p", "TrainingInstanceType=ml.g5.12xlarge"])
    assert gpu.exit_code == 0, gpu.output
    image = json.loads(gpu.output)["parameters"]["TrainingImage"]
    default = {p["Name"]: p["DefaultValue"] for p in json.loads(definition_text)["Parameters"]}["TrainingImage"]
    assert image == default.removesuffix("-cpu") + "-gpu"
    cpu_on_gpu = CliRunner().invoke(
        cli, [*start, "-p", "TrainingInstanceType=ml.g5.xlarge", "-p", f"TrainingImage={default}"]
    )
    assert cpu_on_gpu.exit_code == 1 and "is a CPU image, but ml.g5.xlarge has 1 GPU" in cpu_on_gpu.output

    # Upserting again updates the same pipeline.
    again = CliRunner().invoke(cli, ["pipeline", "upsert", "--role", ROLE, "--bucket", BUCKET, "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["pipeline_arn"] == upserted["pipeline_arn"]


def test_start_of_a_missing_pipeline_is_a_clear_error(aws_endpoint: str) -> None:
    from mlops_cli.main import cli

    result = CliRunner().invoke(
        cli,
        [
            "pipeline",
            "start",
            "--pipeline-name",
            "no-such-pipeline",
            "-p",
            "InputDataUri=s3://b/data.jsonl",
            "--tracking-uri",
            "http://mlflow.example.com",
        ],
    )
    assert result.exit_code == 1
    assert "mlops pipeline upsert" in result.output and "Traceback" not in result.output


def test_upsert_rejects_a_role_that_is_not_an_iam_role_arn() -> None:
    proc = run_cli("pipeline", "upsert", "--role", "SageMakerRole", "--bucket", BUCKET)
    assert proc.returncode != 0
    assert "not an IAM role ARN: 'SageMakerRole'" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("Epoch=3", "unknown pipeline parameter 'Epoch'"),
        ("Epochs=three", "Epochs must be integer"),
        ("MinMacroF1=high", "MinMacroF1 must be float"),
        ("Epochs", "expected Name=Value"),
    ],
)
def test_start_rejects_bad_parameters(param: str, message: str) -> None:
    from mlops_cli.main import cli

    result = CliRunner().invoke(cli, ["pipeline", "start", "-p", param])
    assert result.exit_code == 1
    assert message in result.output


def test_start_without_an_s3_data_remote_says_how_to_fix_it(dvc_repo: Path) -> None:
    from mlops_cli.main import cli

    result = CliRunner().invoke(
        cli,
        [
            "pipeline",
            "start",
            "--repo",
            str(dvc_repo),
            "--data-remote",
            "localstore",
            "--tracking-uri",
            "http://x.example",
        ],
    )
    assert result.exit_code == 1
    assert "not on S3" in result.output and "hint:" in result.output


def test_offline_build_without_moto_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from pipelines import sagemaker_sdk

    monkeypatch.setitem(sys.modules, "moto", None)  # as if moto were not installed
    with pytest.raises(MlopsError, match="needs moto") as excinfo, sagemaker_sdk.offline_aws():
        pass
    assert "--online" in str(excinfo.value)


def test_cli_definition_fails_on_a_definition_that_fails_the_checks(
    monkeypatch: pytest.MonkeyPatch, definition: dict[str, Any]
) -> None:
    import pipelines.sagemaker_pipeline as sagemaker_pipeline
    from mlops_cli.main import cli

    definition["Steps"][1]["Arguments"]["ResourceConfig"]["InstanceCount"] = "one"
    monkeypatch.setattr(sagemaker_pipeline, "definition_json", lambda settings, offline: json.dumps(definition))
    result = CliRunner().invoke(cli, ["pipeline", "definition"])
    assert result.exit_code == 1
    assert "$.Steps[1].Arguments.ResourceConfig.InstanceCount: expected an integer" in result.output
    unchecked = CliRunner().invoke(cli, ["pipeline", "definition", "--no-check"])
    assert unchecked.exit_code == 0 and json.loads(unchecked.output) == definition


# ------------------------------------------------------------------------------------------ what the jobs run


def test_every_step_reads_the_registry_uri_and_refuses_a_local_store(definition: dict[str, Any]) -> None:
    """The MLflow URI `pipeline start` passes reaches every job, and the register step refuses a local store there."""
    uri = {"Get": "Parameters.MlflowTrackingUri"}
    for name, step in all_steps(definition).items():
        if step["Type"] in ("Processing", "Training"):
            environment = step["Arguments"]["Environment"]
            assert environment["MLFLOW_TRACKING_URI"] == uri, name
            assert environment["MLOPS_REQUIRE_REMOTE_REGISTRY"] == "1", name
            assert "HF_HUB_OFFLINE" not in environment, name  # the hub stays reachable: -p Model=microsoft/...
    train = all_steps(definition)["train"]["Arguments"]["Environment"]
    assert train["MLOPS_TRAINING_IMAGE"] == {"Get": "Parameters.TrainingImage"}  # recorded on the version
    assert train["MLOPS_HF_TOKEN_SECRET"] == {"Get": "Parameters.HfTokenSecret"}


def _job_scripts(settings: Any) -> dict[str, str]:
    """The driver scripts a definition build uploads (SageMaker runs them in each job), by file name."""
    import boto3
    import moto

    from pipelines.sagemaker_pipeline import definition_dict

    with moto.mock_aws():
        definition_dict(settings)
        s3 = boto3.client("s3", region_name=REGION)
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=settings.bucket)["Contents"]]
        return {
            key.rsplit("/", 1)[1] + f"#{i}": s3.get_object(Bucket=settings.bucket, Key=key)["Body"].read().decode()
            for i, key in enumerate(keys)
            if key.endswith(("runproc.sh", "sm_train.sh"))
        }


@pytest.mark.parametrize(("policy", "installs"), [("project", False), ("aws", True)])
def test_jobs_install_the_container_requirements_only_where_the_image_lacks_them(
    settings: Any, policy: str, installs: bool
) -> None:
    scripts = _job_scripts(dataclasses.replace(settings, image_policy=policy))
    processing = [body for name, body in scripts.items() if name.startswith("runproc.sh")]
    (training,) = [body for name, body in scripts.items() if name.startswith("sm_train.sh")]
    assert len(processing) == 5  # prepare, evaluate, export, benchmark, register
    for body in processing:
        # The driver installs the named file when the bundle holds it: only the aws policy's bundle path exists.
        assert ("install_requirements.py pipelines/container_requirements.txt" in body) is installs
    assert ("install_requirements.py pipelines/container_requirements.txt" in training) is installs
    # One training process per GPU (one on a CPU instance), through SageMaker's Torchrun launcher.
    assert "distributed_drivers/torchrun_driver.py" in training


def test_a_gpu_instance_type_gets_a_gpu_image_of_the_same_policy() -> None:
    from ml.errors import MlopsError
    from pipelines.images import gpu_count, image_for_start, training_images

    assert [gpu_count(t) for t in ("ml.m5.2xlarge", "ml.g5.xlarge", "ml.g5.12xlarge", "ml.p4d.24xlarge")] == [
        0,
        1,
        4,
        8,
    ]
    for policy in ("project", "aws"):
        images = training_images(policy, account="123456789012", region=REGION)
        assert images.for_instance("ml.c5.xlarge") == images.cpu and images.for_instance("ml.g6.2xlarge") == images.gpu
        assert image_for_start(images.cpu, "ml.g5.xlarge") == images.gpu
        assert image_for_start(images.cpu, "ml.m5.xlarge") == images.cpu
        with pytest.raises(MlopsError, match="is a CPU image"):
            image_for_start(images.cpu, "ml.p3.2xlarge", images.cpu)
    assert training_images("aws", account="1", region=REGION).gpu.endswith("pytorch-training:2.8-gpu-py312")
    with pytest.raises(MlopsError, match="not a SageMaker instance type"):
        gpu_count("g5.xlarge")


def test_cli_images_names_what_to_build_and_push_and_the_definition_uses_it() -> None:
    from mlops_cli.main import cli
    from pipelines.images import project_image_tag

    role = "arn:aws:iam::111122223333:role/sm"
    shown = CliRunner().invoke(cli, ["pipeline", "images", "--role", role, "--region", "eu-west-1", "--json"])
    assert shown.exit_code == 0, shown.output
    images = json.loads(shown.output)
    registry = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/intent-mlops-train"
    assert images["cpu"] == f"{registry}:{project_image_tag('cpu')}" and images["gpu"].endswith("-gpu")
    assert images["installs_requirements"] is False
    tag = CliRunner().invoke(cli, ["pipeline", "images", "--tag", "cpu"])
    assert tag.output.strip() == images["cpu"].rsplit(":", 1)[1]
    # The definition's default TrainingImage and processing image are the policy's CPU image.
    built = CliRunner().invoke(cli, ["pipeline", "definition", "--role", role, "--region", "eu-west-1", "--no-check"])
    parameters = {p["Name"]: p.get("DefaultValue") for p in json.loads(built.output)["Parameters"]}
    assert parameters["TrainingImage"] == images["cpu"] and images["cpu"] in built.output
    aws = CliRunner().invoke(cli, ["pipeline", "images", "--image-policy", "aws", "--json"])
    assert json.loads(aws.output)["installs_requirements"] is True
    bad = CliRunner().invoke(cli, ["pipeline", "images", "--image-policy", "mine"])
    assert bad.exit_code == 2 and "'mine' is not one of 'project', 'aws'" in bad.output
