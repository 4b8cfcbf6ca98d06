"""Every registered version is an MLflow Model: pyfunc on a registry alias, `mlflow models predict` and `serve`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ml.errors import ModelError
from ml.taxonomy import INTENTS
from model_registry.mlflow_model import code_root, pip_requirements, predictor_code
from model_registry.registration import Lineage, register_model
from tests.conftest import free_port, wait_http

NAME = "intent-classifier"
MLFLOW_MODELS = (sys.executable, "-m", "mlflow", "models")
LOCAL = ("--env-manager", "local")  # this environment, as a user of the project's .venv runs them
TEXTS = ["translate hello into French", "write a python function that sorts a list", "plan my week"]
LINEAGE = Lineage(
    data_md5="0123456789abcdef0123456789abcdef",
    git_commit="deadbeef" * 5,
    params={"model": "tiny"},
    metrics={"accuracy": 0.95, "macro_f1": 0.94, "macro_precision": 0.95, "macro_recall": 0.94},
    history=[],
    data_url="file:///remote/files/md5/01/23456789abcdef0123456789abcdef",
)


@dataclass(frozen=True)
class Registered:
    """A version registered once for the module (aliases challenger and champion) and its tracking URI."""

    uri: str
    version: str
    run_id: str


@pytest.fixture(scope="module")
def registered(tiny_model: Path, onnx_export: Path, tmp_path_factory: pytest.TempPathFactory) -> Registered:
    from mlflow.tracking import MlflowClient

    state = tmp_path_factory.mktemp("mlflow-model-state")
    uri = f"sqlite:///{state / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLOPS_STATE_DIR", str(state))
        result = register_model(tiny_model, LINEAGE, onnx_dir=onnx_export, tracking_uri=uri)
        MlflowClient(uri, uri).set_registered_model_alias(NAME, "champion", result.version)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    return Registered(uri, result.version, result.run_id)


@pytest.fixture
def tracking(registered: Registered, monkeypatch: pytest.MonkeyPatch) -> Registered:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", registered.uri)
    return registered


def _outside_env(registered: Registered) -> dict[str, str]:
    """The environment of a user's shell: the store's URI, the venv's bin on PATH, no path to this checkout."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["MLFLOW_TRACKING_URI"] = registered.uri
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def test_pyfunc_loads_registry_aliases_and_predicts_like_the_onnx_predictor(
    tracking: Registered, onnx_export: Path, tiny_model: Path, tmp_path: Path
) -> None:
    import mlflow
    import pandas as pd

    from inference.predictor import OnnxPredictor

    served = tmp_path / "served"
    shutil.copytree(tiny_model, served)
    for path in onnx_export.iterdir():
        shutil.copyfile(path, served / path.name)
    for alias in ("challenger", "champion"):
        model = mlflow.pyfunc.load_model(f"models:/{NAME}@{alias}")
        expected = OnnxPredictor(served, precision="int8").predict(TEXTS)
        assert model.predict(TEXTS) == expected
        assert model.predict(pd.DataFrame({"text": TEXTS})) == expected
    fp32 = mlflow.pyfunc.load_model(f"models:/{NAME}@champion", model_config={"precision": "fp32"})
    assert fp32.predict(TEXTS) == OnnxPredictor(served, precision="fp32").predict(TEXTS)
    with pytest.raises(ModelError, match="unknown ONNX precision 'fp16'"):
        mlflow.pyfunc.load_model(f"models:/{NAME}@champion", model_config={"precision": "fp16"})


def test_the_mlflow_model_carries_signature_example_requirements_code_and_lineage(
    tracking: Registered, tmp_path: Path
) -> None:
    import mlflow
    from mlflow.tracking import MlflowClient

    from model_registry.queries import get_version

    version = get_version("champion")
    local = Path(mlflow.artifacts.download_artifacts(version["source"], dst_path=str(tmp_path)))
    info = mlflow.models.get_model_info(version["source"])
    assert info.flavors["python_function"]["loader_module"] == "inference.pyfunc"
    assert info.signature.inputs.to_dict() == [{"type": "string", "required": True}]
    outputs = info.signature.outputs.to_dict()
    assert [o["name"] for o in outputs] == ["intent", "confidence", "probabilities"]
    assert sorted(outputs[2]["properties"]) == sorted(INTENTS)
    assert json.loads((local / "serving_input_example.json").read_text())["inputs"]
    requirements = (local / "requirements.txt").read_text().split()
    assert requirements == [f"mlflow=={mlflow.__version__}", *pip_requirements()]
    code = {p.relative_to(local / "code") for p in (local / "code").rglob("*.py")}
    assert code == set(predictor_code())
    assert {p.name for p in (local / "data" / "model").iterdir()} >= {"model.int8.onnx", "tokenizer.json"}

    # Linked to its run, with the final scores and the dataset whose source names the DVC remote URL and revision.
    client = MlflowClient()
    logged = client.get_logged_model(version["model_id"])
    assert logged.source_run_id == tracking.run_id and logged.tags["model_digest"] == version["tags"]["model_digest"]
    linked = {m.key: m for m in logged.metrics}
    assert linked["test_macro_f1"].value == 0.94 and linked["test_macro_f1"].dataset_digest == LINEAGE.data_md5
    dataset = client.get_run(tracking.run_id).inputs.dataset_inputs[0].dataset
    assert json.loads(dataset.source) == {"url": LINEAGE.data_url, "path": LINEAGE.data_path, "rev": LINEAGE.git_commit}


def test_predictor_code_is_the_core_the_serving_image_copies() -> None:
    copied = set()
    for line in (code_root() / "Dockerfile").read_text().splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and words[-1].startswith("./"):
            copied.update(Path(w) for w in words[1:-1] if w.endswith(".py"))
    assert set(predictor_code()) == copied | {Path("inference/pyfunc.py")}


def test_download_model_joins_the_pytorch_model_and_the_graphs(tracking: Registered, tmp_path: Path) -> None:
    from model_registry.artifacts import download_model

    local = download_model(f"models:/{NAME}@champion", tmp_path)
    assert {"model.safetensors", "model.int8.onnx", "model.onnx", "export_report.json"} <= {
        p.name for p in local.iterdir()
    }
    assert json.loads((local / "metadata.json").read_text())["model_version"] == tracking.version


def test_loaded_model_imports_neither_torch_nor_transformers(registered: Registered, tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "sys.modules.update({'torch': None, 'transformers': None})\n"  # importing either now fails
        "import mlflow\n"
        f"model = mlflow.pyfunc.load_model('models:/{NAME}@champion')\n"
        "print(model.predict(['translate hello into French'])[0]['intent'])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=_outside_env(registered), capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] in INTENTS


def test_mlflow_models_predict_on_a_registry_alias(registered: Registered, tmp_path: Path) -> None:
    (tmp_path / "input.json").write_text(json.dumps({"inputs": TEXTS}))
    proc = subprocess.run(
        [*MLFLOW_MODELS, "predict", "-m", f"models:/{NAME}@challenger", "-i", "input.json", "-o", "out.json", *LOCAL],
        cwd=tmp_path,
        env=_outside_env(registered),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    predictions = json.loads((tmp_path / "out.json").read_text())["predictions"]
    assert len(predictions) == len(TEXTS) and set(predictions[0]) == {"intent", "confidence", "probabilities"}


@pytest.fixture
def mlflow_serve(registered: Registered, tmp_path: Path) -> Iterator[str]:
    """`mlflow models serve` of @champion on a free port; its whole process group is killed afterwards."""
    port = free_port()
    with (tmp_path / "serve.log").open("wb") as log:
        proc = subprocess.Popen(
            [*MLFLOW_MODELS, "serve", "-m", f"models:/{NAME}@champion", *LOCAL, "-h", "127.0.0.1", "-p", str(port)],
            cwd=tmp_path,
            env=_outside_env(registered),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_http(f"http://127.0.0.1:{port}/ping", timeout=90)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def test_mlflow_models_serve_answers_invocations(mlflow_serve: str) -> None:
    request = urllib.request.Request(
        f"{mlflow_serve}/invocations",
        data=json.dumps({"inputs": TEXTS}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        predictions = json.loads(response.read())["predictions"]
    assert [set(p) for p in predictions] == [{"intent", "confidence", "probabilities"}] * len(TEXTS)
