"""The project's tunable parameters: `params.yaml` at the project root is their one home.

DVC's stages read it (`${train.epochs}` in dvc.yaml; `dvc exp run -S train.epochs=8` edits it), the pipeline's
parameters default to it (`pipelines.spec`) and so does `TrainConfig`. Where the file is absent, nothing needs it: a
SageMaker job runs a code bundle of the packages alone, and its definition passes every value to each step as an
argument; the serving image holds no training code. Read it with `load_params()`; `params_file()` says where it is.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ml.errors import MlopsError

PARAMS_FILE = "params.yaml"
# The project root: the checkout holding the packages (a source tree or an editable install), whatever the cwd.
PROJECT_ROOT = Path(__file__).resolve().parents[1]


class ParamsError(MlopsError):
    """params.yaml is missing, malformed, or a value has the wrong type."""


@dataclass(frozen=True)
class DataParams:
    """The `generate` stage's parameters: the dataset's seed and its prompts per intent."""

    seed: int
    per_intent: int


@dataclass(frozen=True)
class TrainParams:
    """The training parameters a pipeline run or a DVC experiment sets (the `TrainConfig` fields of the same name)."""

    model: str
    epochs: int
    learning_rate: float
    batch_size: int
    max_length: int
    seed: int


@dataclass(frozen=True)
class EvaluateParams:
    """The quality gate's threshold on test macro-F1."""

    min_macro_f1: float


@dataclass(frozen=True)
class Params:
    """Every section of params.yaml, typed."""

    data: DataParams
    train: TrainParams
    evaluate: EvaluateParams

    def flat(self) -> dict[str, Any]:
        """The values by their dotted names, as DVC names them (`train.epochs`)."""
        return {
            f"{section.name}.{item.name}": getattr(getattr(self, section.name), item.name)
            for section in fields(self)
            for item in fields(getattr(self, section.name))
        }


_SECTIONS: dict[str, type[DataParams | TrainParams | EvaluateParams]] = {
    "data": DataParams,
    "train": TrainParams,
    "evaluate": EvaluateParams,
}


def params_file() -> Path:
    """Where params.yaml is: at the project root."""
    return PROJECT_ROOT / PARAMS_FILE


def _typed(key: str, value: Any, kind: str) -> Any:
    """`value` as the field's type, or ParamsError naming the key."""
    if kind == "str" and isinstance(value, str) and value:
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "float" and not isinstance(value, bool):
        # YAML 1.1 (PyYAML, here) reads `1e-3` as text where YAML 1.2 (DVC's reader) reads a number: accept both.
        try:
            return float(value)
        except (TypeError, ValueError):
            pass
    expected = {"str": "a non-empty string", "int": "an integer", "float": "a number"}[kind]
    raise ParamsError(f"{PARAMS_FILE}: {key} must be {expected}, got {value!r}")


def parse_params(raw: Any) -> Params:
    """Check a parsed params.yaml (every section and key, no unknown ones, each value's type) and return it typed."""
    if not isinstance(raw, dict):
        raise ParamsError(f"{PARAMS_FILE} must map sections to values, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(_SECTIONS))
    if unknown:
        raise ParamsError(
            f"{PARAMS_FILE}: unknown section(s) {', '.join(unknown)}", hint=f"known: {', '.join(_SECTIONS)}"
        )
    sections: dict[str, Any] = {}
    for name, cls in _SECTIONS.items():
        values = raw.get(name)
        if not isinstance(values, dict):
            raise ParamsError(f"{PARAMS_FILE}: section {name!r} is missing or not a mapping")
        names = [f.name for f in fields(cls)]
        problems = [f"unknown key {name}.{k}" for k in sorted(set(values) - set(names))]
        problems += [f"missing key {name}.{k}" for k in names if k not in values]
        if problems:
            raise ParamsError(f"{PARAMS_FILE}: {'; '.join(problems)}")
        sections[name] = cls(**{f.name: _typed(f"{name}.{f.name}", values[f.name], str(f.type)) for f in fields(cls)})
    return Params(**sections)


@functools.cache
def load_params(path: Path | None = None) -> Params:
    """Read and check params.yaml (default: the project's); ParamsError says what is wrong or missing."""
    import yaml

    path = path or params_file()
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ParamsError(
            f"{path} not found: the training and gate parameters' defaults live there",
            hint="run from a checkout of the project, or pass every parameter explicitly",
        ) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path} is not valid YAML: {exc}") from None
    return parse_params(raw)
