"""The offline definition checks catch what SageMaker would reject, and name where."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipelines.definition_check import (
    DefinitionCheckError,
    Problem,
    assert_valid,
    check_definition,
    load_schema,
)

SHARED_SCHEMA = Path("/work/shared/specs/sagemaker-pipeline-definition.schema.json")


def step(definition: dict[str, Any], name: str) -> dict[str, Any]:
    """A step by name, condition branches included."""
    for top in definition["Steps"]:
        if top["Name"] == name:
            return top
        if top["Type"] == "Condition":
            for inner in top["Arguments"]["IfSteps"] + top["Arguments"]["ElseSteps"]:
                if inner["Name"] == name:
                    return inner
    raise KeyError(name)


def parameter(definition: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in definition["Parameters"] if p["Name"] == name)


def only_problem(definition: dict[str, Any]) -> Problem:
    problems = check_definition(definition)
    assert len(problems) == 1, problems
    return problems[0]


def test_the_built_definition_passes(definition: dict[str, Any]) -> None:
    assert check_definition(definition) == []
    assert_valid(json.dumps(definition))


def test_unknown_field_in_step_arguments(definition: dict[str, Any]) -> None:
    step(definition, "evaluate")["Arguments"]["ProcessingResources"]["ClusterConfig"]["InstanceTypo"] = "ml.m5.xlarge"
    problem = only_problem(definition)
    assert problem.path == "$.Steps[2].Arguments.ProcessingResources.ClusterConfig.InstanceTypo"
    assert "unknown field 'InstanceTypo'" in problem.message and "InstanceType" in problem.message


def test_unknown_field_in_a_step_inside_a_condition_branch(definition: dict[str, Any]) -> None:
    step(definition, "register")["Arguments"]["AppSpecification"]["Entrypoint"] = ["python"]
    problem = only_problem(definition)
    assert problem.path == "$.Steps[3].Arguments.IfSteps[2].Arguments.AppSpecification.Entrypoint"


def test_bad_instance_type_default_is_caught_where_the_parameter_flows(definition: dict[str, Any]) -> None:
    parameter(definition, "TrainingInstanceType")["DefaultValue"] = "ml.m5.gigantic"
    problem = only_problem(definition)
    assert problem.path == "$.Steps[1].Arguments.ResourceConfig.InstanceType"
    assert "default value of parameter TrainingInstanceType" in problem.message
    assert "'ml.m5.gigantic' is not an allowed TrainingInstanceType" in problem.message


def test_processing_instance_type_default_is_checked_against_processing_types(definition: dict[str, Any]) -> None:
    # ml.p5.48xlarge trains, but is not a processing instance type.
    parameter(definition, "ProcessingInstanceType")["DefaultValue"] = "ml.p5.48xlarge"
    problems = check_definition(definition)
    assert {p.path for p in problems} == {
        "$.Steps[0].Arguments.ProcessingResources.ClusterConfig.InstanceType",
        "$.Steps[2].Arguments.ProcessingResources.ClusterConfig.InstanceType",
        "$.Steps[3].Arguments.IfSteps[0].Arguments.ProcessingResources.ClusterConfig.InstanceType",
        "$.Steps[3].Arguments.IfSteps[1].Arguments.ProcessingResources.ClusterConfig.InstanceType",
        "$.Steps[3].Arguments.IfSteps[2].Arguments.ProcessingResources.ClusterConfig.InstanceType",
    }


def test_literal_enum_value(definition: dict[str, Any]) -> None:
    step(definition, "prepare")["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3DataType"] = "Prefix"
    problem = only_problem(definition)
    assert problem.path == "$.Steps[0].Arguments.ProcessingInputs[0].S3Input.S3DataType"
    assert "S3Prefix" in problem.message


CASES: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    (
        "missing required member",
        lambda d: step(d, "train")["Arguments"].pop("RoleArn"),
        "$.Steps[1].Arguments",
        "missing required field 'RoleArn'",
    ),
    (
        "wrong type",
        lambda d: step(d, "train")["Arguments"]["StoppingCondition"].update(MaxRuntimeInSeconds="1h"),
        "$.Steps[1].Arguments.StoppingCondition.MaxRuntimeInSeconds",
        "expected an integer",
    ),
    (
        "integer parameter into a string field",
        lambda d: step(d, "prepare")["Arguments"]["AppSpecification"]["ContainerArguments"].__setitem__(
            3, {"Get": "Parameters.Seed"}
        ),
        "$.Steps[0].Arguments.AppSpecification.ContainerArguments[3]",
        "Integer parameter Seed flows into ContainerArgument",
    ),
    (
        "Std:Join into an integer field",
        lambda d: step(d, "prepare")["Arguments"]["ProcessingResources"]["ClusterConfig"].update(
            VolumeSizeInGB={"Std:Join": {"On": "", "Values": ["30"]}}
        ),
        "$.Steps[0].Arguments.ProcessingResources.ClusterConfig.VolumeSizeInGB",
        "Std:Join yields a string",
    ),
    (
        "empty list below the shape's minimum",
        lambda d: step(d, "evaluate")["Arguments"]["AppSpecification"].update(ContainerArguments=[]),
        "$.Steps[2].Arguments.AppSpecification.ContainerArguments",
        "needs at least 1",
    ),
    (
        "job name left in",
        lambda d: step(d, "prepare")["Arguments"].update(ProcessingJobName="prepare-2024"),
        "$.Steps[0].Arguments.ProcessingJobName",
        "set by the pipeline",
    ),
    (
        "unknown parameter",
        lambda d: step(d, "train")["Arguments"]["ResourceConfig"].update(InstanceType={"Get": "Parameters.GpuType"}),
        "$.Steps[1].Arguments.ResourceConfig.InstanceType",
        "no parameter named 'GpuType'",
    ),
    (
        "DependsOn a missing step",
        lambda d: step(d, "train").update(DependsOn=["preprocess"]),
        "$.Steps[1].DependsOn[0]",
        "DependsOn names no step: 'preprocess'",
    ),
    (
        "property of a missing step",
        lambda d: step(d, "evaluate")["Arguments"]["ProcessingInputs"][0]["S3Input"].update(
            S3Uri={"Get": "Steps.training.ModelArtifacts.S3ModelArtifacts"}
        ),
        "$.Steps[2].Arguments.ProcessingInputs[0].S3Input.S3Uri",
        "no step named 'training'",
    ),
    (
        "property the step does not have",
        lambda d: step(d, "evaluate")["Arguments"]["ProcessingInputs"][0]["S3Input"].update(
            S3Uri={"Get": "Steps.train.ModelArtifacts.S3ModelArtifact"}
        ),
        "$.Steps[2].Arguments.ProcessingInputs[0].S3Input.S3Uri",
        "ModelArtifacts has no property 'S3ModelArtifact'",
    ),
    (
        "undeclared property file",
        lambda d: step(d, "gate")["Arguments"]["Conditions"][0]["LeftValue"]["Std:JsonGet"].update(
            PropertyFile={"Get": "Steps.evaluate.PropertyFiles.metrics"}
        ),
        "$.Steps[3].Arguments.Conditions[0].LeftValue.Std:JsonGet.PropertyFile",
        "declares no property file 'metrics'",
    ),
    (
        "property file on a missing output",
        lambda d: step(d, "evaluate")["PropertyFiles"][0].update(OutputName="report"),
        "$.Steps[2].PropertyFiles[0].OutputName",
        "no processing output named 'report'",
    ),
    (
        "unknown condition type",
        lambda d: step(d, "gate")["Arguments"]["Conditions"][0].update(Type="AtLeast"),
        "$.Steps[3].Arguments.Conditions[0].Type",
        "unknown condition type 'AtLeast'",
    ),
    (
        "bad cache duration",
        lambda d: step(d, "train")["CacheConfig"].update(ExpireAfter="30d"),
        "$.Steps[1].CacheConfig.ExpireAfter",
        "ISO 8601",
    ),
    (
        "unknown step-level field",
        lambda d: step(d, "train").update(PropertyFiles=[]),
        "$.Steps[1].PropertyFiles",
        "unknown field 'PropertyFiles' for a Training step",
    ),
    (
        "duplicate step name",
        lambda d: step(d, "gate-failed").update(Name="register"),
        "$.Steps[3].Arguments.ElseSteps[0].Name",
        "step name 'register' is used twice",
    ),
    (
        "top level against the official schema",
        lambda d: parameter(d, "Epochs").update(DefaultValue="20"),
        "$.Parameters[4]",
        "schema:",
    ),
    (
        "unknown top-level field",
        lambda d: d.update(Tags=[]),
        "$.Tags",
        "unknown top-level field",
    ),
]


@pytest.mark.parametrize(("mutate", "path", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_definitions(
    definition: dict[str, Any], mutate: Callable[[dict[str, Any]], None], path: str, message: str
) -> None:
    mutate(definition)
    problems = check_definition(definition)
    assert any(p.path == path and message in p.message for p in problems), problems


def test_cycles_are_found(definition: dict[str, Any]) -> None:
    step(definition, "prepare")["DependsOn"] = ["evaluate"]  # evaluate reads prepare's splits
    problem = only_problem(definition)
    assert "cycle" in problem.message and "prepare" in problem.message and "evaluate" in problem.message


def test_a_branch_step_cannot_depend_on_its_own_condition_consumer(definition: dict[str, Any]) -> None:
    # register runs after the gate; the gate waiting for register is a cycle.
    step(definition, "gate")["DependsOn"] = ["evaluate", "register"]
    assert any("cycle" in p.message for p in check_definition(definition))


def test_assert_valid_lists_every_problem(definition: dict[str, Any]) -> None:
    step(definition, "prepare")["Arguments"]["Bogus"] = 1
    parameter(definition, "ProcessingInstanceType")["DefaultValue"] = "ml.nope"
    with pytest.raises(DefinitionCheckError) as excinfo:
        assert_valid(definition)
    assert len(excinfo.value.problems) == 6  # Bogus, and the bad default in each of the 5 processing steps
    assert "$.Steps[0].Arguments.Bogus" in str(excinfo.value)


def test_schema_is_package_data_identical_to_the_published_one() -> None:
    from importlib import resources

    path = resources.files("pipelines.schemas").joinpath("sagemaker-pipeline-definition.schema.json")
    assert "pipelines" in str(path) and "shared" not in str(path)
    if SHARED_SCHEMA.exists():
        assert load_schema() == json.loads(SHARED_SCHEMA.read_text())


def test_command_line_exit_status(definition: dict[str, Any], tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(definition))
    step(definition, "train")["Arguments"]["HyperParameters"]["epochs"] = 20  # not a string
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(definition))
    ok = subprocess.run([sys.executable, "-m", "pipelines.definition_check", str(good)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    failed = subprocess.run(
        [sys.executable, "-m", "pipelines.definition_check", str(bad)], capture_output=True, text=True
    )
    assert failed.returncode == 1
    assert "$.Steps[1].Arguments.HyperParameters.epochs: expected a string" in failed.stdout
