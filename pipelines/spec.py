"""The one pipeline spec: steps, their inputs and outputs, parameters and the quality gate.

Both runners are built from this and only this: `pipelines.sagemaker_pipeline` turns it into a SageMaker
Pipeline definition, `pipelines.local_runner` executes the same step entry points on this machine.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ml.errors import MlopsError
from ml.params import Params, ParamsError, load_params, params_file
from ml.settings import P95_BUDGET_MS, REGISTERED_MODEL_NAME

PIPELINE_NAME = REGISTERED_MODEL_NAME  # the pipeline is named for the model it registers
# Bump when steps, their inputs/outputs or entry points change: a run directory records it, and the local
# runner refuses to resume a run made by another version.
SPEC_VERSION = 5

ParamType = Literal["String", "Integer", "Float"]
StepKind = Literal["processing", "training", "condition"]


@dataclass(frozen=True)
class Parameter:
    """A pipeline parameter with its SageMaker type and offline default.

    The default is None only where params.yaml, its home, is absent (a SageMaker job): there every step is passed
    every value it takes.
    """

    name: str
    type: ParamType
    default: str | int | float | None
    description: str


@dataclass(frozen=True)
class Artifact:
    """A directory a step reads or writes. `source` names the producing '<step>.<output>' (inputs only)."""

    name: str
    container_path: str
    source: str | None = None


@dataclass(frozen=True)
class Step:
    """One pipeline step: what it runs, what it reads and writes, which parameters it takes."""

    name: str
    kind: StepKind
    entry_point: str  # module under pipelines/steps, run as `python -m <entry_point>`
    description: str
    inputs: tuple[Artifact, ...] = ()
    outputs: tuple[Artifact, ...] = ()
    arguments: tuple[str, ...] = ()  # parameter names passed as --kebab-case arguments / hyperparameters
    instance_type_parameter: str = "ProcessingInstanceType"
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class Gate:
    """The quality gate: a metric from a step's report compared with a threshold parameter."""

    name: str
    after: str  # the step whose report holds the metric
    report_output: str
    report_file: str
    json_path: str
    threshold_parameter: str
    fail_message: str

    def judge(self, report: Mapping[str, Any], threshold: float) -> tuple[bool, str]:
        """Whether the report's metric at `json_path` reaches the threshold, and the comparison in words."""
        value: Any = report
        for key in self.json_path.split("."):
            value = value[key]
        passed = float(value) >= threshold
        verdict = ">=" if passed else "<"
        return passed, f"{self.json_path} = {float(value):.4f} {verdict} {self.threshold_parameter} = {threshold:.4f}"


@dataclass(frozen=True)
class PipelineSpec:
    """Steps in execution order, parameters and gates."""

    name: str
    version: int
    parameters: tuple[Parameter, ...]
    steps: tuple[Step, ...]
    gates: tuple[Gate, ...] = field(default_factory=tuple)

    def step(self, name: str) -> Step:
        """Return the step called `name`."""
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)

    def step_names(self) -> list[str]:
        """Step names in execution order."""
        return [s.name for s in self.steps]

    def describe_steps(self) -> list[dict[str, Any]]:
        """Each step in execution order: name, kind, description, inputs (the producing '<step>.<output>', or the
        name of an external input) and outputs ('<step>.<output>')."""
        return [
            {
                "name": step.name,
                "kind": step.kind,
                "description": step.description,
                "inputs": [a.source or a.name for a in step.inputs],
                "outputs": [f"{step.name}.{a.name}" for a in step.outputs],
            }
            for step in self.steps
        ]

    def parameter(self, name: str) -> Parameter:
        """Return the parameter called `name`."""
        for param in self.parameters:
            if param.name == name:
                return param
        raise KeyError(name)

    def defaults(self) -> dict[str, str | int | float]:
        """Every parameter's default; ParamsError (params.yaml not found) where some have none here."""
        missing = [p.name for p in self.parameters if p.default is None]
        if missing:
            load_params()  # raises, saying where the file was looked for
            raise MlopsError(f"no default for pipeline parameter(s) {', '.join(missing)}")
        return {p.name: p.default for p in self.parameters if p.default is not None}

    def fingerprint(self) -> str:
        """Short hash of the spec, recorded in run directories to detect runs of another pipeline version."""
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


def cli_flag(parameter: str) -> str:
    """The command-line flag an entry point takes for a parameter: 'LearningRate' -> '--learning-rate'."""
    return "--" + re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", parameter).lower()


PROC = "/opt/ml/processing"

# The train step's TrainConfig, field by field, from these parameters; its other fields keep their defaults. Each of
# these fields is also a key of params.yaml's `train` section, where the parameter's default lives.
TRAINING_PARAMETERS: dict[str, str] = {
    "model": "Model",
    "seed": "Seed",
    "learning_rate": "LearningRate",
    "epochs": "Epochs",
    "batch_size": "BatchSize",
    "max_length": "MaxLength",
}
# The parameters whose defaults live in params.yaml, by their dotted names there (DVC's, as in `-S train.epochs=8`).
PARAMS_FILE_KEYS: dict[str, str] = {
    **{name: f"train.{field}" for field, name in TRAINING_PARAMETERS.items()},
    "MinMacroF1": "evaluate.min_macro_f1",
}


def _file_params() -> Params | None:
    """params.yaml's values, checked; None where the file is absent (a SageMaker job, whose steps get every value)."""
    return load_params() if params_file().is_file() else None


def _default(name: str) -> str | int | float | None:
    """The default of pipeline parameter `name` from params.yaml (None where the file is absent)."""
    return None if _PARAMS is None else _PARAMS.flat()[PARAMS_FILE_KEYS[name]]


_PARAMS = _file_params()

PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "InputDataUri",
        "String",
        "data/prompts.jsonl",
        "the DVC-tracked dataset (S3 URI of its DVC object on SageMaker)",
    ),
    Parameter(
        "NaturalDataUri",
        "String",
        "data/natural_prompts.jsonl",
        "the hand-written held-out set (docs/labeling.md), scored beside the test split on every version (on "
        "SageMaker the S3 copy `pipeline upsert` uploads)",
    ),
    Parameter("DataMd5", "String", "", "DVC md5 of the dataset; checked by the prepare step"),
    Parameter("Model", "String", _default("Model"), "preset (tiny/xsmall/small/base), local directory or hub name"),
    Parameter("Epochs", "Integer", _default("Epochs"), "maximum training epochs"),
    Parameter("LearningRate", "Float", _default("LearningRate"), "AdamW learning rate"),
    Parameter("BatchSize", "Integer", _default("BatchSize"), "training batch size"),
    Parameter("MaxLength", "Integer", _default("MaxLength"), "maximum tokens per prompt"),
    Parameter("Seed", "Integer", _default("Seed"), "seed for the split, initialisation and data order"),
    Parameter("MinMacroF1", "Float", _default("MinMacroF1"), "quality gate: minimum test macro-F1 to continue"),
    Parameter("P95BudgetMs", "Float", P95_BUDGET_MS, "latency gate: maximum p95 latency in ms"),
    Parameter("RegisteredModelName", "String", REGISTERED_MODEL_NAME, "MLflow registered model name"),
    Parameter(
        "MlflowTrackingUri",
        "String",
        "",
        "MLflow tracking URI of the register step (locally empty: the local store; on SageMaker a server URL or a "
        "managed MLflow ARN, which `mlops pipeline start` requires)",
    ),
    Parameter("GitCommit", "String", "", "git commit of the code that runs; recorded on the registered version"),
    Parameter("ProcessingInstanceType", "String", "ml.m5.xlarge", "instance type of processing steps"),
    Parameter("TrainingInstanceType", "String", "ml.m5.2xlarge", "instance type of the training step"),
    Parameter(
        "TrainingImage",
        "String",
        "",
        "image of the training step (on SageMaker: the image policy's CPU image; `mlops pipeline start` picks the "
        "GPU image for a GPU instance type)",
    ),
    Parameter("HfTokenSecret", "String", "", "Secrets Manager secret holding a Hugging Face token (empty: none)"),
)

# Inputs no step produces, each fed from a parameter: the dataset, and the hand-written held-out set.
EXTERNAL_INPUTS: dict[str, str] = {"data": "InputDataUri", "natural": "NaturalDataUri"}

STEPS: tuple[Step, ...] = (
    Step(
        name="prepare",
        kind="processing",
        entry_point="pipelines.steps.prepare",
        description="validate the dataset, check its DVC md5 and split it (stratified, deterministic)",
        inputs=(Artifact("data", f"{PROC}/input/data"),),
        outputs=(Artifact("splits", f"{PROC}/output/splits"),),
        arguments=("DataMd5", "Seed"),
    ),
    Step(
        name="train",
        kind="training",
        entry_point="pipelines.steps.train",
        description="train DeBERTa-v3 with early stopping on validation macro-F1",
        inputs=(Artifact("splits", "/opt/ml/input/data/splits", source="prepare.splits"),),
        outputs=(Artifact("model", "/opt/ml/model"), Artifact("metrics", "/opt/ml/output/data")),
        arguments=("Model", "Epochs", "LearningRate", "BatchSize", "MaxLength", "Seed"),
        instance_type_parameter="TrainingInstanceType",
    ),
    Step(
        name="evaluate",
        kind="processing",
        entry_point="pipelines.steps.evaluate",
        description="evaluate the model on the test split and the hand-written set with the `evaluate` metric module",
        inputs=(
            Artifact("model", f"{PROC}/model", source="train.model"),
            Artifact("splits", f"{PROC}/input/splits", source="prepare.splits"),
            Artifact("natural", f"{PROC}/input/natural"),
        ),
        outputs=(Artifact("evaluation", f"{PROC}/evaluation"),),
    ),
    Step(
        name="gate",
        kind="condition",
        entry_point="",
        description="continue only when test macro-F1 >= MinMacroF1, else fail the run",
        depends_on=("evaluate",),
    ),
    Step(
        name="export",
        kind="processing",
        entry_point="pipelines.steps.export",
        description="export ONNX fp32 + int8 and accept it only if it matches PyTorch on the test split",
        inputs=(
            Artifact("model", f"{PROC}/model", source="train.model"),
            Artifact("splits", f"{PROC}/input/splits", source="prepare.splits"),
        ),
        outputs=(Artifact("onnx", f"{PROC}/output/onnx"),),
        depends_on=("gate",),
    ),
    Step(
        name="benchmark",
        kind="processing",
        entry_point="pipelines.steps.benchmark",
        description="measure the int8 model's latency on test prompts; fail when p95 > P95BudgetMs or a request fails",
        inputs=(
            Artifact("model", f"{PROC}/model", source="train.model"),
            Artifact("onnx", f"{PROC}/input/onnx", source="export.onnx"),
            Artifact("splits", f"{PROC}/input/splits", source="prepare.splits"),
        ),
        outputs=(Artifact("benchmark", f"{PROC}/output/benchmark"),),
        arguments=("P95BudgetMs",),
    ),
    Step(
        name="register",
        kind="processing",
        entry_point="pipelines.steps.register",
        description="log lineage to MLflow and register the model version with alias 'challenger'",
        inputs=(
            Artifact("model", f"{PROC}/model", source="train.model"),
            Artifact("metrics", f"{PROC}/input/metrics", source="train.metrics"),
            Artifact("evaluation", f"{PROC}/input/evaluation", source="evaluate.evaluation"),
            Artifact("splits", f"{PROC}/input/splits", source="prepare.splits"),
            Artifact("onnx", f"{PROC}/input/onnx", source="export.onnx"),
            Artifact("benchmark", f"{PROC}/input/benchmark", source="benchmark.benchmark"),
        ),
        outputs=(Artifact("registration", f"{PROC}/output/registration"),),
        arguments=("RegisteredModelName", "MlflowTrackingUri", "GitCommit"),
        depends_on=("gate",),
    ),
)

# The quality gate on test macro-F1; `mlops evaluate --min-macro-f1` judges a report by it too.
MIN_MACRO_F1_GATE = Gate(
    name="gate",
    after="evaluate",
    report_output="evaluation",
    report_file="evaluation.json",
    json_path="metrics.macro_f1.value",
    threshold_parameter="MinMacroF1",
    fail_message="test macro-F1 is below MinMacroF1; the model is not registered",
)
GATES: tuple[Gate, ...] = (MIN_MACRO_F1_GATE,)

SPEC = PipelineSpec(name=PIPELINE_NAME, version=SPEC_VERSION, parameters=PARAMETERS, steps=STEPS, gates=GATES)


def coerce_parameters(overrides: Mapping[str, str | int | float]) -> dict[str, str | int | float]:
    """Validate parameter overrides against the spec (names, types, ranges) and return them typed."""
    names = {p.name: p for p in SPEC.parameters}
    out: dict[str, str | int | float] = {}
    for name, raw in overrides.items():
        if name not in names:
            raise MlopsError(f"unknown pipeline parameter {name!r}", hint=f"known parameters: {', '.join(names)}")
        kind = names[name].type
        try:
            value: str | int | float = int(raw) if kind == "Integer" else float(raw) if kind == "Float" else str(raw)
        except (TypeError, ValueError):
            raise MlopsError(f"parameter {name} must be {kind.lower()}, got {raw!r}") from None
        out[name] = value
    for name, (low, high) in _RANGES.items():
        if name in out and not low <= float(out[name]) <= high:
            raise MlopsError(f"parameter {name}={out[name]} is outside [{low}, {high}]")
    return out


_RANGES: dict[str, tuple[float, float]] = {
    "MinMacroF1": (0.0, 1.0),
    "Epochs": (1, 1000),
    "BatchSize": (1, 4096),
    "MaxLength": (8, 512),
    "LearningRate": (1e-8, 1.0),
    "P95BudgetMs": (1e-3, 600_000),
}


def parse_parameter_overrides(pairs: list[str] | tuple[str, ...]) -> dict[str, str | int | float]:
    """Parse `Name=Value` pairs into typed values, checked against the spec's parameters (names, types, ranges)."""
    raw: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise MlopsError(f"bad parameter {pair!r}: expected Name=Value", hint="e.g. -p Epochs=5")
        raw[name.strip()] = value
    return coerce_parameters(raw)


def _check_file_defaults() -> None:
    """params.yaml's values pass the checks an override does; a bad one fails on import, named by its key there."""
    for name, key in PARAMS_FILE_KEYS.items():
        default = SPEC.parameter(name).default
        if default is None:
            continue
        try:
            coerce_parameters({name: default})
        except MlopsError as exc:
            raise ParamsError(f"params.yaml: {key}: {exc.message}") from None


_check_file_defaults()
