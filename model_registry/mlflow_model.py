"""Each registered version as an MLflow Model: a `python_function` LoggedModel over the project's ONNX predictor.

Registration logs it with the version's run (`mlflow.pyfunc.log_model(name=...)`, MLflow 3), and the version's source
is that logged model, so `mlflow.pyfunc.load_model("models:/intent-classifier@champion")`, `mlflow models predict`
and `mlflow models serve` work on any version. The MLflow Model holds:

- `data/model/` (the data path): what serving reads (`ml.package.served_files`): the ONNX graphs and export report,
  tokenizer, label map and config. The weights PyTorch needs stay in the run's `model/` artifacts;
  `model_registry.artifacts.download_model` joins the two.
- `code/`: the predictor core, found by following the imports of the loader (`inference.pyfunc`) through the project,
  so it needs onnxruntime and tokenizers, never torch or transformers.
- `requirements.txt`: mlflow and the core's packages at the versions the serving image locks.
- a signature (strings in: a list, or one column such as `text`; `intent`, `confidence` and `probabilities` out), an
  input example, and the model config `{"precision": "int8"}`, which a loader overrides:
  `load_model(uri, model_config={"precision": "fp32"})` serves the fp32 graph. (MLflow accepts a config at load only
  for keys logged with the model, and records them as run parameters too: the run's `precision` is the served one.)
"""

from __future__ import annotations

import ast
import contextlib
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ml.model import EXPORT_REPORT_FILE, ONNX_FILES, check_model_dir

log = logging.getLogger(__name__)

# Named, not imported: the registry and inference are independent layers (pyproject.toml's import contracts).
LOADER_MODULE = "inference.pyfunc"
# The name of a model directory: the run's artifacts hold the PyTorch one under it, and the MLflow Model's data
# (pyfunc keeps a data_path under `data/`) the one serving reads.
DATA_DIR = "model"
MODEL_DATA_PATH = f"data/{DATA_DIR}"
# What the predictor core imports besides the standard library; their versions come from the serving lock.
CORE_PACKAGES = ("numpy", "onnxruntime", "tokenizers")
SERVING_LOCK = Path("inference") / "serving" / "requirements.lock"
MODEL_CONFIG = {"precision": "int8"}  # inference.pyfunc.DEFAULT_CONFIG, its keys the ones a loader may override
INPUT_EXAMPLE = ["translate hello into French", "write a short poem about the sea"]


def code_root() -> Path:
    """The directory holding the project packages (found from this module, not from the cwd)."""
    return Path(__file__).resolve().parent.parent


def predictor_code(root: Path | None = None) -> list[Path]:
    """The project's source files the loader module imports, transitively, with their packages' `__init__.py`."""
    root = root or code_root()
    found: set[Path] = set()
    todo, seen = [LOADER_MODULE], set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        parts = module.split(".")
        path = root.joinpath(*parts[:-1], f"{parts[-1]}.py")
        if not path.is_file():
            path = root.joinpath(*parts, "__init__.py")
        found.update(root.joinpath(*parts[:i], "__init__.py") for i in range(1, len(parts)))
        found.add(path)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            else:
                continue
            todo.extend(name for name in names if _is_project_module(root, name))
    return sorted(p.relative_to(root) for p in found)


def _is_project_module(root: Path, name: str) -> bool:
    parts = name.split(".")
    return (root / parts[0] / "__init__.py").is_file() and (
        root.joinpath(*parts[:-1], f"{parts[-1]}.py").is_file() or root.joinpath(*parts, "__init__.py").is_file()
    )


def pip_requirements(root: Path | None = None) -> list[str]:
    """`name==version` for each of CORE_PACKAGES, as the serving lock pins it (mlflow adds its own pin)."""
    lock = (root or code_root()) / SERVING_LOCK
    pins = {}
    for line in lock.read_text().splitlines():
        requirement = line.split("\\")[0].strip()
        if "==" in requirement and not requirement.startswith("#"):
            name, version = requirement.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    missing = [name for name in CORE_PACKAGES if name not in pins]
    if missing:
        raise ValueError(f"{lock} pins no {', '.join(missing)}")
    return [f"{name}=={pins[name]}" for name in CORE_PACKAGES]


def signature(labels: list[str]) -> Any:
    """Strings in (one unnamed column: a list, or a DataFrame's `text`); per text `intent`, `confidence` and the
    `probabilities` of every label out."""
    from mlflow.models import ModelSignature
    from mlflow.types.schema import ColSpec, DataType, Object, Property, Schema

    probabilities = Object([Property(label, DataType.double) for label in labels])
    return ModelSignature(
        inputs=Schema([ColSpec(DataType.string)]),
        outputs=Schema(
            [
                ColSpec(DataType.string, "intent"),
                ColSpec(DataType.double, "confidence"),
                ColSpec(probabilities, "probabilities"),
            ]
        ),
    )


def model_files(model_dir: Path, onnx_dir: Path | None) -> dict[str, Path]:
    """The MLflow Model's data files: what serving reads from an accepted export in onnx_dir, else the model
    directory's own graphs (a version without any graph is still a model; loading it says to export first)."""
    from ml.package import PACKAGE_MODEL_FILES, served_files

    if onnx_dir is not None:
        return served_files(model_dir, onnx_dir)
    model_dir = check_model_dir(model_dir)
    names = (*PACKAGE_MODEL_FILES, *ONNX_FILES.values(), EXPORT_REPORT_FILE)
    return {name: model_dir / name for name in names if (model_dir / name).is_file()}


def log_pyfunc(
    model_dir: Path, onnx_dir: Path | None, labels: list[str], *, name: str, tags: dict[str, str] | None = None
) -> str:
    """Log the MLflow Model of a model directory to the active run as the LoggedModel `name`; return its id."""
    import mlflow

    with tempfile.TemporaryDirectory(prefix="mlflow-model-") as scratch:
        data = Path(scratch) / DATA_DIR
        data.mkdir()
        for file_name, path in sorted(model_files(Path(model_dir), onnx_dir).items()):
            shutil.copyfile(path, data / file_name)
        code = Path(scratch) / "code"
        for relative in predictor_code():
            (code / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(code_root() / relative, code / relative)
        with _process_imports_kept():
            info = mlflow.pyfunc.log_model(
                name=name,
                loader_module=LOADER_MODULE,
                data_path=str(data),
                code_paths=sorted(str(p) for p in code.iterdir()),
                signature=signature(labels),
                input_example=INPUT_EXAMPLE,
                pip_requirements=pip_requirements(),
                model_config=MODEL_CONFIG,
                tags=tags,
            )
    log.info("logged MLflow Model %s (%s)", info.model_id, info.model_uri)
    return str(info.model_id)


@contextlib.contextmanager
def _process_imports_kept() -> Iterator[None]:
    """Logging loads the model here to check its input example, putting the model's code first on sys.path: afterwards
    this process imports as before, and forgets modules it imported from that code (a temporary copy)."""
    path, modules = list(sys.path), set(sys.modules)
    try:
        yield
    finally:
        added = tuple(os.path.join(Path(entry).resolve(), "") for entry in sys.path if entry not in path)
        sys.path[:] = path
        for module in set(sys.modules) - modules:
            file = getattr(sys.modules[module], "__file__", None)
            if added and file and str(Path(file).resolve()).startswith(added):
                del sys.modules[module]
