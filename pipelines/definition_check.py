"""Offline checks of a SageMaker Pipeline definition, before the service sees it.

Three checks, each returning `Problem`s that name a JSON path:

1. Top level against AWS's published definition schema (Draft 7), shipped as package data in
   `pipelines/schemas/`. That schema predates SDK v3 and rejects step fields the SDK legitimately emits
   (PropertyFiles, S3DataDistributionType, ContainerEntrypoint, ...), so it is applied to `Version`,
   `Metadata` and `Parameters` only.
2. Every job step's `Arguments` against botocore's input shape of the API the step calls (Processing ->
   CreateProcessingJob without its name, Training -> CreateTrainingJob, ...): unknown fields, missing required
   members, types, enums, lengths, ranges and patterns, recursively. Pipeline expressions (`Get`, `Std:Join`,
   `Std:JsonGet`) stand in for values; a `Get` of a parameter is checked for type against the field and its
   *default value* against the field's constraints (an instance type is usually a parameter, so a bad default
   would otherwise only fail at run time). Condition, Fail and the step envelopes (CacheConfig, PropertyFiles)
   are checked by hand.
3. References: `DependsOn` and `Get Steps.X...` name existing steps, property paths exist on the step's
   Describe* response, property files and parameters are declared, step names are unique, and the dependency
   graph (including condition branches) has no cycle.

Run it as `python -m pipelines.definition_check definition.json` (exit status 1 on any problem).
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ml.errors import MlopsError

logger = logging.getLogger(__name__)

SCHEMA_FILE = "sagemaker-pipeline-definition.schema.json"
TOP_LEVEL_CHECKED = ("Version", "Metadata", "Parameters")
TOP_LEVEL_KNOWN = {"Version", "Metadata", "Parameters", "PipelineExperimentConfig", "MlflowConfig", "Steps"}

# Step type -> (the API its Arguments are a request of, members the pipeline service fills in itself).
STEP_OPERATIONS: dict[str, tuple[str, frozenset[str]]] = {
    "Processing": ("CreateProcessingJob", frozenset({"ProcessingJobName"})),
    "Training": ("CreateTrainingJob", frozenset({"TrainingJobName"})),
    "Transform": ("CreateTransformJob", frozenset({"TransformJobName"})),
    "Tuning": ("CreateHyperParameterTuningJob", frozenset({"HyperParameterTuningJobName"})),
    "Model": ("CreateModel", frozenset({"ModelName"})),
    "RegisterModel": ("CreateModelPackage", frozenset()),
}
# Step type -> the Describe* response its properties (`Get Steps.X.<path>`) resolve against.
STEP_PROPERTIES_SHAPE = {
    "Processing": "DescribeProcessingJobResponse",
    "Training": "DescribeTrainingJobResponse",
    "Transform": "DescribeTransformJobResponse",
    "Tuning": "DescribeHyperParameterTuningJobResponse",
    "Model": "DescribeModelOutput",
    "RegisterModel": "DescribeModelPackageOutput",
}
OTHER_STEP_TYPES = {
    "Condition",
    "Fail",
    "Lambda",
    "Callback",
    "QualityCheck",
    "ClarifyCheck",
    "EMR",
    "EMRServerless",
    "AutoML",
    "EndpointConfig",
    "Endpoint",
    "InferenceComponent",
    "Lineage",
    "Job",
}
COMMON_STEP_KEYS = {"Name", "Type", "Arguments", "DependsOn", "DisplayName", "Description"}
JOB_STEP_KEYS = COMMON_STEP_KEYS | {"CacheConfig", "RetryPolicies"}
STEP_KEYS = {
    "Processing": JOB_STEP_KEYS | {"PropertyFiles"},
    "Training": JOB_STEP_KEYS,
    "Transform": JOB_STEP_KEYS,
    "Tuning": JOB_STEP_KEYS,
    "Model": COMMON_STEP_KEYS | {"RetryPolicies"},
    "RegisterModel": COMMON_STEP_KEYS | {"RetryPolicies"},
    "Condition": COMMON_STEP_KEYS,
    "Fail": COMMON_STEP_KEYS,
}
STEP_NAME_RE = re.compile(r"^[A-Za-z0-9\-_]{1,64}$")
ISO_DURATION_RE = re.compile(r"^P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?$")
EXECUTION_VARIABLES = {
    "StartDateTime",
    "CurrentDateTime",
    "PipelineName",
    "PipelineArn",
    "PipelineExecutionId",
    "PipelineExecutionArn",
    "TrainingJobName",
    "ProcessingJobName",
}
BINARY_CONDITIONS = {"Equals", "GreaterThan", "GreaterThanOrEqualTo", "LessThan", "LessThanOrEqualTo"}
EXPRESSION_KEYS = {"Get", "Std:Join", "Std:JsonGet"}
# Which parameter types may stand in for a botocore scalar type.
PARAMETER_FITS = {
    "string": {"String"},
    "integer": {"Integer"},
    "long": {"Integer"},
    "float": {"Float", "Integer"},
    "double": {"Float", "Integer"},
    "boolean": {"Boolean"},
}
PROPERTY_TOKEN_RE = re.compile(r"\.?([A-Za-z0-9_]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a definition, at a JSON path."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class DefinitionCheckError(MlopsError):
    """The pipeline definition failed the offline checks."""

    def __init__(self, problems: list[Problem]) -> None:
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"the pipeline definition has {len(problems)} problem(s):\n{lines}")
        self.problems = problems


def _child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_:]*", key) else f"{path}[{json.dumps(key)}]"


def _is_expression(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in EXPRESSION_KEYS


# ---------------------------------------------------------------------------------------------- 1. top level


@functools.cache
def load_schema() -> dict[str, Any]:
    """Return AWS's pipeline definition JSON schema, from this package's data."""
    text = resources.files("pipelines.schemas").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def check_top_level(definition: Mapping[str, Any]) -> list[Problem]:
    """Check Version, Metadata and Parameters against the official schema, and the top-level keys."""
    from jsonschema import Draft7Validator

    problems = [Problem(_child("$", k), "unknown top-level field") for k in definition if k not in TOP_LEVEL_KNOWN]
    if not isinstance(definition.get("Steps"), list) or not definition["Steps"]:
        problems.append(Problem("$.Steps", "a definition needs a non-empty list of steps"))
    schema = dict(load_schema())
    # The same schema, restricted to the parts it still describes correctly (see the module doc).
    schema["properties"] = {k: v for k, v in schema["properties"].items() if k in TOP_LEVEL_CHECKED}
    schema["required"] = ["Version"]
    subset = {k: v for k, v in definition.items() if k in TOP_LEVEL_CHECKED}
    for error in sorted(Draft7Validator(schema).iter_errors(subset), key=lambda e: list(e.absolute_path)):
        path = "$"
        for part in error.absolute_path:
            path = _child(path, part)
        problems.append(Problem(path, f"schema: {error.message}"))
    names = [p.get("Name") for p in definition.get("Parameters") or [] if isinstance(p, dict)]
    for name in {n for n in names if names.count(n) > 1}:
        problems.append(Problem("$.Parameters", f"parameter {name!r} is declared more than once"))
    return problems


# ---------------------------------------------------------------------------------------------- helpers


@functools.cache
def _service_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("sagemaker")


@functools.cache
def _pattern(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:  # a Java-only construct (e.g. \p{...}): not checkable here
        return None


def _scalar_errors(value: Any, shape: Any) -> list[str]:
    """Problems of a literal `value` for a botocore scalar shape (type, enum, length, range, pattern)."""
    kind, meta = shape.type_name, shape.metadata
    if kind == "string":
        if not isinstance(value, str):
            return [f"expected a string, got {type(value).__name__} {value!r}"]
        errors = []
        enum = getattr(shape, "enum", None) or meta.get("enum")
        if enum and value not in enum:
            close = sorted(e for e in enum if value.split(".")[:2] == e.split(".")[:2])[:8] or sorted(enum)[:8]
            errors.append(f"{value!r} is not an allowed {shape.name} (e.g. {', '.join(close)})")
        if "min" in meta and len(value) < meta["min"]:
            errors.append(f"{value!r} is shorter than {meta['min']} characters")
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"value is longer than {meta['max']} characters")
        compiled = _pattern(meta["pattern"]) if "pattern" in meta else None
        if compiled is not None and not enum and not compiled.fullmatch(value):
            errors.append(f"{value!r} does not match the {shape.name} pattern {meta['pattern']!r}")
        return errors
    if kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"expected an integer, got {type(value).__name__} {value!r}"]
    elif kind in ("float", "double"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return [f"expected a number, got {type(value).__name__} {value!r}"]
    elif kind == "boolean":
        return [] if isinstance(value, bool) else [f"expected a boolean, got {type(value).__name__} {value!r}"]
    elif kind == "timestamp":
        return [] if isinstance(value, (str, int, float)) else [f"expected a timestamp, got {value!r}"]
    elif kind == "blob":
        return [] if isinstance(value, str) else [f"expected base64 text, got {type(value).__name__}"]
    else:
        return []
    errors = []
    if "min" in meta and value < meta["min"]:
        errors.append(f"{value} is below the minimum {meta['min']}")
    if "max" in meta and value > meta["max"]:
        errors.append(f"{value} is above the maximum {meta['max']}")
    return errors


def _resolve_property(shape: Any, path: str) -> tuple[Any | None, str | None]:
    """Walk a property path (`A.B[0].C['key']`) through a Describe* shape: (leaf shape, None) or (None, error)."""
    pos = 0
    while pos < len(path):
        match = PROPERTY_TOKEN_RE.match(path, pos)
        if not match or match.end() == pos:
            return None, f"cannot parse property path {path!r} at {path[pos:]!r}"
        pos = match.end()
        attr, index, key = match.group(1), match.group(2), match.group(3) or match.group(4)
        if attr is not None:
            if shape.type_name != "structure" or attr not in shape.members:
                return None, f"{shape.name} has no property {attr!r}"
            shape = shape.members[attr]
        elif shape.type_name == "list":
            # Lists can be indexed by position or, for named items (Outputs['splits']), by name.
            shape = shape.member
        elif shape.type_name == "map" and key is not None:
            shape = shape.value
        else:
            return None, f"{shape.name} cannot be indexed with [{index if index is not None else key!r}]"
    return shape, None


# ---------------------------------------------------------------------------------------------- the walker


class _Checker:
    """Holds the definition's parameters and steps while walking it."""

    def __init__(self, definition: Mapping[str, Any]) -> None:
        self.definition = definition
        self.problems: list[Problem] = []
        self.parameters = {
            p["Name"]: p for p in definition.get("Parameters") or [] if isinstance(p, dict) and "Name" in p
        }
        # name -> (path, step) for every step, condition branches included.
        self.steps: dict[str, tuple[str, dict[str, Any]]] = {}
        self.branches: dict[str, list[str]] = {}  # condition step -> the steps in its branches
        for path, step in self._iter_steps(definition.get("Steps") or [], "$.Steps"):
            name = step.get("Name")
            if isinstance(name, str):
                if name in self.steps:
                    self.add(_child(path, "Name"), f"step name {name!r} is used twice (also at {self.steps[name][0]})")
                else:
                    self.steps[name] = (path, step)

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def _iter_steps(self, steps: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
        if not isinstance(steps, list):
            return
        for i, step in enumerate(steps):
            step_path = _child(path, i)
            if not isinstance(step, dict):
                self.add(step_path, "a step must be an object")
                continue
            yield step_path, step
            if step.get("Type") == "Condition" and isinstance(step.get("Arguments"), dict):
                inner = []
                for branch in ("IfSteps", "ElseSteps"):
                    branch_path = _child(_child(step_path, "Arguments"), branch)
                    for sub_path, sub in self._iter_steps(step["Arguments"].get(branch), branch_path):
                        inner.append(sub.get("Name"))
                        yield sub_path, sub
                self.branches[str(step.get("Name"))] = [n for n in inner if isinstance(n, str)]

    # ------------------------------------------------------------------ shapes

    def walk(self, value: Any, shape: Any, path: str, omitted: frozenset[str] = frozenset()) -> None:
        """Check `value` against a botocore shape, recursively."""
        if _is_expression(value):
            self.expression_for_field(value, shape, path)
            return
        kind = shape.type_name
        if kind == "structure":
            if not isinstance(value, dict):
                self.add(path, f"expected an object ({shape.name}), got {type(value).__name__}")
                return
            for key, item in value.items():
                if key not in shape.members:
                    known = ", ".join(sorted(shape.members))
                    self.add(_child(path, key), f"unknown field {key!r} in {shape.name} (known: {known})")
                else:
                    self.walk(item, shape.members[key], _child(path, key))
            for required in shape.required_members:
                if required not in value and required not in omitted:
                    self.add(path, f"missing required field {required!r} of {shape.name}")
            if shape.metadata.get("union") and len(value) != 1:
                self.add(path, f"{shape.name} takes exactly one of {', '.join(sorted(shape.members))}")
        elif kind == "list":
            if not isinstance(value, list):
                self.add(path, f"expected a list ({shape.name}), got {type(value).__name__}")
                return
            self._length(value, shape, path, "item")
            for i, item in enumerate(value):
                self.walk(item, shape.member, _child(path, i))
        elif kind == "map":
            if not isinstance(value, dict):
                self.add(path, f"expected an object ({shape.name}), got {type(value).__name__}")
                return
            self._length(value, shape, path, "entry")
            for key, item in value.items():
                for error in _scalar_errors(key, shape.key):
                    self.add(_child(path, key), f"key: {error}")
                self.walk(item, shape.value, _child(path, key))
        else:
            for error in _scalar_errors(value, shape):
                self.add(path, error)

    def _length(self, value: Any, shape: Any, path: str, noun: str) -> None:
        meta = shape.metadata
        if "min" in meta and len(value) < meta["min"]:
            self.add(path, f"{shape.name} needs at least {meta['min']} {noun}(s), got {len(value)}")
        if "max" in meta and len(value) > meta["max"]:
            self.add(path, f"{shape.name} takes at most {meta['max']} {noun}(s), got {len(value)}")

    def expression_for_field(self, expr: dict[str, Any], shape: Any, path: str) -> None:
        """Check that an expression can stand where `shape` is expected (references are checked separately)."""
        kind = shape.type_name
        op, arg = next(iter(expr.items()))
        if op == "Std:Join":
            if kind != "string":
                self.add(path, f"Std:Join yields a string but {shape.name} is {kind}")
            return
        if op != "Get" or not isinstance(arg, str):
            return  # Std:JsonGet: its type is only known at run time
        namespace, _, rest = arg.partition(".")
        if namespace == "Parameters":
            param = self.parameters.get(rest)
            if param is None:
                return  # reported by the reference check
            ptype = param.get("Type", "String")
            if kind not in PARAMETER_FITS:
                self.add(path, f"parameter {rest} ({ptype}) cannot stand for a {kind} ({shape.name})")
                return
            if ptype not in PARAMETER_FITS[kind]:
                hint = " (render it with Std:Join, e.g. .to_string())" if kind == "string" else ""
                self.add(path, f"{ptype} parameter {rest} flows into {shape.name}, which is {kind}{hint}")
                return
            if "DefaultValue" in param:
                for error in _scalar_errors(param["DefaultValue"], shape):
                    self.add(path, f"default value of parameter {rest}: {error}")
        elif namespace == "Execution":
            if kind != "string":
                self.add(path, f"execution variable {rest} is a string but {shape.name} is {kind}")
        elif namespace == "Steps":
            leaf = self._step_property(rest)
            if leaf is None:
                return
            scalar = {"string", "integer", "long", "float", "double", "boolean", "timestamp"}
            if (leaf.type_name in scalar) != (kind in scalar) or (
                leaf.type_name in scalar
                and leaf.type_name != kind
                and not ({leaf.type_name, kind} <= {"integer", "long"} or {leaf.type_name, kind} <= {"float", "double"})
            ):
                self.add(path, f"property {arg} is {leaf.type_name} but {shape.name} is {kind}")

    def _step_property(self, ref: str) -> Any | None:
        name, _, prop = ref.partition(".")
        if name not in self.steps or prop.startswith("PropertyFiles"):
            return None
        shape_name = STEP_PROPERTIES_SHAPE.get(self.steps[name][1].get("Type", ""))
        if shape_name is None:
            return None
        leaf, _ = _resolve_property(_service_model().shape_for(shape_name), prop)
        return leaf

    # ------------------------------------------------------------------ steps

    def check_step(self, path: str, step: dict[str, Any]) -> None:
        """Check one step's envelope and Arguments."""
        step_type = step.get("Type")
        name = step.get("Name")
        if not isinstance(name, str) or not STEP_NAME_RE.match(name):
            self.add(_child(path, "Name"), f"step name {name!r} must match {STEP_NAME_RE.pattern}")
        if step_type not in STEP_OPERATIONS and step_type not in OTHER_STEP_TYPES:
            self.add(_child(path, "Type"), f"unknown step type {step_type!r}")
            return
        allowed = STEP_KEYS.get(step_type)
        if allowed is not None:
            for key in step:
                if key not in allowed:
                    known = ", ".join(sorted(allowed))
                    self.add(_child(path, key), f"unknown field {key!r} for a {step_type} step (known: {known})")
        if "Arguments" not in step:
            self.add(path, f"a {step_type} step needs Arguments")
        depends_on = step.get("DependsOn", [])
        if not isinstance(depends_on, list) or not all(isinstance(d, str) for d in depends_on):
            self.add(_child(path, "DependsOn"), "DependsOn must be a list of step names")
        if "CacheConfig" in step:
            self._cache_config(step["CacheConfig"], _child(path, "CacheConfig"))
        args_path = _child(path, "Arguments")
        args = step.get("Arguments")
        if step_type in STEP_OPERATIONS and "Arguments" in step:
            operation, omitted = STEP_OPERATIONS[step_type]
            self.walk(args, _service_model().operation_model(operation).input_shape, args_path, omitted)
            for name_member in omitted:
                if isinstance(args, dict) and name_member in args:
                    self.add(_child(args_path, name_member), "the job name is set by the pipeline; leave it out")
        elif step_type == "Condition":
            self._condition_arguments(args, args_path)
        elif step_type == "Fail":
            self._fail_arguments(args, args_path)
        if step_type == "Processing" and "PropertyFiles" in step:
            self._property_files(step, _child(path, "PropertyFiles"))

    def _cache_config(self, cache: Any, path: str) -> None:
        if not isinstance(cache, dict):
            self.add(path, "CacheConfig must be an object")
            return
        for key in cache:
            if key not in ("Enabled", "ExpireAfter"):
                self.add(_child(path, key), f"unknown field {key!r} in CacheConfig (known: Enabled, ExpireAfter)")
        if not isinstance(cache.get("Enabled"), bool):
            self.add(_child(path, "Enabled"), "Enabled must be a boolean")
        expire = cache.get("ExpireAfter")
        if cache.get("Enabled") and not (isinstance(expire, str) and ISO_DURATION_RE.match(expire)):
            self.add(
                _child(path, "ExpireAfter"), f"ExpireAfter must be an ISO 8601 duration (e.g. P30D), got {expire!r}"
            )

    def _property_files(self, step: dict[str, Any], path: str) -> None:
        outputs = {
            o.get("OutputName")
            for o in (step.get("Arguments") or {}).get("ProcessingOutputConfig", {}).get("Outputs", [])
            if isinstance(o, dict)
        }
        files = step["PropertyFiles"]
        if not isinstance(files, list):
            self.add(path, "PropertyFiles must be a list")
            return
        for i, pf in enumerate(files):
            pf_path = _child(path, i)
            if not isinstance(pf, dict):
                self.add(pf_path, "a property file must be an object")
                continue
            for key in pf:
                if key not in ("PropertyFileName", "OutputName", "FilePath"):
                    self.add(_child(pf_path, key), f"unknown field {key!r} in a property file")
            for key in ("PropertyFileName", "OutputName", "FilePath"):
                if not isinstance(pf.get(key), str) or not pf.get(key):
                    self.add(pf_path, f"missing {key}")
            if isinstance(pf.get("OutputName"), str) and pf["OutputName"] not in outputs:
                names = ", ".join(sorted(map(str, outputs)))
                self.add(
                    _child(pf_path, "OutputName"), f"no processing output named {pf['OutputName']!r} (outputs: {names})"
                )

    def _condition_arguments(self, args: Any, path: str) -> None:
        if not isinstance(args, dict):
            self.add(path, "Condition arguments must be an object")
            return
        for key in args:
            if key not in ("Conditions", "IfSteps", "ElseSteps"):
                known = "Conditions, ElseSteps, IfSteps"
                self.add(_child(path, key), f"unknown field {key!r} in Condition arguments (known: {known})")
        conditions = args.get("Conditions")
        if not isinstance(conditions, list) or not conditions:
            self.add(_child(path, "Conditions"), "a Condition step needs a non-empty list of Conditions")
            return
        for i, condition in enumerate(conditions):
            self._condition(condition, _child(_child(path, "Conditions"), i))
        for branch in ("IfSteps", "ElseSteps"):
            if branch in args and not isinstance(args[branch], list):
                self.add(_child(path, branch), f"{branch} must be a list of steps")

    def _condition(self, condition: Any, path: str) -> None:
        if not isinstance(condition, dict):
            self.add(path, "a condition must be an object")
            return
        kind = condition.get("Type")
        expected: set[str]
        if kind in BINARY_CONDITIONS:
            expected = {"Type", "LeftValue", "RightValue"}
        elif kind == "In":
            expected = {"Type", "QueryValue", "Values"}
        elif kind == "Not":
            expected = {"Type", "Condition"}
            self._condition(condition.get("Condition"), _child(path, "Condition"))
        elif kind == "Or":
            expected = {"Type", "Conditions"}
            for i, inner in enumerate(condition.get("Conditions") or []):
                self._condition(inner, _child(_child(path, "Conditions"), i))
        else:
            self.add(_child(path, "Type"), f"unknown condition type {kind!r}")
            return
        for key in condition:
            if key not in expected:
                self.add(_child(path, key), f"unknown field {key!r} in a {kind} condition")
        for key in expected - set(condition):
            self.add(path, f"a {kind} condition needs {key}")
        for key in ("LeftValue", "RightValue", "QueryValue"):
            value = condition.get(key)
            if key in condition and not (_is_expression(value) or isinstance(value, (str, int, float, bool))):
                self.add(_child(path, key), "a condition operand must be a value or an expression")

    def _fail_arguments(self, args: Any, path: str) -> None:
        if not isinstance(args, dict):
            self.add(path, "Fail arguments must be an object")
            return
        for key in args:
            if key != "ErrorMessage":
                self.add(_child(path, key), f"unknown field {key!r} in Fail arguments (known: ErrorMessage)")
        message = args.get("ErrorMessage")
        if message is not None and not (isinstance(message, str) or _is_expression(message)):
            self.add(_child(path, "ErrorMessage"), "ErrorMessage must be a string or an expression")

    # ------------------------------------------------------------------ references

    def check_references(self) -> None:
        """Check every expression's target, DependsOn, and that the dependency graph is acyclic."""
        for path, expr in _iter_expressions(self.definition.get("Steps"), "$.Steps"):
            self._expression_reference(expr, path)
        graph: dict[str, set[str]] = {name: set() for name in self.steps}
        for name, (path, step) in self.steps.items():
            depends_on = step.get("DependsOn") or []
            for i, target in enumerate(depends_on if isinstance(depends_on, list) else []):
                if target not in self.steps:
                    self.add(_child(_child(path, "DependsOn"), i), f"DependsOn names no step: {target!r}")
                else:
                    graph[name].add(target)
            own = {k: v for k, v in step.items() if k != "Arguments"}
            args = step.get("Arguments")
            if isinstance(args, dict):
                # A condition's branches are steps of their own: their references are theirs, not the condition's.
                is_condition = step.get("Type") == "Condition"
                own["Arguments"] = (
                    {k: v for k, v in args.items() if k not in ("IfSteps", "ElseSteps")} if is_condition else args
                )
            for _, expr in _iter_expressions(own, path):
                target = _referenced_step(expr)
                if target in self.steps:
                    graph[name].add(target)
        for condition, inner in self.branches.items():
            for name in inner:
                if name in graph and condition in self.steps:
                    graph[name].add(condition)
        cycle = _find_cycle(graph)
        if cycle:
            self.add(self.steps[cycle[0]][0], f"steps depend on each other in a cycle: {' -> '.join(cycle)}")

    def _expression_reference(self, expr: dict[str, Any], path: str) -> None:
        op, arg = next(iter(expr.items()))
        if op == "Get":
            if not isinstance(arg, str):
                self.add(path, "Get takes a string")
                return
            namespace, _, rest = arg.partition(".")
            if namespace == "Parameters":
                if rest not in self.parameters:
                    self.add(path, f"Get {arg}: no parameter named {rest!r}")
            elif namespace == "Execution":
                if rest not in EXECUTION_VARIABLES:
                    known = ", ".join(sorted(EXECUTION_VARIABLES))
                    self.add(path, f"Get {arg}: unknown execution variable (known: {known})")
            elif namespace == "Steps":
                self._step_reference(rest, path)
            else:
                self.add(path, f"Get {arg}: unknown namespace {namespace!r} (Parameters, Execution or Steps)")
        elif op == "Std:Join":
            if (
                not isinstance(arg, dict)
                or not isinstance(arg.get("On"), str)
                or not isinstance(arg.get("Values"), list)
            ):
                self.add(path, "Std:Join takes {On: string, Values: list}")
        elif op == "Std:JsonGet":
            if not isinstance(arg, dict) or not isinstance(arg.get("Path"), str):
                self.add(path, "Std:JsonGet takes {PropertyFile: Get Steps.<step>.PropertyFiles.<name>, Path: string}")
            elif "PropertyFile" not in arg and "S3Uri" not in arg:
                self.add(path, "Std:JsonGet needs a PropertyFile (or S3Uri)")

    def _step_reference(self, ref: str, path: str) -> None:
        name, _, prop = ref.partition(".")
        if name not in self.steps:
            self.add(path, f"Get Steps.{ref}: no step named {name!r}")
            return
        step = self.steps[name][1]
        if prop.startswith("PropertyFiles."):
            declared = {pf.get("PropertyFileName") for pf in step.get("PropertyFiles") or [] if isinstance(pf, dict)}
            wanted = prop.removeprefix("PropertyFiles.")
            if wanted not in declared:
                self.add(path, f"Get Steps.{ref}: step {name!r} declares no property file {wanted!r}")
            return
        shape_name = STEP_PROPERTIES_SHAPE.get(step.get("Type", ""))
        if shape_name is None:
            return  # properties of other step types are not modelled by botocore
        _, error = _resolve_property(_service_model().shape_for(shape_name), prop)
        if error:
            self.add(path, f"Get Steps.{ref}: {error}")


def _iter_expressions(value: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every pipeline expression in `value`, outermost first, with its path (nested ones too)."""
    if isinstance(value, dict):
        if _is_expression(value):
            yield path, value
            op, arg = next(iter(value.items()))
            yield from _iter_expressions(arg, _child(path, op))
            return
        for key, item in value.items():
            yield from _iter_expressions(item, _child(path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _iter_expressions(item, _child(path, i))


def _referenced_step(expr: dict[str, Any]) -> str | None:
    op, arg = next(iter(expr.items()))
    if op == "Get" and isinstance(arg, str) and arg.startswith("Steps."):
        return arg.split(".")[1]
    return None


def _find_cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """Return one dependency cycle as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


# ---------------------------------------------------------------------------------------------- entry points


def _as_dict(definition: Mapping[str, Any] | str) -> Mapping[str, Any]:
    return json.loads(definition) if isinstance(definition, str) else definition


def check_steps(definition: Mapping[str, Any] | str) -> list[Problem]:
    """Check every step (condition branches included) and its Arguments against botocore's shapes."""
    checker = _Checker(_as_dict(definition))
    for path, step in checker._iter_steps(checker.definition.get("Steps") or [], "$.Steps"):
        checker.check_step(path, step)
    return checker.problems


def check_references(definition: Mapping[str, Any] | str) -> list[Problem]:
    """Check step references (DependsOn, Get Steps/Parameters/Execution, property files) and cycles."""
    checker = _Checker(_as_dict(definition))
    checker.check_references()
    return checker.problems


def check_definition(definition: Mapping[str, Any] | str) -> list[Problem]:
    """Run every offline check; return all problems (empty when the definition is fine)."""
    data = _as_dict(definition)
    if not isinstance(data, dict):
        return [Problem("$", "a definition must be a JSON object")]
    problems = check_top_level(data) + check_steps(data) + check_references(data)
    # A step can fail both the walk and the reference check in the same spot; report it once.
    return list(dict.fromkeys(problems))


def assert_valid(definition: Mapping[str, Any] | str) -> None:
    """Raise DefinitionCheckError listing every problem, if there is any."""
    problems = check_definition(definition)
    if problems:
        raise DefinitionCheckError(problems)


def main(argv: list[str] | None = None) -> int:
    """`python -m pipelines.definition_check FILE`: print problems; exit 1 if there are any."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("definition", type=Path, help="pipeline definition JSON file ('-' for stdin)")
    args = parser.parse_args(argv)
    text = sys.stdin.read() if str(args.definition) == "-" else args.definition.read_text()
    try:
        problems = check_definition(text)
    except json.JSONDecodeError as exc:
        print(f"error: not JSON: {exc}", file=sys.stderr)  # noqa: T201 - the command's output
        return 2
    for problem in problems:
        print(problem)  # noqa: T201 - the command's output
    if not problems:
        print("ok: the definition passes the offline checks", file=sys.stderr)  # noqa: T201 - the command's output
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
