"""The MLflow `python_function` flavor of a registered version: the ONNX predictor behind `mlflow.pyfunc.load_model`.

Every registered version is an MLflow Model whose `loader_module` is this module, whose data is a model directory
the predictor reads (ONNX graphs, tokenizer, label map) and whose code is the predictor core
(`model_registry.mlflow_model`). Loading needs onnxruntime and tokenizers, never torch or transformers:

    model = mlflow.pyfunc.load_model("models:/intent-classifier@champion")             # int8
    model = mlflow.pyfunc.load_model(uri, model_config={"precision": "fp32"})          # the fp32 graph
    model.predict(["translate hello into French"])  # or pd.DataFrame({"text": [...]})
    # [{"intent": "translation", "confidence": 0.93, "probabilities": {"code_generation": 0.01, ...}}]

Input: a list of strings, or one column of strings (a DataFrame such as `pd.DataFrame({"text": [...]})`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from inference.predictor import OnnxPredictor

# The name of the input's one column where it has a name, and the model config a loader accepts (with its defaults).
TEXT_COLUMN = "text"
DEFAULT_CONFIG: dict[str, Any] = {"precision": "int8"}


class IntentPyfunc:
    """What `mlflow.pyfunc.load_model` returns inside its PyFuncModel: texts in, one prediction dict per text out."""

    def __init__(self, predictor: OnnxPredictor) -> None:
        self.predictor = predictor

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Per text: `intent`, its probability as `confidence`, and the `probabilities` of every label."""
        return self.predictor.predict(input_texts(model_input))


def input_texts(model_input: Any) -> list[str]:
    """The texts of a pyfunc input: a DataFrame's `text` (or only) column, a list or array, or one string."""
    if isinstance(model_input, str):
        return [model_input]
    columns = getattr(model_input, "columns", None)
    if columns is not None:  # a pandas DataFrame (MLflow's schema enforcement gives one)
        names = list(columns)
        if TEXT_COLUMN not in names and len(names) != 1:
            raise ValueError(f"the input has no {TEXT_COLUMN!r} column (it has {', '.join(map(str, names))})")
        model_input = model_input[TEXT_COLUMN if TEXT_COLUMN in names else names[0]]
    if hasattr(model_input, "tolist"):
        model_input = model_input.tolist()
    if isinstance(model_input, Sequence):
        return [str(text) for text in model_input]
    raise ValueError(f"cannot read texts from a {type(model_input).__name__}; send a list of strings")


def _load_pyfunc(data_path: str, model_config: dict[str, Any] | None = None) -> IntentPyfunc:
    """MLflow's loader entry point: the ONNX predictor over the model directory `data_path`."""
    config = {**DEFAULT_CONFIG, **(model_config or {})}
    unknown = sorted(set(config) - set(DEFAULT_CONFIG))
    if unknown:
        raise ValueError(f"unknown model_config keys {unknown}; this model takes {sorted(DEFAULT_CONFIG)}")
    return IntentPyfunc(OnnxPredictor(Path(data_path), precision=str(config["precision"])))
